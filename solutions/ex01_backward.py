"""Reference solutions, ex01: gradients of a scalar and gradient accumulation
(Dive into Deep Learning §2.5 "Automatic Differentiation").

参考答案，练习 01：标量的梯度与梯度累积（《动手学深度学习》§2.5 自动微分）。
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch


def grad_of_2xtx(x: torch.Tensor) -> torch.Tensor:
    """∇ₓ(2·xᵀx) = 4x by autograd; integer x is computed in the default float dtype.

    用自动微分求 ∇ₓ(2·xᵀx) = 4x；整数输入按默认浮点类型计算。
    """
    if x.is_floating_point():
        x = x.detach().clone()
    else:
        x = x.detach().to(torch.get_default_dtype())
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad.detach().clone()


def sequential_grads(
    x: torch.Tensor, fs: Sequence[Callable[[torch.Tensor], torch.Tensor]]
) -> list[torch.Tensor]:
    """[∇ₓ f₀(x), ∇ₓ f₁(x), ...] on one reused leaf, zeroing x.grad between functions.

    在同一个叶子张量上依次求每个 fᵢ 的梯度，每次之间把 x.grad 清零。
    """
    x = x.detach().clone().requires_grad_(True)
    grads = []
    for f in fs:
        y = f(x)
        if y.requires_grad:
            y.backward()
        if x.grad is None:
            grads.append(torch.zeros_like(x))
        else:
            grads.append(x.grad.detach().clone())
            x.grad.zero_()
    return grads


def train_linear_regression(
    X: torch.Tensor, y: torch.Tensor, lr: float, steps: int
) -> torch.Tensor:
    """Gradient descent on mean((X @ w − y)²) from w = 0; returns w after `steps` updates.

    从 w = 0 出发，对均方误差 mean((X @ w − y)²) 做 `steps` 步梯度下降，返回 w。
    """
    X = X.detach()
    y = y.detach().to(X.dtype)
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device, requires_grad=True)
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    return w.detach().clone()


def backward_twice(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """x.grad after calling backward twice on one graph y = f(x): 2·∇f(x).

    对同一张计算图 y = f(x) 调用两次 backward 之后的 x.grad，即 2·∇f(x)。
    """
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    if not y.requires_grad:
        return torch.zeros_like(x)
    y.backward(retain_graph=True)
    y.backward()
    if x.grad is None:
        return torch.zeros_like(x)
    return x.grad.detach().clone()
