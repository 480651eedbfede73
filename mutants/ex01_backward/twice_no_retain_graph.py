"""The first backward frees the graph: no retain_graph=True (fine only when f saves nothing).

loses: ex01_backward.backward_twice
status: partial
hint: retain_graph
"""


def backward_twice(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    y.backward()
    y.backward()
    return x.grad.detach().clone()
