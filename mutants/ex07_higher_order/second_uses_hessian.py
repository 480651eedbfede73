"""Uses torch.autograd.functional.hessian, which the task does not allow.

loses: ex07_higher_order.second_derivative
status: forbidden
"""


def second_derivative(f, x):
    n = x.numel()
    H = torch.autograd.functional.hessian(lambda t: f(t).sum(), x.detach())
    return H.reshape(n, n).diagonal().reshape(x.shape).clone()
