"""Returns .grad as it is: None for the parameter that no task uses, instead of zeros.

loses: ex03_vjp.multitask_grads
status: partial
hint: unused_param
"""


def multitask_grads(task_losses, params, task_weights):
    leaves = tuple(p.detach().clone().requires_grad_(True) for p in params)
    losses = task_losses(*leaves)
    losses.backward(gradient=torch.as_tensor(task_weights, dtype=losses.dtype))
    return tuple(None if l.grad is None else l.grad.detach().clone() for l in leaves)
