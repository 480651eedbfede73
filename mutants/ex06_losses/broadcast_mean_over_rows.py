"""Sums the squared errors of a row and averages over the rows only: k times too large.

loses: ex06_losses.broadcast_grad
status: failed
hint: mean_all_entries
"""


def broadcast_grad(X, W, b, Y):
    W = W.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    ((X @ W + b - Y) ** 2).sum(dim=1).mean().backward()
    return W.grad.detach().clone(), b.grad.detach().clone()
