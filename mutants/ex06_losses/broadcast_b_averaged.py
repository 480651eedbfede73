"""Averages the rows' gradients into ∇b instead of summing them.

loses: ex06_losses.broadcast_grad
status: failed
hint: broadcast_not_summed
"""


def broadcast_grad(X, W, b, Y):
    W = W.detach().clone().requires_grad_(True)
    B = b.detach().expand(X.shape[0], -1).clone().requires_grad_(True)
    ((X @ W + B - Y) ** 2).mean().backward()
    return W.grad.detach().clone(), B.grad.mean(dim=0).detach().clone()
