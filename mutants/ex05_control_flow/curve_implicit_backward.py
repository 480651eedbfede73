"""y.backward() on the non-scalar y = f(x): raises.

loses: ex05_control_flow.derivative_curve
status: error
hint: implicit_scalar
"""


def derivative_curve(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    y.backward()
    return x.grad.detach().clone()
