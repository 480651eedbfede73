"""Right values, but the entries are rows of one stacked tensor: they share memory.

loses: ex01_backward.sequential_grads
status: partial
"""


def sequential_grads(x, fs):
    x = x.detach().clone().requires_grad_(True)
    grads = []
    for f in fs:
        f(x).backward()
        grads.append(x.grad.detach().clone())
        x.grad.zero_()
    return list(torch.stack(grads))
