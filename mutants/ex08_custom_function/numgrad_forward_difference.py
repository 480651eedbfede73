"""A one-sided difference (f(x + ε·eᵢ) − f(x)) / ε: its error is O(ε), not O(ε²).

loses: ex08_custom_function.numerical_grad
status: failed
hint: forward_difference
"""


def numerical_grad(f, x, eps=1e-6):
    x = x.detach()
    grad = torch.zeros_like(x)
    flat = grad.reshape(-1)
    base = f(x)
    for i in range(x.numel()):
        step = torch.zeros(x.numel(), dtype=x.dtype)
        step[i] = eps
        flat[i] = (f(x + step.reshape(x.shape)) - base) / eps
    return grad
