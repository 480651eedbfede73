"""The sum of squared errors instead of their mean.

loses: ex01_backward.train_linear_regression
status: failed
hint: mean_sum_swapped
"""


def train_linear_regression(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    return w.detach().clone()
