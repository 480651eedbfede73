"""Makes the broadcast b a leaf of shape (n, k): its gradient is never summed over the rows.

loses: ex06_losses.broadcast_grad
status: failed
hint: broadcast_not_summed
"""


def broadcast_grad(X, W, b, Y):
    W = W.detach().clone().requires_grad_(True)
    B = b.detach().expand(X.shape[0], -1).clone().requires_grad_(True)
    ((X @ W + B - Y) ** 2).mean().backward()
    return W.grad.detach().clone(), B.grad.detach().clone()
