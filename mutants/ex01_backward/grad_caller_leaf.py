"""requires_grad_() on the caller's own tensor: right values, but x is left with .grad.

loses: ex01_backward.grad_of_2xtx
status: partial
"""


def grad_of_2xtx(x):
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad.detach().clone()
