"""The semi-gradient by hand, (q − target)·s: the 2 of the square is lost.

loses: ex04_detach.semi_gradient
status: failed
hint: factor
"""


def semi_gradient(w, s, s_next, r, gamma):
    w = w.detach().clone()
    q = (w * s).sum()
    target = r + gamma * (w * s_next).sum()
    return ((q - target) * s).detach().clone()
