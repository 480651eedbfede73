"""Converts an integer input to float64 instead of the default floating dtype.

loses: ex01_backward.grad_of_2xtx
status: partial
"""


def grad_of_2xtx(x):
    x = x.detach().clone() if x.is_floating_point() else x.detach().double()
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad.detach().clone()
