"""(sample_weights * loss).mean().backward(): the weighted sum divided by n.

loses: ex06_losses.weighted_loss_grad
status: failed
hint: mean_sum_swapped
"""


def weighted_loss_grad(w, X, y, sample_weights):
    w = w.detach().clone().requires_grad_(True)
    loss = torch.nn.MSELoss(reduction="none")(X @ w, y)
    (sample_weights * loss).mean().backward()
    return w.grad.detach().clone()
