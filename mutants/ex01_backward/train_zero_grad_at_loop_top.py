"""w.grad.zero_() first in the loop, as optimizer.zero_grad() is placed: .grad is None on the first step.

loses: ex01_backward.train_linear_regression
status: error
hint: grad_none_first_step
"""


def train_linear_regression(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    for _ in range(steps):
        w.grad.zero_()
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
    return w.detach()
