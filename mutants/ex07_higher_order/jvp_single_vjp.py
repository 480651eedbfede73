"""One reverse pass with u as grad_outputs: Jᵀ·u, not J·u (and a shape error when f is not square).

loses: ex07_higher_order.jvp_by_double_backward
status: failed
hint: jtv_not_jv
"""


def jvp_by_double_backward(f, x, u):
    xs = x.detach().clone().requires_grad_(True)
    y = f(xs)
    (g,) = torch.autograd.grad(y, xs, grad_outputs=u.reshape(y.shape))
    return g.reshape(y.shape).detach().clone()
