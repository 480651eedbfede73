"""retain_graph=True on the first backward pass only: the third v raises (the check with two v's passes).

loses: ex03_vjp.vjps_on_one_graph
status: partial
hint: retain_graph
"""


def vjps_on_one_graph(f, x, vs):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    out = []
    for i, v in enumerate(vs):
        x.grad = None
        y.backward(gradient=v, retain_graph=(i == 0))
        out.append(x.grad.clone())
    return out
