"""backward(gradient=task_weights) with the weights as given: a list of numbers is not a tensor.

loses: ex03_vjp.multitask_grads
status: partial
hint: tensor_expected
"""


def multitask_grads(task_losses, params, task_weights):
    leaves = tuple(p.detach().clone().requires_grad_(True) for p in params)
    losses = task_losses(*leaves)
    losses.backward(gradient=task_weights)
    return tuple(torch.zeros_like(l) if l.grad is None else l.grad.detach().clone() for l in leaves)
