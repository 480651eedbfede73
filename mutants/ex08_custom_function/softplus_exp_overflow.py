"""σ(x) written as eˣ / (1 + eˣ): inf / inf is NaN for large x.

loses: ex08_custom_function.softplus_grad
status: partial
hint: unstable_sigmoid
"""


class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        e = torch.exp(x)
        return grad_output * e / (1 + e)
