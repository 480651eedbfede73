"""Forward-over-reverse with torch.func, which the task does not allow.

loses: ex07_higher_order.hvp
status: forbidden
"""


def hvp(f, x, v):
    return torch.func.jvp(torch.func.grad(f), (x.detach(),), (v.detach(),))[1].detach().clone()
