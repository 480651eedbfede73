"""Reference solutions, ex04: cutting the computational graph with detach()
(Dive into Deep Learning §2.5 "Automatic Differentiation").

参考答案，练习 04：用 detach() 分离计算图（《动手学深度学习》§2.5 自动微分）。
"""

from __future__ import annotations

import torch


def detach_grads(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(∇ₓ Σ u·x with u = (x·x).detach(), ∇ₓ Σ x·x) = (x², 2x), as in d2l.

    与 d2l 相同：先求 u = (x·x).detach() 时 Σ u·x 的梯度，再求 Σ x·x 的梯度，得 (x², 2x)。
    """
    x = x.detach().clone().requires_grad_(True)
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    gz = x.grad.detach().clone()
    x.grad.zero_()
    y.sum().backward()
    gy = x.grad.detach().clone()
    return gz, gy


def semi_gradient(
    w: torch.Tensor,
    s: torch.Tensor,
    s_next: torch.Tensor,
    r: float | torch.Tensor,
    gamma: float | torch.Tensor,
) -> torch.Tensor:
    """∇_w (q − target)² with q = w·s and target = r + γ·(w·s_next) held constant.

    q = w·s，目标值 target = r + γ·(w·s_next) 视为常数（detach），返回 ∇_w (q − target)²。
    """
    w = w.detach().clone().requires_grad_(True)
    s = s.detach().to(w.dtype)
    s_next = s_next.detach().to(w.dtype)
    q = (w * s).sum()
    target = (r + gamma * (w * s_next).sum()).detach()
    loss = (q - target) ** 2
    loss.backward()
    return w.grad.detach().clone()


def nonleaf_grads(x: torch.Tensor, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂out/∂x, ∂out/∂h) for h = W @ x, out = Σ tanh(h), from one backward pass.

    h = W @ x（非叶子节点），out = Σ tanh(h)；一次反向传播求 (∂out/∂x, ∂out/∂h)。
    """
    x = x.detach().clone().requires_grad_(True)
    W = W.detach().to(x.dtype)
    h = W @ x
    h.retain_grad()
    out = torch.tanh(h).sum()
    out.backward()
    return x.grad.detach().clone(), h.grad.detach().clone()
