"""retain_graph=True but x.grad never cleared: each entry adds the earlier v's.

loses: ex03_vjp.vjps_on_one_graph
status: failed
hint: accumulated
"""


def vjps_on_one_graph(f, x, vs):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    grads = []
    for v in vs:
        y.backward(gradient=v, retain_graph=True)
        grads.append(x.grad.detach().clone())
    return grads
