"""w.grad.zero_() between backward() and the update: every step subtracts lr·0.

loses: ex01_backward.train_linear_regression
status: failed
hint: w_never_moved
"""


def train_linear_regression(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        w.grad.zero_()
        with torch.no_grad():
            w -= lr * w.grad
    return w.detach()
