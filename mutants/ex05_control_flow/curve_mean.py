"""y.mean().backward(): every derivative divided by len(x).

loses: ex05_control_flow.derivative_curve
status: failed
hint: mean_sum_swapped
"""


def derivative_curve(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    y.mean().backward()
    return x.grad.detach().clone()
