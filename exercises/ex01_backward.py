"""Exercise 01: gradients of a scalar, and how gradients accumulate.

Follows Dive into Deep Learning §2.5 "Automatic Differentiation" (§2.5.1, a simple
example): build y = 2·xᵀx, call y.backward(), read x.grad; then see what happens when
backward() runs again on the same leaf. Two tasks here ("fix the bug") already contain
working code with one mistake in it: find it and fix it.

Rules for every task: return new, detached tensors (requires_grad False, no grad_fn);
never change the arguments (no in-place edits, no requires_grad or .grad left on a
tensor you were given); the result's dtype follows the input's floating dtype.
Tip: work on a fresh leaf, e.g. x.detach().clone().requires_grad_(True).

练习 01：标量的梯度，以及梯度是如何累积的。

对应《动手学深度学习》§2.5 自动微分（§2.5.1 一个简单的例子）：构造 y = 2·xᵀx，调用
y.backward()，读取 x.grad；再观察在同一个叶子张量上再次调用 backward() 会发生什么。
其中两个任务（"修复错误"）已经给出了能运行的代码，但里面有一处错误：请找出并改正。

所有任务的规则：返回新的、已分离（detach）的张量（requires_grad 为 False，没有 grad_fn）；
不得修改传入的参数（不得原地修改，不得在传入的张量上留下 requires_grad 或 .grad）；
结果的 dtype 与输入的浮点类型一致。
提示：在新的叶子张量上计算，例如 x.detach().clone().requires_grad_(True)。
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch


def grad_of_2xtx(x: torch.Tensor) -> torch.Tensor:
    """Return ∇ₓ(2·xᵀx), computed with autograd.

    Math: for y = 2·xᵀx = 2·Σᵢ xᵢ², the gradient is ∇ₓ y = 4x. Compute it with
    autograd (build y from x, call backward, read the gradient), not with the formula.

    Args:
        x: 1-D tensor, length ≥ 1, of any real dtype, integers included.

    Returns:
        A tensor shaped like x. Its dtype is x's dtype if x is floating point;
        for an integer x, compute in torch.get_default_dtype() and return that dtype
        (requires_grad=True cannot be set on an integer tensor).

    Rules: return a detached tensor; do not modify x or leave requires_grad / .grad on it.

    Example (d2l §2.5.1):
        x = torch.arange(4.0)      →  tensor([0., 4., 8., 12.])
        x = torch.arange(4)        →  tensor([0., 4., 8., 12.])  (float32 by default)

    中文说明
    --------
    用自动微分计算 ∇ₓ(2·xᵀx)。

    数学：y = 2·xᵀx = 2·Σᵢ xᵢ²，其梯度为 ∇ₓ y = 4x。请用自动微分求出
    （由 x 构造 y，调用 backward，读取梯度），而不是直接套公式。

    参数：
        x：一维张量，长度 ≥ 1，可以是任意实数类型，包括整数类型。

    返回：
        与 x 形状相同的张量。若 x 为浮点类型，dtype 与 x 相同；若 x 为整数类型，
        请用 torch.get_default_dtype() 计算并返回该类型（整数张量不能设置 requires_grad=True）。

    规则：返回已分离的张量；不得修改 x，也不得在 x 上留下 requires_grad 或 .grad。

    示例（d2l §2.5.1）：
        x = torch.arange(4.0)      →  tensor([0., 4., 8., 12.])
        x = torch.arange(4)        →  tensor([0., 4., 8., 12.])（默认为 float32）
    """
    raise NotImplementedError("ex01_backward.grad_of_2xtx")


def sequential_grads(
    x: torch.Tensor, fs: Sequence[Callable[[torch.Tensor], torch.Tensor]]
) -> list[torch.Tensor]:
    """Return [∇ₓ f₀(x), ∇ₓ f₁(x), ...], each as if it were computed alone.

    FIX THE BUG: the code below runs and returns the right shapes, but it has a bug.
    The first entry is right; the entries after it are not. Think about what
    backward() does to a .grad that already holds a value: in PyTorch, gradients
    accumulate. Find the mistake and fix it, keeping one reused leaf.

    Math: the i-th entry is ∇ₓ fᵢ(x), the gradient of the scalar fᵢ(x) alone.

    Args:
        x: a tensor (float32 or float64).
        fs: a list of callables; each maps a tensor shaped like x to a scalar.

    Returns:
        A list with one tensor per function, each shaped like x, with x's dtype.
        The entries must not share memory with each other.

    Rules: one leaf, reused for all functions; return detached tensors; do not
    modify x or leave requires_grad / .grad on it.

    Example (d2l §2.5.1):
        x = torch.arange(4.0)
        fs = [lambda t: 2 * torch.dot(t, t), lambda t: t.sum()]
        expected  →  [tensor([0., 4., 8., 12.]), tensor([1., 1., 1., 1.])]
        the buggy code gives tensor([1., 5., 9., 13.]) as the second entry.

    中文说明
    --------
    返回 [∇ₓ f₀(x), ∇ₓ f₁(x), ...]，每一项都应与单独计算时的结果相同。

    修复错误：下面的代码可以运行，返回的形状也正确，但其中有一处错误：第一项正确，
    之后的各项都不对。想一想：当 .grad 中已经有值时，backward() 会对它做什么？
    在 PyTorch 中，梯度是会累加的。请找出错误并改正，仍然只使用同一个叶子张量。

    数学：下标为 i 的项为 ∇ₓ fᵢ(x)，即单独对标量 fᵢ(x) 求得的梯度。

    参数：
        x：一个张量（float32 或 float64）。
        fs：由可调用对象组成的列表；每个函数把形状与 x 相同的张量映射为一个标量。

    返回：
        列表，每个函数对应一个张量，形状与 x 相同，dtype 与 x 相同；
        各项之间不得共享内存。

    规则：所有函数复用同一个叶子张量；返回已分离的张量；不得修改 x，
    也不得在 x 上留下 requires_grad 或 .grad。

    示例（d2l §2.5.1）：
        x = torch.arange(4.0)
        fs = [lambda t: 2 * torch.dot(t, t), lambda t: t.sum()]
        期望结果  →  [tensor([0., 4., 8., 12.]), tensor([1., 1., 1., 1.])]
        有错误的代码给出的第二项是 tensor([1., 5., 9., 13.])。
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
    return grads


def train_linear_regression(
    X: torch.Tensor, y: torch.Tensor, lr: float, steps: int
) -> torch.Tensor:
    """Fit w by plain gradient descent on the mean squared error; return w.

    FIX THE BUG: the code below runs and returns the right shape, but after the
    first step the updates are wrong, so w does not follow gradient descent (it may
    even diverge). Check what w.grad holds at each step: in PyTorch, gradients
    accumulate. Find the mistake and fix it.

    Math: L(w) = (1/n)·Σᵢ (xᵢᵀw − yᵢ)² = mean((X @ w − y)²). Start from w = 0 and
    make `steps` updates w ← w − lr·∇L(w), each with the gradient at the current w.

    Args:
        X: (n, d) tensor of inputs.
        y: (n,) tensor of targets.
        lr: learning rate (a Python float).
        steps: number of updates (an int ≥ 0).

    Returns:
        w, a tensor of shape (d,) with X's dtype.

    Rules: return a detached tensor; do not modify X or y.

    Example:
        X = torch.tensor([[1.0], [2.0]]); y = torch.tensor([2.0, 4.0])
        train_linear_regression(X, y, 0.1, 1)    →  tensor([1.0000])
        train_linear_regression(X, y, 0.1, 2)    →  tensor([1.5000])
        train_linear_regression(X, y, 0.1, 100)  →  tensor([2.0000])  (approximately)

    中文说明
    --------
    在均方误差上用最朴素的梯度下降拟合 w，并返回 w。

    修复错误：下面的代码可以运行，返回的形状也正确，但从第二步起更新就不对了，
    w 没有按梯度下降前进（甚至可能发散）。检查每一步 w.grad 中存放的是什么：
    在 PyTorch 中，梯度是会累加的。请找出错误并改正。

    数学：L(w) = (1/n)·Σᵢ (xᵢᵀw − yᵢ)² = mean((X @ w − y)²)。从 w = 0 出发，
    做 `steps` 次更新 w ← w − lr·∇L(w)，每次使用当前 w 处的梯度。

    参数：
        X：形状为 (n, d) 的输入张量。
        y：形状为 (n,) 的目标张量。
        lr：学习率（Python 浮点数）。
        steps：更新次数（整数，≥ 0）。

    返回：
        w，形状为 (d,)，dtype 与 X 相同。

    规则：返回已分离的张量；不得修改 X 或 y。

    示例：
        X = torch.tensor([[1.0], [2.0]]); y = torch.tensor([2.0, 4.0])
        train_linear_regression(X, y, 0.1, 1)    →  tensor([1.0000])
        train_linear_regression(X, y, 0.1, 2)    →  tensor([1.5000])
        train_linear_regression(X, y, 0.1, 100)  →  tensor([2.0000])（近似）
    """
    X = X.detach()
    y = y.detach().to(X.dtype)
    w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device, requires_grad=True)
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
    return w.detach().clone()


def backward_twice(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Call backward twice on one graph y = f(x) and return x.grad afterwards.

    Build y = f(x) once, then call y.backward() twice on that same graph. The first
    call must keep the graph alive for the second one (a graph that saved tensors is
    freed after backward unless you ask to retain it). Because gradients accumulate,
    the result is x.grad = ∇f(x) + ∇f(x) = 2·∇f(x).

    Args:
        f: a callable mapping a tensor shaped like x to a scalar.
        x: a tensor (float32 or float64).

    Returns:
        x.grad after both calls: 2·∇ₓ f(x), shaped like x, with x's dtype.

    Rules: call f only once; return a detached tensor; do not modify x or leave
    requires_grad / .grad on it.

    Example:
        f = lambda t: 2 * torch.dot(t, t);  x = torch.arange(4.0)
        backward_twice(f, x)  →  tensor([0., 8., 16., 24.])

    中文说明
    --------
    在同一张计算图 y = f(x) 上调用两次 backward，然后返回 x.grad。

    只构造一次 y = f(x)，然后在这张图上调用两次 y.backward()。第一次调用必须让
    计算图保留下来供第二次使用（保存了中间张量的计算图在 backward 之后会被释放，
    除非你要求保留它）。由于梯度会累积，结果为 x.grad = ∇f(x) + ∇f(x) = 2·∇f(x)。

    参数：
        f：可调用对象，把形状与 x 相同的张量映射为一个标量。
        x：一个张量（float32 或 float64）。

    返回：
        两次调用之后的 x.grad，即 2·∇ₓ f(x)，形状与 x 相同，dtype 与 x 相同。

    规则：f 只调用一次；返回已分离的张量；不得修改 x，也不得在 x 上留下
    requires_grad 或 .grad。

    示例：
        f = lambda t: 2 * torch.dot(t, t);  x = torch.arange(4.0)
        backward_twice(f, x)  →  tensor([0., 8., 16., 24.])
    """
    raise NotImplementedError("ex01_backward.backward_twice")
