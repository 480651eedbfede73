"""Power rule slip: ∂(x₂³)/∂x₂ written as 3·x₂ instead of 3·x₂².

loses: ex02_jacobian.jacobian_by_hand
status: failed
"""


def jacobian_by_hand(x):
    x1, x2 = x[0], x[1]
    one = torch.ones_like(x1)
    return torch.stack([torch.stack([2 * x1, one]), torch.stack([one, 3 * x2])])
