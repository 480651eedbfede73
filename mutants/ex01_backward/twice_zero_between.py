"""Clears .grad between the two calls, so the result is ∇f instead of 2·∇f.

loses: ex01_backward.backward_twice
status: failed
hint: one_backward_only
"""


def backward_twice(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    y.backward(retain_graph=True)
    x.grad.zero_()
    y.backward()
    return x.grad.detach().clone()
