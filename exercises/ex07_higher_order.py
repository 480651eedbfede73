"""Exercise 07: higher-order derivatives (derivatives of derivatives).

Follows Dive into Deep Learning §2.5 "Automatic Differentiation" (its exercise on
second derivatives): with create_graph=True, the backward pass is itself recorded
as a graph, so a gradient can be differentiated again. This gives second
derivatives, Hessian-vector products, and even a Jacobian-vector product from two
reverse passes.

Rules for every task: return new, detached tensors (requires_grad False, no grad_fn);
never change the arguments; the result's dtype follows the input's floating dtype.

练习 07：高阶导数（导数的导数）。

对应《动手学深度学习》§2.5 自动微分（关于二阶导数的练习）：设置 create_graph=True 时，
反向传播本身也会被记录成计算图，因此梯度还可以再次求导。由此可以得到二阶导数、
黑塞矩阵-向量积，甚至可以用两次反向传播得到雅可比-向量积。

所有任务的规则：返回新的、已分离的张量（requires_grad 为 False，没有 grad_fn）；
不得修改传入的参数；结果的 dtype 与输入的浮点类型一致。
"""

from __future__ import annotations

from typing import Callable

import torch


def second_derivative(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return f″(x) elementwise, differentiating twice with create_graph=True.

    Math: f acts elementwise, so ∇ₓ Σᵢ f(xᵢ) = f′(x) and ∇ₓ Σᵢ f′(xᵢ) = f″(x).
    Take the first derivative keeping its graph (create_graph=True), then
    differentiate it again.

    Args:
        f: an elementwise, twice-differentiable function.
        x: tensor of any shape, float32 or float64.

    Returns:
        f″(x), shaped like x, with x's dtype. Where f″ is identically 0 (for
        example a linear f, whose first derivative no longer depends on x) the
        answer is zeros, not an error.

    Rules: return a detached tensor; do not modify x or leave requires_grad / .grad on it.

    Not allowed: torch.autograd.functional (hessian, ...), torch.func.

    Example:
        second_derivative(lambda t: t ** 3, torch.tensor([1.0, 2.0]))  →  tensor([6., 12.])
        second_derivative(lambda t: 3 * t, torch.tensor([1.0, 2.0]))   →  tensor([0., 0.])

    中文说明
    --------
    使用 create_graph=True 求两次导数，逐元素返回 f″(x)。

    数学：f 逐元素作用，因此 ∇ₓ Σᵢ f(xᵢ) = f′(x)，∇ₓ Σᵢ f′(xᵢ) = f″(x)。
    求一阶导数时保留其计算图（create_graph=True），然后对它再求一次导数。

    参数：
        f：逐元素作用、二阶可微的函数。
        x：任意形状的张量，float32 或 float64。

    返回：
        f″(x)，形状与 x 相同，dtype 与 x 相同。若 f″ 恒为 0（例如线性函数 f，
        其一阶导数不再依赖 x），结果应为全 0，而不是报错。

    规则：返回已分离的张量；不得修改 x，也不得在 x 上留下 requires_grad 或 .grad。

    不允许使用：torch.autograd.functional（hessian 等）、torch.func。

    示例：
        second_derivative(lambda t: t ** 3, torch.tensor([1.0, 2.0]))  →  tensor([6., 12.])
        second_derivative(lambda t: 3 * t, torch.tensor([1.0, 2.0]))   →  tensor([0., 0.])
    """
    raise NotImplementedError("ex07_higher_order.second_derivative")


def hvp(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """Return the Hessian-vector product H·v of a scalar function f at x, by double backward.

    Math: H = ∇²f(x), Hᵢⱼ = ∂²f/∂xᵢ∂xⱼ. Since H is symmetric,
        H·v = ∇ₓ (∇ₓ f(x) · v),
    so take the gradient g = ∇ₓ f(x) keeping its graph, then do a second backward
    pass through g with v. H itself is never built.

    Args:
        f: a scalar-valued, twice-differentiable function of one tensor.
        x: tensor of any shape, float32 or float64.
        v: tensor shaped like x.

    Returns:
        H·v, shaped like x, with x's dtype (zeros where the gradient does not
        depend on x, e.g. a linear f).

    Rules: return a detached tensor; do not modify x or v, nor leave
    requires_grad / .grad on them.

    Not allowed: torch.autograd.functional (hvp, vhp, hessian, ...), torch.func.

    Example:
        f = lambda t: t[0] ** 2 * t[1];  x = torch.tensor([1.0, 2.0])   (H = [[4, 2], [2, 0]])
        hvp(f, x, torch.tensor([1.0, 0.0]))  →  tensor([4., 2.])

    中文说明
    --------
    通过两次反向传播，返回标量函数 f 在 x 处的黑塞矩阵-向量积 H·v。

    数学：H = ∇²f(x)，Hᵢⱼ = ∂²f/∂xᵢ∂xⱼ。由于 H 是对称矩阵，
        H·v = ∇ₓ (∇ₓ f(x) · v)，
    所以先求梯度 g = ∇ₓ f(x) 并保留其计算图，再以 v 对 g 做第二次反向传播。
    整个过程中从不构造 H 本身。

    参数：
        f：以一个张量为输入、输出标量、二阶可微的函数。
        x：任意形状的张量，float32 或 float64。
        v：与 x 形状相同的张量。

    返回：
        H·v，形状与 x 相同，dtype 与 x 相同（梯度不依赖 x 时，例如 f 为线性函数，
        结果为全 0）。

    规则：返回已分离的张量；不得修改 x 或 v，也不得在它们上留下
    requires_grad 或 .grad。

    不允许使用：torch.autograd.functional（hvp、vhp、hessian 等）、torch.func。

    示例：
        f = lambda t: t[0] ** 2 * t[1];  x = torch.tensor([1.0, 2.0])  （H = [[4, 2], [2, 0]]）
        hvp(f, x, torch.tensor([1.0, 0.0]))  →  tensor([4., 2.])
    """
    raise NotImplementedError("ex07_higher_order.hvp")


def jvp_by_double_backward(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, u: torch.Tensor
) -> torch.Tensor:
    """Return the Jacobian-vector product J·u with two reverse passes (the double-vjp trick).

    Math: y = f(x), J = ∂y/∂x. For a dummy vector w shaped like y, one reverse pass
    gives g(w) = Jᵀw, which is linear in w. Its vector-Jacobian product with u is
        ∇_w (g(w) · u) = ∇_w (wᵀ J u) = J·u,
    so a second reverse pass, this time with respect to w, yields J·u (forward-mode
    work done with reverse mode only). The value of w does not matter (zeros will do),
    but w must require grad and the first pass must keep its graph.

    Args:
        f: a differentiable function of one tensor (output of any shape).
        x: tensor of any shape, float32 or float64.
        u: tensor shaped like x (the direction).

    Returns:
        J·u, shaped like f(x), with f(x)'s dtype (zeros where f(x) does not depend on x).

    Rules: return a detached tensor; do not modify x or u, nor leave
    requires_grad / .grad on them.

    Not allowed: torch.autograd.functional (jvp, jacobian, ...), torch.func,
    torch.autograd.forward_ad.

    Example (a non-symmetric Jacobian, so J·u ≠ Jᵀu):
        f = lambda t: torch.stack([t[0] * t[1], t[0]]);  x = torch.tensor([2.0, 3.0])
        (J = [[3, 2], [1, 0]])
        jvp_by_double_backward(f, x, torch.tensor([1.0, 0.0]))  →  tensor([3., 1.])

    中文说明
    --------
    用两次反向传播（"双重 vjp" 技巧）返回雅可比-向量积 J·u。

    数学：y = f(x)，J = ∂y/∂x。取一个与 y 形状相同的辅助向量 w，一次反向传播得到
    g(w) = Jᵀw，它是 w 的线性函数。它与 u 的向量-雅可比积为
        ∇_w (g(w) · u) = ∇_w (wᵀ J u) = J·u，
    所以再做一次关于 w 的反向传播就得到 J·u（只用反向模式完成了前向模式的工作）。
    w 的取值无关紧要（全 0 即可），但 w 必须要求梯度，并且第一次反向传播必须保留
    计算图。

    参数：
        f：以一个张量为输入的可微函数（输出可以是任意形状）。
        x：任意形状的张量，float32 或 float64。
        u：与 x 形状相同的张量（方向）。

    返回：
        J·u，形状与 f(x) 相同，dtype 与 f(x) 相同（f(x) 不依赖 x 时为全 0）。

    规则：返回已分离的张量；不得修改 x 或 u，也不得在它们上留下
    requires_grad 或 .grad。

    不允许使用：torch.autograd.functional（jvp、jacobian 等）、torch.func、
    torch.autograd.forward_ad。

    示例（雅可比矩阵不对称，因此 J·u ≠ Jᵀu）：
        f = lambda t: torch.stack([t[0] * t[1], t[0]]);  x = torch.tensor([2.0, 3.0])
        （J = [[3, 2], [1, 0]]）
        jvp_by_double_backward(f, x, torch.tensor([1.0, 0.0]))  →  tensor([3., 1.])
    """
    raise NotImplementedError("ex07_higher_order.jvp_by_double_backward")
