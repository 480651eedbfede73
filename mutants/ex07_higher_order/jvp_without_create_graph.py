"""The first reverse pass without create_graph=True: Jᵀw cannot be differentiated with respect to w (raises).

loses: ex07_higher_order.jvp_by_double_backward
status: error
hint: create_graph
"""


def jvp_by_double_backward(f, x, u):
    xs = x.detach().clone().requires_grad_(True)
    y = f(xs)
    w = torch.zeros_like(y, requires_grad=True)
    (g,) = torch.autograd.grad(y, xs, grad_outputs=w)
    (ju,) = torch.autograd.grad(g, w, grad_outputs=u)
    return ju.detach().clone()
