"""d.backward() as in d2l's scalar example: fails for a vector or matrix a.

loses: ex05_control_flow.control_flow_grad
status: error
hint: implicit_scalar
"""


def control_flow_grad(a):
    a = a.detach().clone().requires_grad_(True)
    d = f(a)
    d.backward()
    return a.grad.detach().clone()
