"""l.grad.clone() for every leaf: raises on the parameter that no task uses (its .grad is None).

Only the check of that rule may charge it: the weighting is right.

loses: ex03_vjp.multitask_grads
status: partial
hint: none_grad
"""


def multitask_grads(task_losses, params, task_weights):
    leaves = [p.detach().clone().requires_grad_(True) for p in params]
    losses = task_losses(*leaves)
    losses.backward(gradient=torch.as_tensor(task_weights, dtype=losses.dtype))
    return tuple(l.grad.clone() for l in leaves)
