"""Ignores the task weights: backward on the plain sum of the losses.

loses: ex03_vjp.multitask_grads
status: failed
hint: unweighted
"""


def multitask_grads(task_losses, params, task_weights):
    leaves = tuple(p.detach().clone().requires_grad_(True) for p in params)
    task_losses(*leaves).sum().backward()
    return tuple(torch.zeros_like(l) if l.grad is None else l.grad.detach().clone() for l in leaves)
