"""Ignores the eps argument and always steps by 1e-6.

loses: ex08_custom_function.numerical_grad
status: partial
hint: eps_ignored
"""


def numerical_grad(f, x, eps=1e-6):
    x = x.detach()
    h = 1e-6
    grad = torch.zeros_like(x)
    flat = grad.reshape(-1)
    for i in range(x.numel()):
        step = torch.zeros(x.numel(), dtype=x.dtype)
        step[i] = h
        step = step.reshape(x.shape)
        flat[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad
