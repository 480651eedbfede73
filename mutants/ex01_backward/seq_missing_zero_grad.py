"""The shipped bug left in place: x.grad is never cleared between functions.

loses: ex01_backward.sequential_grads
status: failed
hint: accumulated
"""


def sequential_grads(x, fs):
    x = x.detach().clone().requires_grad_(True)
    grads = []
    for f in fs:
        y = f(x)
        if y.requires_grad:
            y.backward()
        if x.grad is None:
            grads.append(torch.zeros_like(x))
        else:
            grads.append(x.grad.detach().clone())
    return grads
