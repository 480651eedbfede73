"""backward takes σ of forward's output, softplus(x), instead of σ of its input x.

loses: ex08_custom_function.softplus_grad
status: failed
hint: sigmoid_of_output
"""


class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(y)
