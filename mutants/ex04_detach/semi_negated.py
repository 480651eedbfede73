"""The semi-gradient with its sign flipped (descent direction returned): the "opposite sign"
mistake, which must not be read as a wrong TD target.

loses: ex04_detach.semi_gradient
status: failed
hint: sign
"""


def semi_gradient(w, s, s_next, r, gamma):
    w = w.detach().clone().requires_grad_(True)
    q = (w * s).sum()
    target = (r + gamma * (w * s_next).sum()).detach()
    loss = (q - target) ** 2
    loss.backward()
    return -w.grad.detach().clone()
