"""Two .backward() calls on one leaf without clearing x.grad in between: returns ∇f + H·v.

loses: ex07_higher_order.hvp
status: failed
hint: grad_kept
"""


def hvp(f, x, v):
    xs = x.detach().clone().requires_grad_(True)
    f(xs).backward(create_graph=True)
    if not xs.grad.requires_grad:
        return xs.grad.detach().clone()
    (xs.grad * v).sum().backward()
    return xs.grad.detach().clone()
