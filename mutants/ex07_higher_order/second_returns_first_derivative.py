"""Stops after one pass: returns f′(x) instead of f″(x).

loses: ex07_higher_order.second_derivative
status: failed
hint: first_derivative
"""


def second_derivative(f, x):
    xs = x.detach().clone().requires_grad_(True)
    y = f(xs)
    (g,) = torch.autograd.grad(y, xs, grad_outputs=torch.ones_like(y), create_graph=True)
    return g.detach().clone()
