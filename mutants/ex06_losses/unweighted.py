"""loss.sum().backward(): the sample weights are ignored.

loses: ex06_losses.weighted_loss_grad
status: failed
hint: unweighted
"""


def weighted_loss_grad(w, X, y, sample_weights):
    w = w.detach().clone().requires_grad_(True)
    loss = torch.nn.MSELoss(reduction="none")(X @ w, y)
    loss.sum().backward()
    return w.grad.detach().clone()
