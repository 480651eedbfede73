"""Keeps the leaves of an earlier call with the same parameters and never clears their .grad:
a second call adds to the first.

loses: ex03_vjp.multitask_grads
status: partial
hint: accumulated
"""

_LEAVES = {}


def multitask_grads(task_losses, params, task_weights):
    key = tuple((tuple(p.shape), str(p.dtype), tuple(p.detach().reshape(-1).tolist())) for p in params)
    if key not in _LEAVES:
        _LEAVES[key] = tuple(p.detach().clone().requires_grad_(True) for p in params)
    leaves = _LEAVES[key]
    losses = task_losses(*leaves)
    losses.backward(gradient=torch.as_tensor(task_weights, dtype=losses.dtype))
    return tuple(torch.zeros_like(l) if l.grad is None else l.grad.detach().clone() for l in leaves)
