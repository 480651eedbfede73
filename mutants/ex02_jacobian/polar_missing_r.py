"""The θ column without its factor r: −sin θ and cos θ.

loses: ex02_jacobian.jacobian_polar
status: failed
hint: entry_slip
"""


def jacobian_polar(p):
    r, theta = p[0], p[1]
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, -s]), torch.stack([s, c])])
