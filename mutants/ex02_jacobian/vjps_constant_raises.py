"""No case for an output that ignores x: autograd.grad raises on a y without grad_fn.

loses: ex02_jacobian.jacobian_from_vjps
status: partial
hint: disconnected_output
"""


def jacobian_from_vjps(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    rows = []
    for i in range(y.numel()):
        v = torch.zeros(y.numel(), dtype=y.dtype)
        v[i] = 1
        (g,) = torch.autograd.grad(y, x, grad_outputs=v.reshape(y.shape), retain_graph=True)
        rows.append(g)
    return torch.stack(rows).reshape(y.shape + x.shape).detach()
