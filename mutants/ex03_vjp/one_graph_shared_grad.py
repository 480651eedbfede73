"""Stores x.grad itself and zeroes it in place: every entry is the one .grad tensor.

loses: ex03_vjp.vjps_on_one_graph
status: failed
hint: grad_not_cloned
"""


def vjps_on_one_graph(f, x, vs):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    grads = []
    for v in vs:
        if x.grad is not None:
            x.grad.zero_()
        y.backward(gradient=v, retain_graph=True)
        grads.append(x.grad)
    return grads
