"""No x.grad.zero_() between the two backward passes: gy = x² + 2x.

loses: ex04_detach.detach_grads
status: failed
hint: grad_not_cleared
"""


def detach_grads(x):
    x = x.detach().clone().requires_grad_(True)
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    gz = x.grad.detach().clone()
    y.sum().backward()
    gy = x.grad.detach().clone()
    return gz, gy
