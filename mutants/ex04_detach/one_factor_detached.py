"""u = x.detach() * x: only one factor detached, so gz = 2x² from the first backward pass.

loses: ex04_detach.detach_grads
status: failed
hint: one_factor_detached
"""


def detach_grads(x):
    x = x.detach().clone().requires_grad_(True)
    u = x.detach() * x
    z = u * x
    z.sum().backward()
    gz = x.grad.detach().clone()
    x.grad.zero_()
    y = x * x
    y.sum().backward()
    gy = x.grad.detach().clone()
    return gz, gy
