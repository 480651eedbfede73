"""Works on the caller's tensor itself: right values, but x is left with requires_grad and .grad.

loses: ex01_backward.backward_twice
status: partial
"""


def backward_twice(f, x):
    x.requires_grad_(True)
    y = f(x)
    y.backward(retain_graph=True)
    y.backward()
    return x.grad.detach().clone()
