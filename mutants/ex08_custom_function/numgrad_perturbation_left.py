"""Perturbs x in place and never restores it: x is changed, and later entries are
taken at a shifted point.

loses: ex08_custom_function.numerical_grad
status: failed
"""


def numerical_grad(f, x, eps=1e-6):
    flat = x.view(-1)
    grad = torch.zeros_like(x)
    out = grad.view(-1)
    for i in range(x.numel()):
        flat[i] += eps
        plus = f(x)
        flat[i] -= 2 * eps
        minus = f(x)
        out[i] = (plus - minus) / (2 * eps)
    return grad
