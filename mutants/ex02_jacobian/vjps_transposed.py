"""Each VJP stacked as a column (stack(..., dim=-1)) instead of a row: Jᵀ for vectors.

loses: ex02_jacobian.jacobian_from_vjps
status: partial
hint: transposed
"""


def jacobian_from_vjps(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    if not y.requires_grad:
        return x.new_zeros(y.shape + x.shape)
    grads = []
    for i in range(y.numel()):
        v = torch.zeros(y.numel(), dtype=y.dtype)
        v[i] = 1
        (g,) = torch.autograd.grad(y, x, grad_outputs=v.reshape(y.shape), retain_graph=True)
        grads.append(g)
    return torch.stack(grads, dim=-1).reshape(y.shape + x.shape).detach()
