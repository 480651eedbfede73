"""y = 4·xᵀx instead of 2·xᵀx, one backward pass: every answer is twice the right one.
A wrong coefficient, not accumulated gradients.

loses: ex01_backward.grad_of_2xtx
status: failed
hint: factor
"""


def grad_of_2xtx(x):
    x = x.detach().to(x.dtype if x.is_floating_point() else torch.get_default_dtype()).clone()
    x.requires_grad_(True)
    y = 4 * torch.dot(x, x)
    y.backward()
    return x.grad.detach().clone()
