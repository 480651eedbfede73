"""gz = x.grad kept without a copy: zero_() and the second backward overwrite it (gz == gy == 2x).

loses: ex04_detach.detach_grads
status: failed
hint: grad_not_cloned
"""


def detach_grads(x):
    x = x.detach().clone().requires_grad_(True)
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    gz = x.grad
    x.grad.zero_()
    y.sum().backward()
    gy = x.grad
    return gz, gy
