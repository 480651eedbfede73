"""Converts x with .float(): a float64 input gets a float32 answer.

loses: ex03_vjp.vjp
status: partial
"""


def vjp(f, x, v):
    xs = x.detach().float().requires_grad_(True)
    y = f(xs.to(x.dtype))
    y.backward(gradient=v)
    return xs.grad.detach().clone()
