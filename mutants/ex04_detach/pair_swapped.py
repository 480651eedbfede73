"""Right gradients, returned in the other order: (gy, gz).

loses: ex04_detach.detach_grads
status: failed
hint: swapped_pair
"""


def detach_grads(x):
    x = x.detach().clone().requires_grad_(True)
    y = x * x
    u = y.detach()
    (u * x).sum().backward()
    gz = x.grad.detach().clone()
    x.grad.zero_()
    y.sum().backward()
    gy = x.grad.detach().clone()
    return gy, gz
