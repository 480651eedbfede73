"""Calls requires_grad_() on the caller's x and leaves .grad on it.

loses: ex03_vjp.vjp
status: partial
"""


def vjp(f, x, v):
    x.requires_grad_(True)
    y = f(x)
    y.backward(gradient=v)
    return x.grad.detach().clone()
