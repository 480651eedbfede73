"""Reference solutions, ex07: higher-order derivatives (derivatives of derivatives)
(Dive into Deep Learning §2.5 "Automatic Differentiation").

参考答案，练习 07：高阶导数（导数的导数）（《动手学深度学习》§2.5 自动微分）。
"""

from __future__ import annotations

from typing import Callable

import torch


def second_derivative(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """f″(x) elementwise for an elementwise f, differentiating twice with create_graph=True.

    对逐元素函数 f，用 create_graph=True 求两次导数，逐元素返回 f″(x)。
    """
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    if not y.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(
        y, x, grad_outputs=torch.ones_like(y), create_graph=True, allow_unused=True
    )
    if g is None or not g.requires_grad:
        return torch.zeros_like(x)
    (g2,) = torch.autograd.grad(g, x, grad_outputs=torch.ones_like(g), allow_unused=True)
    if g2 is None:
        return torch.zeros_like(x)
    return g2.detach().clone()


def hvp(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """Hessian-vector product H·v of a scalar f at x, by double backward.

    标量函数 f 在 x 处的黑塞矩阵-向量积 H·v，通过两次反向传播求得。
    """
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    if not y.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(
        y, x, grad_outputs=torch.ones_like(y), create_graph=True, allow_unused=True
    )
    if g is None or not g.requires_grad:
        return torch.zeros_like(x)
    (hv,) = torch.autograd.grad(g, x, grad_outputs=v.detach().to(g.dtype), allow_unused=True)
    if hv is None:
        return torch.zeros_like(x)
    return hv.detach().clone()


def jvp_by_double_backward(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, u: torch.Tensor
) -> torch.Tensor:
    """J·u (shape of f(x)) from two reverse passes: the double-vjp trick.

    用两次反向传播（"双重 vjp" 技巧）求 J·u，形状与 f(x) 相同。
    """
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    if not y.requires_grad:
        return torch.zeros_like(y)
    w = torch.zeros_like(y, requires_grad=True)
    (g,) = torch.autograd.grad(y, x, grad_outputs=w, create_graph=True, allow_unused=True)
    if g is None or not g.requires_grad:
        return torch.zeros_like(y)
    (ju,) = torch.autograd.grad(g, w, grad_outputs=u.detach().to(g.dtype), allow_unused=True)
    if ju is None:
        return torch.zeros_like(y)
    return ju.detach().clone()
