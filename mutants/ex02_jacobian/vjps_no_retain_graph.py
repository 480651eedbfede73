"""The graph is freed by the first backward pass: no retain_graph=True.

loses: ex02_jacobian.jacobian_from_vjps
hint: retain_graph
"""


def jacobian_from_vjps(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    rows = x.new_zeros((y.numel(),) + x.shape)
    if y.requires_grad:
        for i in range(y.numel()):
            v = torch.zeros(y.numel(), dtype=y.dtype)
            v[i] = 1
            (g,) = torch.autograd.grad(y, x, grad_outputs=v.reshape(y.shape), allow_unused=True)
            if g is not None:
                rows[i] = g
    return rows.reshape(y.shape + x.shape).detach()
