"""The dummy cotangent w = torch.zeros_like(y) without requires_grad: the second pass raises.

loses: ex07_higher_order.jvp_by_double_backward
status: error
hint: wrt_no_grad
"""


def jvp_by_double_backward(f, x, u):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    w = torch.zeros_like(y)
    (g,) = torch.autograd.grad(y, x, grad_outputs=w, create_graph=True)
    (ju,) = torch.autograd.grad(g, w, grad_outputs=u)
    return ju
