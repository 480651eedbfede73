"""Exercise 08: writing a backward, and checking gradients.

Autograd knows the derivative of every torch operation; for an operation of your own
you write it yourself, as a torch.autograd.Function with a forward and a backward
(PyTorch's "Extending torch.autograd"). backward(ctx, grad_output) receives the
gradient of the final result with respect to forward's output and returns the
gradient with respect to forward's input: the chain rule, one step. Whether a
backward is right is then checked against finite differences
(torch.autograd.gradcheck does exactly that), the gradient check every course
teaches beside autograd.

Rules for every task: return new, detached tensors (requires_grad False, no grad_fn);
never change the arguments; the result's dtype follows the input's floating dtype.

练习 08：自己编写 backward，以及检验梯度。

自动微分知道每个 torch 运算的导数；对于你自己的运算，则要自己写出导数：写一个
torch.autograd.Function，包含 forward 和 backward（见 PyTorch 文档“Extending
torch.autograd”）。backward(ctx, grad_output) 接收最终结果对 forward 输出的梯度，
返回最终结果对 forward 输入的梯度：这就是一步链式法则。backward 是否正确，
再用有限差分来检验（torch.autograd.gradcheck 做的正是这件事），这也是每门课程
在自动微分之外都会讲的梯度检验。

所有任务的规则：返回新的、已分离的张量（requires_grad 为 False，没有 grad_fn）；
不得修改传入的参数；结果的 dtype 与输入的浮点类型一致。
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
        raise NotImplementedError("ex08_custom_function.SmoothReLU.backward")


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
    """Return the central-difference estimate of ∇f at x, entry by entry.

    Math: for every entry i of x, with eᵢ the tensor that is 1 at entry i and 0
    elsewhere, the i-th entry of the result is

        (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε.

    Its error shrinks like ε² (a one-sided difference's only like ε). This is how
    torch.autograd.gradcheck checks a backward: compare autograd's gradient with
    this estimate.

    Args:
        f: maps a tensor shaped like x to a scalar (a 0-d tensor).
        x: tensor of any shape (0-d included), float64 in the checks.
        eps: the step ε, a positive number.

    Returns:
        The estimate, shaped like x, with x's dtype.

    Rules: use f's values only; return a detached tensor; do not modify x (perturb
    a copy, or build x ± ε·eᵢ as new tensors).

    Not allowed: any autograd (backward, torch.autograd, requires_grad, .grad).

    Example (d2l §2.5.1's y = 2·xᵀx, whose gradient is 4x):
        f = lambda t: 2 * torch.dot(t, t)
        numerical_grad(f, torch.arange(4.0, dtype=torch.float64))
        →  tensor([0., 4., 8., 12.], dtype=torch.float64)   (up to rounding)

    中文说明
    --------
    逐个元素地返回 f 在 x 处梯度的中心差分估计。

    数学：对 x 的每个元素 i，记 eᵢ 为在第 i 个元素处为 1、其余为 0 的张量，结果的第 i 项为

        (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε。

    它的误差随 ε² 减小（单侧差分只随 ε 减小）。torch.autograd.gradcheck 检验 backward
    的方法正是如此：把自动微分得到的梯度与这个估计相比较。

    参数：
        f：把形状与 x 相同的张量映射为一个标量（0 维张量）。
        x：任意形状的张量（包括 0 维），检查中使用 float64。
        eps：步长 ε，一个正数。

    返回：
        估计值，形状与 x 相同，dtype 与 x 相同。

    规则：只使用 f 的函数值；返回已分离的张量；不得修改 x（在副本上扰动，或者
    新建 x ± ε·eᵢ 这样的张量）。

    不允许使用：任何自动微分（backward、torch.autograd、requires_grad、.grad）。

    示例（d2l §2.5.1 中的 y = 2·xᵀx，其梯度为 4x）：
        f = lambda t: 2 * torch.dot(t, t)
        numerical_grad(f, torch.arange(4.0, dtype=torch.float64))
        →  tensor([0., 4., 8., 12.], dtype=torch.float64)（在舍入误差范围内）
    """
    raise NotImplementedError("ex08_custom_function.numerical_grad")
