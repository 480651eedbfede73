"""Writes the gradient out as a formula instead of computing it with autograd.

loses: ex01_backward.grad_of_2xtx
status: failed
"""


def grad_of_2xtx(x):
    x = x.detach().clone() if x.is_floating_point() else x.detach().to(torch.get_default_dtype())
    return 4 * x
