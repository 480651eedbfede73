"""Ignores v: y.sum().backward() gives Jᵀ·1, not Jᵀ·v.

loses: ex03_vjp.vjp
status: failed
hint: ignored_v
"""


def vjp(f, x, v):
    xs = x.detach().clone().requires_grad_(True)
    f(xs).sum().backward()
    return xs.grad.detach().clone()
