"""create_graph=True, then g.detach() @ v: the first derivative is cut from its graph (raises).

loses: ex07_higher_order.hvp
status: error
hint: create_graph
"""


def hvp(f, x, v):
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (g.detach() * v).sum().backward()
    return x.grad.clone()
