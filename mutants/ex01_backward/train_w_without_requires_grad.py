"""w made without requires_grad=True: the first backward() has nothing to differentiate.

loses: ex01_backward.train_linear_regression
status: error
hint: loss_not_tracked
"""


def train_linear_regression(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    return w.detach().clone()
