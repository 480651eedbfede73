"""The TD target is not detached: the full gradient 2(q − target)(s − γ·s_next).

loses: ex04_detach.semi_gradient
status: failed
hint: target_not_detached
"""


def semi_gradient(w, s, s_next, r, gamma):
    w = w.detach().clone().requires_grad_(True)
    q = (w * s).sum()
    target = r + gamma * (w * s_next).sum()
    loss = (q - target) ** 2
    loss.backward()
    return w.grad.detach().clone()
