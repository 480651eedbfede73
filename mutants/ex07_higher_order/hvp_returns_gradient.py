"""Stops after one pass: returns the gradient ∇f instead of H·v.

loses: ex07_higher_order.hvp
status: failed
hint: first_derivative
"""


def hvp(f, x, v):
    xs = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(xs), xs)
    return g.detach().clone()
