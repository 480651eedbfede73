"""requires_grad_() on the caller's a: the argument is left requiring grad, with a .grad.

loses: ex05_control_flow.control_flow_grad
status: partial
"""


def control_flow_grad(a):
    a.requires_grad_(True)
    d = f(a)
    d.sum().backward()
    return a.grad.detach().clone()
