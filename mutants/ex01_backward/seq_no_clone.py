"""Appends x.grad itself (no clone) and then zeroes it: every entry is the same zeroed tensor.

loses: ex01_backward.sequential_grads
status: failed
hint: grad_cleared_too_soon
"""


def sequential_grads(x, fs):
    x = x.detach().clone().requires_grad_(True)
    grads = []
    for f in fs:
        f(x).backward()
        grads.append(x.grad)
        x.grad.zero_()
    return [g.detach() for g in grads]
