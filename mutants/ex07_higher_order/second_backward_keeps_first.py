"""Two .backward() calls on one leaf without clearing x.grad in between: returns f′ + f″.

loses: ex07_higher_order.second_derivative
status: failed
hint: grad_kept
"""


def second_derivative(f, x):
    xs = x.detach().clone().requires_grad_(True)
    f(xs).sum().backward(create_graph=True)
    if not xs.grad.requires_grad:
        return torch.zeros_like(x)
    xs.grad.sum().backward()
    return xs.grad.detach().clone()
