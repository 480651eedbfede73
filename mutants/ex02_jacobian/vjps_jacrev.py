"""torch.func.jacrev instead of one backward pass per output element.

loses: ex02_jacobian.jacobian_from_vjps
status: forbidden
"""


def jacobian_from_vjps(f, x):
    return torch.func.jacrev(f)(x.detach().clone()).detach()
