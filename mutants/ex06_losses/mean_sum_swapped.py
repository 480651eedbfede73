"""Returns (grad of the sum, grad of the mean): the two swapped.

loses: ex06_losses.loss_grads
status: failed
hint: mean_sum_swapped
"""


def loss_grads(w, X, y):
    w = w.detach().clone().requires_grad_(True)
    loss = torch.nn.MSELoss(reduction="none")(X @ w, y)
    loss.sum().backward(retain_graph=True)
    g_sum = w.grad.detach().clone()
    w.grad.zero_()
    loss.mean().backward()
    g_mean = w.grad.detach().clone()
    return g_sum, g_mean
