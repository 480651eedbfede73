"""requires_grad on an integer tensor: no conversion to a floating dtype first.

loses: ex01_backward.grad_of_2xtx
status: partial
hint: integer_grad
"""


def grad_of_2xtx(x):
    x = x.detach().clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad.detach().clone()
