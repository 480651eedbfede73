"""Differentiates the first derivative again without create_graph=True (raises).

loses: ex07_higher_order.second_derivative
status: error
hint: create_graph
"""


def second_derivative(f, x):
    xs = x.detach().clone().requires_grad_(True)
    y = f(xs)
    (g,) = torch.autograd.grad(y, xs, grad_outputs=torch.ones_like(y))
    (g2,) = torch.autograd.grad(g, xs, grad_outputs=torch.ones_like(g))
    return g2.detach().clone()
