"""Rows and columns swapped: J[j, i] = ∂gᵢ/∂pⱼ.

loses: ex02_jacobian.jacobian_polar
hint: transposed
"""


def jacobian_polar(p):
    r, theta = p[0], p[1]
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, s]), torch.stack([-r * s, r * c])])
