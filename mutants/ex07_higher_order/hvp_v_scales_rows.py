"""Multiplies H·1 by v entry by entry instead of back-propagating v: (H·1) ⊙ v, not H·v.

loses: ex07_higher_order.hvp
status: failed
"""


def hvp(f, x, v):
    xs = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(xs), xs, create_graph=True)
    if not g.requires_grad:
        return torch.zeros_like(x)
    (h1,) = torch.autograd.grad(g.sum(), xs)
    return (h1 * v).detach()
