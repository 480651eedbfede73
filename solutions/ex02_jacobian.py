"""Reference solutions, ex02: Jacobian matrices, by hand and from vector-Jacobian products
(Dive into Deep Learning §2.5 "Automatic Differentiation").

参考答案，练习 02：雅可比矩阵，手算与由向量-雅可比积逐行构造（《动手学深度学习》§2.5 自动微分）。
"""

from __future__ import annotations

from typing import Callable

import torch


def jacobian_by_hand(x: torch.Tensor) -> torch.Tensor:
    """Closed-form Jacobian of f(x) = [x₁² + x₂, x₁ + x₂³]: [[2x₁, 1], [1, 3x₂²]].

    f(x) = [x₁² + x₂, x₁ + x₂³] 的雅可比矩阵解析式：[[2x₁, 1], [1, 3x₂²]]。
    """
    x1, x2 = x[0], x[1]
    one = torch.ones_like(x1)
    return torch.stack(
        [
            torch.stack([2 * x1, one]),
            torch.stack([one, 3 * x2**2]),
        ]
    )


def jacobian_polar(p: torch.Tensor) -> torch.Tensor:
    """Closed-form Jacobian of g(r, θ) = [r cos θ, r sin θ]: [[cos θ, −r sin θ], [sin θ, r cos θ]].

    极坐标变换 g(r, θ) = [r cos θ, r sin θ] 的雅可比矩阵解析式。
    """
    r, theta = p[0], p[1]
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack(
        [
            torch.stack([c, -r * s]),
            torch.stack([s, r * c]),
        ]
    )


def jacobian_from_vjps(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """J with shape f(x).shape + x.shape, one backward pass per output element (one-hot v).

    逐个输出元素做一次反向传播（v 取独热向量），拼出形状为 f(x).shape + x.shape 的 J。
    """
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    rows = x.new_zeros((y.numel(),) + x.shape)
    if y.requires_grad:
        for i in range(y.numel()):
            v = torch.zeros(y.numel(), dtype=y.dtype, device=y.device)
            v[i] = 1
            v = v.reshape(y.shape)
            (g,) = torch.autograd.grad(y, x, grad_outputs=v, retain_graph=True, allow_unused=True)
            if g is not None:
                rows[i] = g
    return rows.reshape(y.shape + x.shape).detach()
