"""The TD target written r − γ·q(s′).

loses: ex04_detach.semi_gradient
status: failed
hint: target_sign
"""


def semi_gradient(w, s, s_next, r, gamma):
    w = w.detach().clone().requires_grad_(True)
    q = (w * s).sum()
    target = (r - gamma * (w * s_next).sum()).detach()
    loss = (q - target) ** 2
    loss.backward()
    return w.grad.detach().clone()
