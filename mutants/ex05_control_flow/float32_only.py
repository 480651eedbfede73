"""Converts a to float32 (.float()): a float64 input gets a float32 answer.

loses: ex05_control_flow.control_flow_grad
status: partial
"""


def control_flow_grad(a):
    a = a.detach().float().requires_grad_(True)
    d = f(a)
    d.sum().backward()
    return a.grad.detach().clone()
