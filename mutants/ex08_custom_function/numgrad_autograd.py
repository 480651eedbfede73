"""Returns autograd's gradient instead of the finite-difference estimate.

loses: ex08_custom_function.numerical_grad
status: forbidden
"""


def numerical_grad(f, x, eps=1e-6):
    leaf = x.detach().clone().requires_grad_(True)
    f(leaf).backward()
    return leaf.grad.detach().clone()
