"""Exercise 05: gradients through Python control flow.

Follows Dive into Deep Learning §2.5 "Automatic Differentiation", §2.5.4 "Computing the
Gradient of Python Control Flow": autograd records the operations that actually ran,
so a function built with while loops and if statements can still be differentiated.
d2l's function f below is piecewise linear in a: wherever the control flow takes the
same path (the same number of doublings, the same branch of the if), f(a) = k·a with a
constant k, so at a given a the gradient is k = f(a) / a.

Rules for every task: return new, detached tensors (requires_grad False, no grad_fn);
never change the arguments; the result's dtype follows the input's floating dtype.

练习 05：Python 控制流的梯度计算。

对应《动手学深度学习》§2.5 自动微分中的 §2.5.4 Python 控制流的梯度计算：自动微分记录的是实际执行过的
运算，所以即使函数中有 while 循环和 if 语句，也依然可以求导。下面 d2l 的函数 f
是 a 的分段线性函数：在控制流走同一条路径（翻倍次数相同、if 走同一个分支）的范围内，
f(a) = k·a，k 为常数，因此在给定的 a 处梯度为 k = f(a) / a。

所有任务的规则：返回新的、已分离的张量（requires_grad 为 False，没有 grad_fn）；
不得修改传入的参数；结果的 dtype 与输入的浮点类型一致。
"""

from __future__ import annotations

from typing import Callable

import torch


def f(a):
    """d2l's function with a while loop and an if statement. Do not change it.

    b starts at 2a and doubles until its norm reaches 1000; the result is b if the
    entries of b sum to a positive number, and 100·b otherwise. (It loops forever at
    a = 0.)

    d2l 中带有 while 循环和 if 语句的函数。请勿修改。

    b 从 2a 开始不断加倍，直到其范数达到 1000；若 b 的元素之和为正，结果为 b，
    否则为 100·b。（a = 0 时会无限循环。）
    """
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def control_flow_grad(a: torch.Tensor) -> torch.Tensor:
    """Return ∇ₐ Σ f(a) for d2l's function f defined in this module.

    Math: f is piecewise linear: near a given a, d = f(a) = k·a for a constant k chosen
    by the control flow, so ∇ₐ Σ d = k = d / a (elementwise). Compute it with autograd,
    through f.

    Args:
        a: tensor of any shape (a scalar, a vector or a matrix), float32 or float64,
           with no zero entry.

    Returns:
        ∇ₐ Σ f(a), shaped like a, with a's dtype.

    Rules: return a detached tensor; do not modify a or leave requires_grad / .grad on it.

    Example (d2l §2.5.4): a.grad equals f(a) / a, e.g. (compare with
    torch.allclose(a.grad, d / a), not ==: d / a is rounded to float32, so exact
    equality fails for about 5 % of random a although both are right)
        a = torch.tensor(0.5)   →  tensor(2048.)
        a = torch.tensor(-0.5)  →  tensor(204800.)

    中文说明
    --------
    对本模块中定义的 d2l 函数 f，返回 ∇ₐ Σ f(a)。

    数学：f 是分段线性函数：在给定的 a 附近，d = f(a) = k·a，其中常数 k 由控制流决定，
    所以 ∇ₐ Σ d = k = d / a（逐元素）。请通过 f 用自动微分求出。

    参数：
        a：任意形状的张量（标量、向量或矩阵），float32 或 float64，没有为 0 的元素。

    返回：
        ∇ₐ Σ f(a)，形状与 a 相同，dtype 与 a 相同。

    规则：返回已分离的张量；不得修改 a，也不得在 a 上留下 requires_grad 或 .grad。

    示例（d2l §2.5.4）：a.grad 等于 f(a) / a，例如（请用
    torch.allclose(a.grad, d / a) 比较，不要用 ==：d / a 会舍入到 float32，
    随机取 a 时约有 5% 的情况两者都正确却不完全相等）
        a = torch.tensor(0.5)   →  tensor(2048.)
        a = torch.tensor(-0.5)  →  tensor(204800.)
    """
    raise NotImplementedError("ex05_control_flow.control_flow_grad")


def second_price_grad(bids: torch.Tensor) -> torch.Tensor:
    """Return the gradient of a second-price auction's price with respect to every bid.

    d2l's exercise (§2.5): in a second-price auction the highest bidder wins but pays
    the second-highest bid. The price is a piecewise function of the bids, chosen by
    sorting; autograd differentiates through the sort (or torch.topk) all the same.
    Compute price = the second-highest bid from the bids by sorting or topk, call
    backward, and read the gradient.

    Args:
        bids: 1-D tensor, length ≥ 2, float32 or float64, all values distinct.

    Returns:
        ∂price/∂bids, shaped like bids, with bids' dtype.

    Rules: compute it with autograd; return a detached tensor; do not modify bids or
    leave requires_grad / .grad on it.

    Example:
        bids = torch.tensor([3., 7., 5., 1.])   # the price is 5, the third bid
        →  tensor([0., 0., 1., 0.])

    中文说明
    --------
    返回第二价格拍卖中成交价格对每个出价的梯度。

    d2l 的练习（§2.5）：在第二价格拍卖中，出价最高者胜出，但只需支付第二高的出价。
    价格是出价的分段函数，由排序决定；自动微分同样可以穿过排序（或 torch.topk）求导。
    请通过排序或 topk 由出价算出 price = 第二高的出价，调用 backward，再读取梯度。

    参数：
        bids：一维张量，长度 ≥ 2，float32 或 float64，各值互不相同。

    返回：
        ∂price/∂bids，形状与 bids 相同，dtype 与 bids 相同。

    规则：用自动微分计算；返回已分离的张量；不得修改 bids，也不得在其上留下
    requires_grad 或 .grad。

    示例：
        bids = torch.tensor([3., 7., 5., 1.])   # 价格为 5，即第三个出价
        →  tensor([0., 0., 1., 0.])
    """
    raise NotImplementedError("ex05_control_flow.second_price_grad")


def derivative_curve(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return f′(x) at every point of x, computed by autograd.

    This is d2l's exercise "let f(x) = sin(x); plot f(x) and df(x)/dx without
    computing the derivative by hand". Since f acts elementwise, yᵢ = f(xᵢ) depends
    on xᵢ only, and ∇ₓ Σᵢ yᵢ = (f′(x₁), …, f′(xₙ)): one backward pass gives the whole
    curve.

    Args:
        f: an elementwise differentiable function (torch.sin, torch.tanh, a lambda, …).
        x: 1-D tensor of points, float32 or float64.

    Returns:
        f′(x), shaped like x, with x's dtype (zeros where f does not depend on x).

    Rules: return a detached tensor; do not modify x or leave requires_grad / .grad on it.

    Example:
        derivative_curve(torch.sin, torch.tensor([0.0, math.pi]))  →  tensor([1., -1.])

    中文说明
    --------
    用自动微分返回 f′ 在 x 中每个点处的值。

    这就是 d2l 的练习："设 f(x) = sin(x)，绘制 f(x) 和 df(x)/dx 的图像，其中后者
    不使用 f′(x) = cos(x)"。由于 f 逐元素作用，yᵢ = f(xᵢ) 只依赖 xᵢ，
    因此 ∇ₓ Σᵢ yᵢ = (f′(x₁), …, f′(xₙ))：一次反向传播就能得到整条曲线。

    参数：
        f：逐元素作用的可微函数（torch.sin、torch.tanh、lambda 表达式等）。
        x：由若干点组成的一维张量，float32 或 float64。

    返回：
        f′(x)，形状与 x 相同，dtype 与 x 相同（f 不依赖 x 时为 0）。

    规则：返回已分离的张量；不得修改 x，也不得在 x 上留下 requires_grad 或 .grad。

    示例：
        derivative_curve(torch.sin, torch.tensor([0.0, math.pi]))  →  tensor([1., -1.])
    """
    raise NotImplementedError("ex05_control_flow.derivative_curve")
