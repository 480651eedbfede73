"""w = w - lr * w.grad outside no_grad: w becomes a non-leaf and its .grad is None next step.

loses: ex01_backward.train_linear_regression
status: error
hint: rebound_leaf
"""


def train_linear_regression(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        w = w - lr * w.grad
    return w.detach().clone()
