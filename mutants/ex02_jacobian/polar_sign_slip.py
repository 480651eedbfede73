"""Sign slip: d(cos θ)/dθ taken as +sin θ.

loses: ex02_jacobian.jacobian_polar
status: failed
"""


def jacobian_polar(p):
    r, theta = p[0], p[1]
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, r * s]), torch.stack([s, r * c])])
