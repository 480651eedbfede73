"""Lets autograd do the "by hand" task: torch.autograd.functional.jacobian.

loses: ex02_jacobian.jacobian_by_hand
status: forbidden
"""


def jacobian_by_hand(x):
    def f(t):
        return torch.stack([t[0] ** 2 + t[1], t[0] + t[1] ** 3])

    return torch.autograd.functional.jacobian(f, x)
