"""Exercise 02: Jacobian matrices, by hand and from vector-Jacobian products.

Follows Dive into Deep Learning §2.5 "Automatic Differentiation" and the note on
Jacobians: for f: ℝⁿ → ℝᵐ the Jacobian J has entries Jᵢⱼ = ∂fᵢ/∂xⱼ (row i is the
gradient of output i). Autograd never builds J itself: one backward pass with a
vector v gives vᵀJ, so J can be assembled row by row with one-hot vectors v.

Rules for every task: return new, detached tensors (requires_grad False, no grad_fn);
never change the arguments; the result's dtype follows the input's floating dtype.

练习 02：雅可比矩阵——手算，以及由向量-雅可比积拼出。

对应《动手学深度学习》§2.5 自动微分以及关于雅可比矩阵的笔记：对 f: ℝⁿ → ℝᵐ，
雅可比矩阵 J 的元素为 Jᵢⱼ = ∂fᵢ/∂xⱼ（第 i 行是第 i 个输出的梯度）。自动微分本身
从不构造 J：以向量 v 做一次反向传播得到 vᵀJ，因此可以用独热（one-hot）向量 v 逐行拼出 J。

所有任务的规则：返回新的、已分离的张量（requires_grad 为 False，没有 grad_fn）；
不得修改传入的参数；结果的 dtype 与输入的浮点类型一致。
"""

from __future__ import annotations

from typing import Callable

import torch


def jacobian_by_hand(x: torch.Tensor) -> torch.Tensor:
    """Return the Jacobian of f(x) = [x₁² + x₂, x₁ + x₂³] from its closed form.

    Math: with x = (x₁, x₂) (that is x[0], x[1]),
        f₁(x) = x₁² + x₂,  f₂(x) = x₁ + x₂³,   Jᵢⱼ = ∂fᵢ/∂xⱼ.
    Work out the four partial derivatives on paper, then build the (2, 2) matrix
    from x with tensor operations.

    Args:
        x: tensor of shape (2,), float32 or float64.

    Returns:
        J, a tensor of shape (2, 2) with x's dtype.

    Rules: return a detached tensor; do not modify x.

    Not allowed: any autograd (backward, torch.autograd.*, torch.func,
    requires_grad). This task is about the closed form.

    Example:
        x = torch.tensor([2.0, 3.0])  →  tensor([[4., 1.], [1., 27.]])

    中文说明
    --------
    根据解析式返回 f(x) = [x₁² + x₂, x₁ + x₂³] 的雅可比矩阵。

    数学：x = (x₁, x₂)（即 x[0]、x[1]），
        f₁(x) = x₁² + x₂，f₂(x) = x₁ + x₂³，Jᵢⱼ = ∂fᵢ/∂xⱼ。
    先在纸上求出四个偏导数，再用张量运算由 x 构造出 (2, 2) 矩阵。

    参数：
        x：形状为 (2,) 的张量，float32 或 float64。

    返回：
        J，形状为 (2, 2)，dtype 与 x 相同。

    规则：返回已分离的张量；不得修改 x。

    不允许使用：任何自动微分（backward、torch.autograd.*、torch.func、requires_grad）。
    本题考查的是解析式（手工推导）。

    示例：
        x = torch.tensor([2.0, 3.0])  →  tensor([[4., 1.], [1., 27.]])
    """
    raise NotImplementedError("ex02_jacobian.jacobian_by_hand")


def jacobian_polar(p: torch.Tensor) -> torch.Tensor:
    """Return the Jacobian of the polar map g(r, θ) = [r cos θ, r sin θ] from its closed form.

    Math: with p = (r, θ) (that is p[0], p[1]),
        g₁(r, θ) = r cos θ,  g₂(r, θ) = r sin θ,
        J = [[∂g₁/∂r, ∂g₁/∂θ], [∂g₂/∂r, ∂g₂/∂θ]].
    (Its determinant is r, the familiar factor in r dr dθ.)

    Args:
        p: tensor of shape (2,) holding (r, θ), float32 or float64.

    Returns:
        J, a tensor of shape (2, 2) with p's dtype.

    Rules: return a detached tensor; do not modify p.

    Not allowed: any autograd (backward, torch.autograd.*, torch.func,
    requires_grad). This task is about the closed form.

    Example:
        p = torch.tensor([2.0, 0.0])  →  tensor([[1., 0.], [0., 2.]])

    中文说明
    --------
    根据解析式返回极坐标变换 g(r, θ) = [r cos θ, r sin θ] 的雅可比矩阵。

    数学：p = (r, θ)（即 p[0]、p[1]），
        g₁(r, θ) = r cos θ，g₂(r, θ) = r sin θ，
        J = [[∂g₁/∂r, ∂g₁/∂θ], [∂g₂/∂r, ∂g₂/∂θ]]。
    （其行列式为 r，也就是 r dr dθ 中那个熟悉的因子。）

    参数：
        p：形状为 (2,) 的张量，存放 (r, θ)，float32 或 float64。

    返回：
        J，形状为 (2, 2)，dtype 与 p 相同。

    规则：返回已分离的张量；不得修改 p。

    不允许使用：任何自动微分（backward、torch.autograd.*、torch.func、requires_grad）。
    本题考查的是解析式（手工推导）。

    示例：
        p = torch.tensor([2.0, 0.0])  →  tensor([[1., 0.], [0., 2.]])
    """
    raise NotImplementedError("ex02_jacobian.jacobian_polar")


def jacobian_from_vjps(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the full Jacobian of f at x, built from one backward pass per output element.

    Math: for y = f(x), J[i, j] = ∂yᵢ/∂xⱼ. A backward pass with gradient v computes
    vᵀJ; with the one-hot v = eᵢ (1 at output element i, 0 elsewhere) that is row i
    of J. Do one such pass per element of y and assemble the rows. Multi-dimensional
    shapes work the same way: J[i..., j...] = ∂y[i...]/∂x[j...].

    Args:
        f: any differentiable function of one tensor (output of any shape, a scalar
           included; it may even ignore its input).
        x: tensor of any shape, float32 or float64.

    Returns:
        J with shape f(x).shape + x.shape and x's dtype. For a scalar f(x) that is
        x.shape (the gradient); entries where y does not depend on x are 0.

    Rules: return a detached tensor; do not modify x or leave requires_grad / .grad
    on it. The graph must survive several backward passes.

    Not allowed: torch.autograd.functional (jacobian, ...), torch.func (jacrev,
    jacfwd, vmap, ...), vmap, is_grads_batched.

    Example:
        f = lambda t: torch.stack([t[0] ** 2, t[1] ** 3]);  x = torch.tensor([2.0, 3.0])
        jacobian_from_vjps(f, x)  →  tensor([[4., 0.], [0., 27.]])

    中文说明
    --------
    逐个输出元素各做一次反向传播，拼出 f 在 x 处的完整雅可比矩阵。

    数学：y = f(x)，J[i, j] = ∂yᵢ/∂xⱼ。以 v 为 gradient 的一次反向传播计算的是 vᵀJ；
    取独热向量 v = eᵢ（第 i 个输出元素处为 1，其余为 0）就得到 J 的第 i 行。
    对 y 的每个元素各做一次，再把各行拼起来。多维形状同理：
    J[i..., j...] = ∂y[i...]/∂x[j...]。

    参数：
        f：任意以一个张量为输入的可微函数（输出可以是任意形状，包括标量；
           甚至可以不依赖输入）。
        x：任意形状的张量，float32 或 float64。

    返回：
        J，形状为 f(x).shape + x.shape，dtype 与 x 相同。f(x) 为标量时形状即为
        x.shape（也就是梯度）；y 不依赖 x 的位置为 0。

    规则：返回已分离的张量；不得修改 x，也不得在 x 上留下 requires_grad 或 .grad。
    计算图需要支撑多次反向传播。

    不允许使用：torch.autograd.functional（jacobian 等）、torch.func（jacrev、jacfwd、
    vmap 等）、vmap、is_grads_batched。

    示例：
        f = lambda t: torch.stack([t[0] ** 2, t[1] ** 3]);  x = torch.tensor([2.0, 3.0])
        jacobian_from_vjps(f, x)  →  tensor([[4., 0.], [0., 27.]])
    """
    raise NotImplementedError("ex02_jacobian.jacobian_from_vjps")
