"""Lets autograd do the closed-form task: torch.autograd.functional.jacobian.

loses: ex02_jacobian.jacobian_polar
status: forbidden
"""


def jacobian_polar(p):
    def g(q):
        return torch.stack([q[0] * torch.cos(q[1]), q[0] * torch.sin(q[1])])

    return torch.autograd.functional.jacobian(g, p)
