"""Exercise 04: cutting the computational graph with detach(), and non-leaf gradients.

Follows Dive into Deep Learning §2.5 "Automatic Differentiation", §2.5.3 "Detaching
Computation": u = y.detach() is a new tensor with the same values as y that autograd
treats as a constant, so the gradient does not flow back through it. Also: .grad is
only filled for leaf tensors, unless you ask a non-leaf to keep its gradient.

Rules for every task: return new, detached tensors (requires_grad False, no grad_fn);
never change the arguments; the result's dtype follows the input's floating dtype.

练习 04：用 detach() 分离计算图，以及非叶子节点的梯度。

对应《动手学深度学习》§2.5 自动微分中的 §2.5.3 分离计算：u = y.detach() 是一个与 y 数值相同的新张量，
自动微分把它当作常数，梯度不会经由它向后流动。另外：.grad 只会为叶子张量填充，
除非你让某个非叶子节点保留它的梯度。

所有任务的规则：返回新的、已分离的张量（requires_grad 为 False，没有 grad_fn）；
不得修改传入的参数；结果的 dtype 与输入的浮点类型一致。
"""

from __future__ import annotations

import torch


def detach_grads(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reproduce d2l's detach example and return (gz, gy).

    Math: y = x·x (elementwise), u = y.detach() (a constant with y's values),
    z = u·x. Then
        gz = ∇ₓ Σ z = u = x²   (u is a constant, so no 2x appears),
        gy = ∇ₓ Σ y = 2x       (y itself is still attached to x).
    Compute gz first, then gy, in that order, on one leaf, as d2l does (mind what
    the leaf's .grad holds between the two backward calls).

    Args:
        x: tensor of any shape, float32 or float64.

    Returns:
        (gz, gy), two tensors shaped like x with x's dtype, not sharing memory.

    Rules: return detached tensors; do not modify x or leave requires_grad / .grad on it.

    Example (d2l §2.5.3):
        x = torch.arange(4.0)  →  (tensor([0., 1., 4., 9.]), tensor([0., 2., 4., 6.]))

    中文说明
    --------
    重现 d2l 中 detach 的例子，返回 (gz, gy)。

    数学：y = x·x（逐元素），u = y.detach()（与 y 数值相同的常数），z = u·x。于是
        gz = ∇ₓ Σ z = u = x²  （u 是常数，所以不会出现 2x），
        gy = ∇ₓ Σ y = 2x      （y 本身仍然与 x 相连）。
    与 d2l 一样，在同一个叶子张量上先求 gz、再求 gy（注意两次 backward 之间
    叶子的 .grad 中存放的是什么）。

    参数：
        x：任意形状的张量，float32 或 float64。

    返回：
        (gz, gy)，两个与 x 形状、dtype 相同的张量，互不共享内存。

    规则：返回已分离的张量；不得修改 x，也不得在 x 上留下 requires_grad 或 .grad。

    示例（d2l §2.5.3）：
        x = torch.arange(4.0)  →  (tensor([0., 1., 4., 9.]), tensor([0., 2., 4., 6.]))
    """
    raise NotImplementedError("ex04_detach.detach_grads")


def semi_gradient(
    w: torch.Tensor,
    s: torch.Tensor,
    s_next: torch.Tensor,
    r: float | torch.Tensor,
    gamma: float | torch.Tensor,
) -> torch.Tensor:
    """Return the semi-gradient of a TD-style squared error, with the target held constant.

    Math (a linear value function, as in temporal-difference learning):
        q = w·s,   target = r + γ·(w·s_next)   (treated as a constant),
        loss = (q − target)²,   return ∇_w loss = 2·(q − target)·s.
    The target depends on w too, but it must not receive gradient: cut it from the
    graph. (The full gradient would be 2·(q − target)·(s − γ·s_next).)

    Args:
        w: weights, tensor of shape (d,), float32 or float64.
        s: current state features, shape (d,).
        s_next: next state features, shape (d,).
        r: reward, a Python float (or a 0-d tensor).
        gamma: discount factor γ, a Python float (or a 0-d tensor).

    Returns:
        ∇_w loss, shape (d,), with w's dtype.

    Rules: return a detached tensor; do not modify any argument or leave
    requires_grad / .grad on it.

    Example:
        w = [1., 2.], s = [1., 0.], s_next = [0., 1.], r = 1.0, gamma = 0.5
        →  tensor([-2., 0.])   (the full gradient would be tensor([-2., 1.]))

    中文说明
    --------
    返回时序差分（TD）式平方误差的半梯度，其中目标值视为常数。

    数学（线性价值函数，如时序差分学习）：
        q = w·s，target = r + γ·(w·s_next)（视为常数），
        loss = (q − target)²，返回 ∇_w loss = 2·(q − target)·s。
    目标值同样依赖 w，但它不能接收梯度：要把它从计算图中分离出来。
    （完整梯度将是 2·(q − target)·(s − γ·s_next)。）

    参数：
        w：权重，形状为 (d,) 的张量，float32 或 float64。
        s：当前状态特征，形状 (d,)。
        s_next：下一状态特征，形状 (d,)。
        r：奖励，Python 浮点数（或 0 维张量）。
        gamma：折扣因子 γ，Python 浮点数（或 0 维张量）。

    返回：
        ∇_w loss，形状为 (d,)，dtype 与 w 相同。

    规则：返回已分离的张量；不得修改任何参数，也不得在参数上留下
    requires_grad 或 .grad。

    示例：
        w = [1., 2.]，s = [1., 0.]，s_next = [0., 1.]，r = 1.0，gamma = 0.5
        →  tensor([-2., 0.])（完整梯度则是 tensor([-2., 1.])）
    """
    raise NotImplementedError("ex04_detach.semi_gradient")


def nonleaf_grads(x: torch.Tensor, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the gradients of out with respect to a leaf x and a non-leaf h, from one backward.

    Math: h = W @ x (an intermediate, non-leaf tensor), out = Σᵢ tanh(hᵢ).
        ∂out/∂h = 1 − tanh(h)²,   ∂out/∂x = Wᵀ·(1 − tanh(h)²).
    Get both from autograd with a single backward pass. By default autograd does not
    keep .grad for a non-leaf tensor such as h (it stays None): ask it to.

    Args:
        x: tensor of shape (d,), float32 or float64.
        W: tensor of shape (m, d).

    Returns:
        (∂out/∂x, ∂out/∂h): shapes (d,) and (m,), with x's dtype.

    Rules: one backward pass; return detached tensors; do not modify x or W, nor
    leave requires_grad / .grad on them.

    Example:
        x = torch.tensor([0.0, 0.0]);  W = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        →  (tensor([4., 6.]), tensor([1., 1.]))

    中文说明
    --------
    通过一次反向传播，返回 out 对叶子节点 x 和非叶子节点 h 的梯度。

    数学：h = W @ x（中间结果，非叶子张量），out = Σᵢ tanh(hᵢ)。
        ∂out/∂h = 1 − tanh(h)²，∂out/∂x = Wᵀ·(1 − tanh(h)²)。
    用一次反向传播让自动微分同时给出两者。默认情况下，自动微分不会为 h 这样的
    非叶子张量保留 .grad（它保持为 None）：需要你明确要求保留。

    参数：
        x：形状为 (d,) 的张量，float32 或 float64。
        W：形状为 (m, d) 的张量。

    返回：
        (∂out/∂x, ∂out/∂h)：形状分别为 (d,) 和 (m,)，dtype 与 x 相同。

    规则：只做一次反向传播；返回已分离的张量；不得修改 x 或 W，也不得在它们上
    留下 requires_grad 或 .grad。

    示例：
        x = torch.tensor([0.0, 0.0]);  W = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        →  (tensor([4., 6.]), tensor([1., 1.]))
    """
    raise NotImplementedError("ex04_detach.nonleaf_grads")
