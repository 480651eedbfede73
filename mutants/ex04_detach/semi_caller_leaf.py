"""requires_grad_() on the caller's w: the argument is left requiring grad, with a .grad.

loses: ex04_detach.semi_gradient
status: partial
"""


def semi_gradient(w, s, s_next, r, gamma):
    w.requires_grad_(True)
    q = (w * s).sum()
    target = (r + gamma * (w * s_next).sum()).detach()
    loss = (q - target) ** 2
    loss.backward()
    return w.grad.detach().clone()
