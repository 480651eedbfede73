"""backward returns σ(x) and forgets to multiply by grad_output.

loses: ex08_custom_function.softplus_grad
status: failed
hint: forgot_grad_output
"""


class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.sigmoid(x)
