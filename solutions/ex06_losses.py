"""Reference solutions, ex06: scalar and non-scalar losses
(Dive into Deep Learning §2.5 "Automatic Differentiation").

参考答案，练习 06：标量损失与非标量损失（《动手学深度学习》§2.5 自动微分，§2.5.2）。
"""

from __future__ import annotations

import torch


def loss_grads(
    w: torch.Tensor, X: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(∇_w mean(ℓ), ∇_w sum(ℓ)) for per-sample losses ℓ = MSELoss(reduction='none')(X @ w, y).

    逐样本损失 ℓ = MSELoss(reduction='none')(X @ w, y)；返回 (∇_w mean(ℓ), ∇_w sum(ℓ))。
    """
    w = w.detach().clone().requires_grad_(True)
    X = X.detach().to(w.dtype)
    y = y.detach().to(w.dtype)
    loss = torch.nn.MSELoss(reduction="none")(X @ w, y)
    loss.mean().backward(retain_graph=True)
    g_mean = w.grad.detach().clone()
    w.grad.zero_()
    loss.sum().backward()
    g_sum = w.grad.detach().clone()
    return g_mean, g_sum


def broadcast_grad(
    X: torch.Tensor, W: torch.Tensor, b: torch.Tensor, Y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(∇W, ∇b) of mean((X @ W + b − Y)²); autograd sums b's gradient over the rows.

    求 mean((X @ W + b − Y)²) 对 W 和 b 的梯度；自动微分会把 b 的梯度沿行求和。
    """
    W = W.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    loss = ((X.detach() @ W + b - Y.detach()) ** 2).mean()
    loss.backward()
    return W.grad.detach().clone(), b.grad.detach().clone()


def weighted_loss_grad(
    w: torch.Tensor, X: torch.Tensor, y: torch.Tensor, sample_weights: torch.Tensor
) -> torch.Tensor:
    """∇_w Σ sᵢ·ℓᵢ from ℓ.backward(gradient=sample_weights).

    对逐样本损失向量调用 ℓ.backward(gradient=sample_weights)，得到 ∇_w Σ sᵢ·ℓᵢ。
    """
    w = w.detach().clone().requires_grad_(True)
    X = X.detach().to(w.dtype)
    y = y.detach().to(w.dtype)
    loss = torch.nn.MSELoss(reduction="none")(X @ w, y)
    loss.backward(gradient=torch.as_tensor(sample_weights, dtype=loss.dtype, device=loss.device))
    return w.grad.detach().clone()
