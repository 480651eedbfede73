"""Reference solutions, ex03: vector-Jacobian products and backward on non-scalars
(Dive into Deep Learning §2.5 "Automatic Differentiation").

参考答案，练习 03：向量-雅可比积与非标量的反向传播（《动手学深度学习》§2.5 自动微分）。
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch


def vjp(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """Jᵀv (shape of x) from y.backward(gradient=v), where y = f(x).

    通过 y.backward(gradient=v) 求 Jᵀv（形状与 x 相同），其中 y = f(x)。
    """
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    if not y.requires_grad:
        return torch.zeros_like(x)
    y.backward(gradient=v.detach().to(y.dtype))
    if x.grad is None:
        return torch.zeros_like(x)
    return x.grad.detach().clone()


def vjps_on_one_graph(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, vs: Sequence[torch.Tensor]
) -> list[torch.Tensor]:
    """[Jᵀv for v in vs] from one y = f(x): retain_graph=True keeps the graph for the next v.

    只构造一次 y = f(x)，用 retain_graph=True 保留计算图，依次求出每个 v 的 Jᵀv。
    """
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    grads = []
    for v in vs:
        x.grad = None
        y.backward(gradient=v.detach().to(y.dtype), retain_graph=True)
        grads.append(x.grad.detach().clone())
    return grads


def multitask_grads(
    task_losses: Callable[..., torch.Tensor],
    params: Sequence[torch.Tensor],
    task_weights: torch.Tensor | Sequence[float],
) -> tuple[torch.Tensor, ...]:
    """Gradients of Σ wᵢ·Lᵢ for each param, from one L.backward(gradient=task_weights).

    一次 L.backward(gradient=task_weights) 求出 Σ wᵢ·Lᵢ 对每个参数的梯度。
    """
    leaves = tuple(p.detach().clone().requires_grad_(True) for p in params)
    losses = task_losses(*leaves)
    if losses.requires_grad:
        weights = torch.as_tensor(task_weights, dtype=losses.dtype, device=losses.device)
        losses.backward(gradient=weights)
    return tuple(
        torch.zeros_like(leaf) if leaf.grad is None else leaf.grad.detach().clone()
        for leaf in leaves
    )
