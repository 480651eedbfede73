"""x ± (ε/2)·eᵢ, still divided by 2ε: half the central difference.

loses: ex08_custom_function.numerical_grad
status: failed
hint: central_half_step
"""


def numerical_grad(f, x, eps=1e-6):
    x = x.detach()
    flat = x.reshape(-1)
    out = torch.empty_like(flat)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = eps / 2
        out[i] = (f((flat + step).reshape(x.shape)) - f((flat - step).reshape(x.shape))) / (2 * eps)
    return out.reshape(x.shape)
