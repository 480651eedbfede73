"""Forward-mode AD with torch.autograd.forward_ad, which the task does not allow.

loses: ex07_higher_order.jvp_by_double_backward
status: forbidden
"""


def jvp_by_double_backward(f, x, u):
    import torch.autograd.forward_ad as fwAD

    with fwAD.dual_level():
        dual = fwAD.make_dual(x.detach().clone(), u.detach().clone())
        return fwAD.unpack_dual(f(dual)).tangent.detach().clone()
