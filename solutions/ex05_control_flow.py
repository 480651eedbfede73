"""Reference solutions, ex05: gradients through Python control flow
(Dive into Deep Learning §2.5 "Automatic Differentiation").

参考答案，练习 05：Python 控制流的梯度计算（《动手学深度学习》§2.5 自动微分，§2.5.4）。
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
    """∇ₐ Σ f(a) for d2l's f (equals f(a) / a elementwise).

    d2l 函数 f 的梯度 ∇ₐ Σ f(a)（逐元素等于 f(a) / a）。
    """
    a = a.detach().clone().requires_grad_(True)
    d = f(a)
    d.sum().backward()
    return a.grad.detach().clone()


def second_price_grad(bids: torch.Tensor) -> torch.Tensor:
    """∂(second-highest bid)/∂bids by autograd through topk: one-hot at the runner-up.

    通过 topk 用自动微分求第二高出价对各出价的梯度：在第二名处为 1，其余为 0。
    """
    bids = bids.detach().clone().requires_grad_(True)
    price = torch.topk(bids, 2).values[1]
    price.backward()
    return bids.grad.detach().clone()


def derivative_curve(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """f′(x) at every point of a 1-D x, for an elementwise f, by autograd.

    对逐元素函数 f，用自动微分求一维 x 每个点处的 f′(x)。
    """
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    if not y.requires_grad:
        return torch.zeros_like(x)
    y.backward(torch.ones_like(y))
    if x.grad is None:
        return torch.zeros_like(x)
    return x.grad.detach().clone()
