"""No w.grad.zero_() between the two backward passes: the sum's gradient holds the mean's too.

loses: ex06_losses.loss_grads
status: failed
hint: grad_not_cleared
"""


def loss_grads(w, X, y):
    w = w.detach().clone().requires_grad_(True)
    loss = torch.nn.MSELoss(reduction="none")(X @ w, y)
    loss.mean().backward(retain_graph=True)
    g_mean = w.grad.detach().clone()
    loss.sum().backward()
    g_sum = w.grad.detach().clone()
    return g_mean, g_sum
