"""Builds J with torch.tensor([...]) from Python floats: always float32, even for a float64 x.

loses: ex02_jacobian.jacobian_by_hand
status: partial
"""


def jacobian_by_hand(x):
    x1, x2 = x[0].item(), x[1].item()
    return torch.tensor([[2 * x1, 1.0], [1.0, 3 * x2**2]])
