"""Returns x.grad from a create_graph=True backward: still attached to the graph.

loses: ex05_control_flow.derivative_curve
status: partial
"""


def derivative_curve(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    y.backward(torch.ones_like(y), create_graph=True)
    return x.grad.clone()
