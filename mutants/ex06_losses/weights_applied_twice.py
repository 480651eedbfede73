"""The weights inside the sum and again as gradient=: each sample weighted by sᵢ².

loses: ex06_losses.weighted_loss_grad
status: failed
hint: weighted_twice
"""


def weighted_loss_grad(w, X, y, sample_weights):
    w = w.detach().clone().requires_grad_(True)
    losses = torch.nn.MSELoss(reduction="none")(X @ w, y)
    (losses * sample_weights).backward(gradient=sample_weights)
    return w.grad.detach().clone()
