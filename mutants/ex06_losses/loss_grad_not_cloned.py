"""g_mean = w.grad without .clone(): zero_() and the sum's backward pass overwrite it in place.

loses: ex06_losses.loss_grads
status: failed
hint: grad_not_cloned
"""


def loss_grads(w, X, y):
    w = w.detach().clone().requires_grad_(True)
    loss = torch.nn.MSELoss(reduction="none")(X @ w, y)
    loss.mean().backward(retain_graph=True)
    g_mean = w.grad
    w.grad.zero_()
    loss.sum().backward()
    return g_mean, w.grad
