"""backward(gradient=..., create_graph=True): the returned w.grad is still attached to the graph.

loses: ex06_losses.weighted_loss_grad
status: partial
"""


def weighted_loss_grad(w, X, y, sample_weights):
    w = w.detach().clone().requires_grad_(True)
    loss = torch.nn.MSELoss(reduction="none")(X @ w, y)
    loss.backward(gradient=sample_weights, create_graph=True)
    return w.grad.clone()
