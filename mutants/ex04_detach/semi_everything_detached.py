"""q detached as well as the target: the loss is a constant and backward raises.

loses: ex04_detach.semi_gradient
status: error
hint: no_grad_on_input
"""


def semi_gradient(w, s, s_next, r, gamma):
    w = w.detach().clone().requires_grad_(True)
    q = torch.dot(w, s)
    target = r + gamma * torch.dot(w, s_next)
    loss = (q.detach() - target.detach()) ** 2
    loss.backward()
    return w.grad.clone()
