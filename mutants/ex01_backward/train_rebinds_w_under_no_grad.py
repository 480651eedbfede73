"""w = w - lr * w.grad under torch.no_grad(): w becomes a tensor that needs no grad.

loses: ex01_backward.train_linear_regression
status: error
hint: rebound_under_no_grad
"""


def train_linear_regression(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w = w - lr * w.grad
    return w.detach()
