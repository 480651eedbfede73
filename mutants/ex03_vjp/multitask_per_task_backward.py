"""One backward per task, L[i].backward(), weighting .grad each time without clearing it:
task j's gradient is counted with every later task's weight too.

loses: ex03_vjp.multitask_grads
status: failed
hint: accumulated_across_tasks
"""


def multitask_grads(task_losses, params, task_weights):
    leaves = tuple(p.detach().clone().requires_grad_(True) for p in params)
    losses = task_losses(*leaves)
    weights = torch.as_tensor(task_weights, dtype=losses.dtype)
    totals = [torch.zeros_like(l) for l in leaves]
    for i in range(losses.shape[0]):
        losses[i].backward(retain_graph=True)
        for total, leaf in zip(totals, leaves):
            if leaf.grad is not None:
                total += weights[i] * leaf.grad
    return tuple(t.detach().clone() for t in totals)
