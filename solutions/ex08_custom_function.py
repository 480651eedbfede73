"""Reference solutions, ex08: a custom autograd Function's backward, and gradient checks.

参考答案，练习 08：自定义 autograd Function 的 backward，以及梯度检验。
"""

from __future__ import annotations

from typing import Callable

import torch


class SmoothReLU(torch.autograd.Function):
    """softplus(x) = log(1 + eˣ), a smooth ReLU, with a backward that you write.

    forward is given: it computes softplus in a numerically stable way and saves
    its input for backward. Write backward.

    softplus(x) = log(1 + eˣ)，一个平滑的 ReLU；其 backward 由你来写。

    forward 已经给出：它以数值稳定的方式计算 softplus，并为 backward 保存了输入。
    请写出 backward。
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        # log(1 + eˣ) = max(x, 0) + log(1 + e^{-|x|}): eˣ itself would overflow for large x.
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        """Return grad_output · softplus′(x), where x is what forward saved.

        Math: softplus′(x) = eˣ / (1 + eˣ) = σ(x), the logistic sigmoid. By the chain
        rule the gradient with respect to x is grad_output · σ(x), elementwise.
        Read x from ctx.saved_tensors; compute σ(x) so that it neither overflows nor
        gives NaN for large |x| (x = ±500 included).

        Not allowed inside backward: autograd (torch.autograd.grad, backward,
        enable_grad), i.e. differentiating forward again. Write the derivative.

        Example: x = [0.], grad_output = [2.]  →  tensor([1.])   (2 · σ(0) = 2 · 0.5)

        中文说明
        --------
        返回 grad_output · softplus′(x)，其中 x 是 forward 保存下来的输入。

        数学：softplus′(x) = eˣ / (1 + eˣ) = σ(x)，即 logistic sigmoid 函数。由链式法则，
        对 x 的梯度为 grad_output · σ(x)（逐元素相乘）。从 ctx.saved_tensors 中取出 x；
        计算 σ(x) 时，即使 |x| 很大（包括 x = ±500）也不能溢出，不能出现 NaN。

        backward 中不允许使用：自动微分（torch.autograd.grad、backward、enable_grad），
        也就是不能对 forward 再求一次导。请自己写出导数。

        示例：x = [0.]，grad_output = [2.]  →  tensor([1.])（2 · σ(0) = 2 · 0.5）
        """
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


def softplus_grad(x: torch.Tensor, grad_output: torch.Tensor) -> torch.Tensor:
    """Return ∇ₓ Σ(grad_output ⊙ SmoothReLU.apply(x)), through your backward.

    This function is given: it runs one backward pass through SmoothReLU, so it
    returns exactly what your SmoothReLU.backward returns, grad_output · σ(x). The
    grader also proves your backward with torch.autograd.gradcheck in float64, for x
    of any shape (a 0-d tensor, a vector, a matrix) and for large |x|.

    Args:
        x: tensor of any shape, float32 or float64.
        grad_output: tensor shaped like x, same dtype.

    Returns:
        grad_output · σ(x), shaped like x, with x's dtype.

    Rules: return a detached tensor; do not modify x or grad_output, nor leave
    requires_grad / .grad on them.

    Example:
        x = torch.tensor([-2., 0., 2.]), grad_output = torch.tensor([1., 2., 3.])
        →  tensor([0.1192, 1.0000, 2.6424])

    中文说明
    --------
    返回 ∇ₓ Σ(grad_output ⊙ SmoothReLU.apply(x))，经由你写的 backward 求得。

    这个函数已经给出：它通过 SmoothReLU 做一次反向传播，因此返回的正是你的
    SmoothReLU.backward 的结果 grad_output · σ(x)。评分程序还会在 float64 下用
    torch.autograd.gradcheck 检验你的 backward，x 可以是任意形状（0 维张量、向量、
    矩阵），|x| 也可以很大。

    参数：
        x：任意形状的张量，float32 或 float64。
        grad_output：与 x 形状相同、dtype 相同的张量。

    返回：
        grad_output · σ(x)，形状与 x 相同，dtype 与 x 相同。

    规则：返回已分离的张量；不得修改 x 或 grad_output，也不得在它们上留下
    requires_grad 或 .grad。

    示例：
        x = torch.tensor([-2., 0., 2.])，grad_output = torch.tensor([1., 2., 3.])
        →  tensor([0.1192, 1.0000, 2.6424])
    """
    x = x.detach().clone().requires_grad_(True)
    y = SmoothReLU.apply(x)
    y.backward(gradient=grad_output.detach().to(y.dtype))
    return x.grad.detach().clone()


def numerical_grad(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, eps: float = 1e-6
) -> torch.Tensor:
    """(f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε for every entry i, shaped like x.

    对 x 的每个元素 i 求中心差分 (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε，形状与 x 相同。
    """
    x = x.detach()
    grad = torch.zeros_like(x)
    flat = grad.reshape(-1)
    for i in range(x.numel()):
        step = torch.zeros(x.numel(), dtype=x.dtype)
        step[i] = eps
        step = step.reshape(x.shape)
        flat[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad
