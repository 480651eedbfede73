"""Gradients from torch.autograd.grad(..., create_graph=True): still attached to the graph.

loses: ex06_losses.loss_grads
status: partial
"""


def loss_grads(w, X, y):
    w = w.detach().clone().requires_grad_(True)
    loss = torch.nn.MSELoss(reduction="none")(X @ w, y)
    (g_mean,) = torch.autograd.grad(loss.mean(), w, retain_graph=True, create_graph=True)
    (g_sum,) = torch.autograd.grad(loss.sum(), w, create_graph=True)
    return g_mean, g_sum
