"""u = x*x without .detach(): the gradient flows through u too, gz = 3x².

(The student hit "backward through the graph a second time" and added retain_graph=True.)

loses: ex04_detach.detach_grads
status: failed
hint: not_detached
"""


def detach_grads(x):
    x = x.detach().clone().requires_grad_(True)
    y = x * x
    u = y
    z = u * x
    z.sum().backward(retain_graph=True)
    gz = x.grad.detach().clone()
    x.grad.zero_()
    y.sum().backward()
    gy = x.grad.detach().clone()
    return gz, gy
