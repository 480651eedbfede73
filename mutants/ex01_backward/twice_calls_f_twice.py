"""f(x).backward() twice: a new graph for the second pass instead of retain_graph=True.

loses: ex01_backward.backward_twice
status: failed
hint: f_called_twice
"""


def backward_twice(f, x):
    x = x.detach().clone().requires_grad_(True)
    f(x).backward()
    f(x).backward()
    return x.grad.clone()
