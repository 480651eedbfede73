"""backward differentiates forward again with autograd instead of writing σ(x).

loses: ex08_custom_function.softplus_grad
status: forbidden
"""


class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            leaf = x.detach().requires_grad_(True)
            y = torch.nn.functional.softplus(leaf)
            (g,) = torch.autograd.grad(y, leaf, grad_output)
        return g
