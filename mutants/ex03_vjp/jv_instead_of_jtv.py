"""J·v instead of Jᵀ·v: the Jacobian multiplied by v on the wrong side.

loses: ex03_vjp.vjp
status: partial
hint: jv_not_jtv
"""


def vjp(f, x, v):
    xs = x.detach().clone().requires_grad_(True)
    y = f(xs)
    rows = []
    for i in range(y.numel()):
        (g,) = torch.autograd.grad(y.reshape(-1)[i], xs, retain_graph=True)
        rows.append(g.reshape(-1))
    J = torch.stack(rows)
    if J.shape[0] == J.shape[1]:
        return (J @ v.reshape(-1)).reshape(y.shape).detach()
    return (J.T @ v.reshape(-1)).reshape(x.shape).detach()
