"""The shipped bug left in place: w.grad is never cleared between steps.

loses: ex01_backward.train_linear_regression
status: failed
hint: accumulated
"""


def train_linear_regression(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
    return w.detach().clone()
