"""Returns the flattened 2-D Jacobian (y.numel(), x.numel()) instead of f(x).shape + x.shape.

loses: ex02_jacobian.jacobian_from_vjps
status: partial
"""


def jacobian_from_vjps(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    rows = x.new_zeros((y.numel(), x.numel()))
    if y.requires_grad:
        for i in range(y.numel()):
            v = torch.zeros(y.numel(), dtype=y.dtype)
            v[i] = 1
            (g,) = torch.autograd.grad(y, x, grad_outputs=v.reshape(y.shape), retain_graph=True,
                                       allow_unused=True)
            if g is not None:
                rows[i] = g.reshape(-1)
    return rows.detach()
