"""The note's test_with_v as shipped: no retain_graph, so the second v raises.

loses: ex03_vjp.vjps_on_one_graph
status: error
hint: retain_graph
"""


def vjps_on_one_graph(f, x, vs):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)

    def test_with_v(v):
        x.grad = None
        y.backward(gradient=v)
        return x.grad.detach().clone()

    return [test_with_v(v) for v in vs]
