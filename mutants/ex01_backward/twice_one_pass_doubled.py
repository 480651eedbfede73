"""One backward pass, its gradient doubled: the right number without the second pass.

loses: ex01_backward.backward_twice
status: failed
"""


def backward_twice(f, x):
    x = x.detach().clone().requires_grad_(True)
    f(x).backward()
    return 2 * x.grad
