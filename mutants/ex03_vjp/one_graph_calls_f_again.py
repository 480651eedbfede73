"""Rebuilds y = f(x) for every v instead of reusing one graph.

loses: ex03_vjp.vjps_on_one_graph
status: failed
hint: f_called_again
"""


def vjps_on_one_graph(f, x, vs):
    grads = []
    for v in vs:
        leaf = x.detach().clone().requires_grad_(True)
        f(leaf).backward(gradient=v)
        grads.append(leaf.grad.detach().clone())
    return grads
