"""Uses torch.autograd.functional.vjp, which the task does not allow.

loses: ex03_vjp.vjp
status: forbidden
"""


def vjp(f, x, v):
    return torch.autograd.functional.vjp(f, x.detach(), v.detach())[1].clone()
