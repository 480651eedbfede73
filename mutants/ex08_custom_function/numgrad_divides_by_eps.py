"""Central difference divided by ε instead of 2ε: twice the gradient.

loses: ex08_custom_function.numerical_grad
status: failed
hint: central_two_eps
"""


def numerical_grad(f, x, eps=1e-6):
    x = x.detach()
    grad = torch.zeros_like(x)
    flat = grad.reshape(-1)
    for i in range(x.numel()):
        step = torch.zeros(x.numel(), dtype=x.dtype)
        step[i] = eps
        step = step.reshape(x.shape)
        flat[i] = (f(x + step) - f(x - step)) / eps
    return grad
