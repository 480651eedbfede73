"""(losses * w).mean().backward(): the mean of the weighted losses, not their sum.

loses: ex03_vjp.multitask_grads
status: failed
hint: mean_over_tasks
"""


def multitask_grads(task_losses, params, task_weights):
    leaves = tuple(p.detach().clone().requires_grad_(True) for p in params)
    losses = task_losses(*leaves)
    weights = torch.as_tensor(task_weights, dtype=losses.dtype)
    (losses * weights).mean().backward()
    return tuple(torch.zeros_like(l) if l.grad is None else l.grad.detach().clone() for l in leaves)
