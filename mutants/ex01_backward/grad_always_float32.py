"""Always computes in float32 (x.float()), so a float64 input loses its dtype.

loses: ex01_backward.grad_of_2xtx
status: partial
"""


def grad_of_2xtx(x):
    x = x.detach().float().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad.detach().clone()
