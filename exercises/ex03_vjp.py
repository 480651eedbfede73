"""Exercise 03: vector-Jacobian products, and backward on a non-scalar.

Follows Dive into Deep Learning §2.5 "Automatic Differentiation", §2.5.2 "Backward for
Non-Scalar Variables", and the note on vector-Jacobian products: for a non-scalar
y = f(x), y.backward() needs an argument `gradient=v` shaped like y, and then
x.grad = Jᵀv = ∇ₓ (vᵀy). This is what deep learning frameworks compute: a weighted
sum of the outputs' gradients.

Rules for every task: return new, detached tensors (requires_grad False, no grad_fn);
never change the arguments; the result's dtype follows the input's floating dtype.

练习 03：向量-雅可比积，以及对非标量调用 backward。

对应《动手学深度学习》§2.5 自动微分中的 §2.5.2 非标量变量的反向传播，以及关于向量-雅可比积的笔记：
对非标量 y = f(x)，y.backward() 需要一个与 y 形状相同的参数 `gradient=v`，
此时 x.grad = Jᵀv = ∇ₓ (vᵀy)。深度学习框架实际计算的就是这个：各输出梯度的加权和。

所有任务的规则：返回新的、已分离的张量（requires_grad 为 False，没有 grad_fn）；
不得修改传入的参数；结果的 dtype 与输入的浮点类型一致。
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch


def vjp(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """Return the vector-Jacobian product Jᵀv of f at x, with y.backward(gradient=v).

    Math: y = f(x), J = ∂y/∂x; the result is Jᵀv = ∇ₓ Σᵢ vᵢ·yᵢ, shaped like x.
    Compute it with one call y.backward(gradient=v) and read the gradient of x.

    Args:
        f: a differentiable function of one tensor (output of any shape).
        x: tensor of any shape, float32 or float64.
        v: tensor shaped like f(x).

    Returns:
        Jᵀv, shaped like x, with x's dtype (zeros where f(x) does not depend on x).

    Rules: return a detached tensor; do not modify x or v, nor leave
    requires_grad / .grad on them.

    Not allowed: torch.autograd.functional (vjp, jacobian, ...), torch.func.

    Example (the notes' example): f(x) = [x₀², x₁³] at x = [2., 3.]:
        v = [1., 1.]   →  tensor([4., 27.])
        v = [2., 0.]   →  tensor([8., 0.])
        v = [0., 0.5]  →  tensor([0., 13.5])

    中文说明
    --------
    用 y.backward(gradient=v) 计算 f 在 x 处的向量-雅可比积 Jᵀv。

    数学：y = f(x)，J = ∂y/∂x；结果为 Jᵀv = ∇ₓ Σᵢ vᵢ·yᵢ，形状与 x 相同。
    调用一次 y.backward(gradient=v)，然后读取 x 的梯度。

    参数：
        f：以一个张量为输入的可微函数（输出可以是任意形状）。
        x：任意形状的张量，float32 或 float64。
        v：与 f(x) 形状相同的张量。

    返回：
        Jᵀv，形状与 x 相同，dtype 与 x 相同（f(x) 不依赖 x 时为 0）。

    规则：返回已分离的张量；不得修改 x 或 v，也不得在它们上留下
    requires_grad 或 .grad。

    不允许使用：torch.autograd.functional（vjp、jacobian 等）、torch.func。

    示例（笔记中的例子）：f(x) = [x₀², x₁³]，x = [2., 3.]：
        v = [1., 1.]   →  tensor([4., 27.])
        v = [2., 0.]   →  tensor([8., 0.])
        v = [0., 0.5]  →  tensor([0., 13.5])
    """
    raise NotImplementedError("ex03_vjp.vjp")


def vjps_on_one_graph(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, vs: Sequence[torch.Tensor]
) -> list[torch.Tensor]:
    """Return [Jᵀv₀, Jᵀv₁, ...]: one vector-Jacobian product per v, all on one graph.

    FIX THE BUG: this is the note's own test_with_v. It builds y = f(x) once and
    calls y.backward(gradient=v) for each v, clearing x.grad in between. The first
    v works; the second raises. Read the error: what did the first backward pass do
    to the graph? Fix it so that every v is answered from the one graph.

    Math: y = f(x), J = ∂y/∂x; the i-th entry is Jᵀvᵢ = ∇ₓ Σⱼ (vᵢ)ⱼ·yⱼ, shaped like x,
    each as if it were computed alone.

    Args:
        f: a differentiable function of one tensor (output of any shape).
        x: tensor of any shape, float32 or float64.
        vs: a list of tensors, each shaped like f(x).

    Returns:
        A list with one tensor per v, each shaped like x, with x's dtype; the entries
        share no memory.

    Rules: call f once (build y = f(x) once and reuse its graph); return detached
    tensors; do not modify x or the v's, nor leave requires_grad / .grad on them.

    Not allowed: torch.autograd.functional (vjp, jacobian, ...), torch.func.

    Example (the note's seed example): f(x) = [x₀², x₁³] at x = [2., 3.],
        vs = [[1., 1.], [2., 0.], [0., 0.5]]
        expected  →  [tensor([4., 27.]), tensor([8., 0.]), tensor([0., 13.5])]
        the code below gives tensor([4., 27.]) and then raises.

    中文说明
    --------
    返回 [Jᵀv₀, Jᵀv₁, ...]：每个 v 一个向量-雅可比积，全部在同一张计算图上求出。

    修复错误：这正是笔记里的 test_with_v。它只构造一次 y = f(x)，然后对每个 v 调用
    y.backward(gradient=v)，其间清空 x.grad。第一个 v 没有问题，第二个却会报错。
    读一读报错信息：第一次反向传播对计算图做了什么？请改正它，让每个 v 都在
    同一张计算图上得到结果。

    数学：y = f(x)，J = ∂y/∂x；第 i 项为 Jᵀvᵢ = ∇ₓ Σⱼ (vᵢ)ⱼ·yⱼ，形状与 x 相同，
    且每一项都应与单独计算时的结果相同。

    参数：
        f：以一个张量为输入的可微函数（输出可以是任意形状）。
        x：任意形状的张量，float32 或 float64。
        vs：张量组成的列表，每个张量的形状都与 f(x) 相同。

    返回：
        列表，每个 v 对应一个张量，形状与 x 相同，dtype 与 x 相同；各项之间不得共享内存。

    规则：只调用一次 f（只构造一次 y = f(x) 并复用它的计算图）；返回已分离的张量；
    不得修改 x 或各个 v，也不得在它们上留下 requires_grad 或 .grad。

    不允许使用：torch.autograd.functional（vjp、jacobian 等）、torch.func。

    示例（笔记中的例子）：f(x) = [x₀², x₁³]，x = [2., 3.]，
        vs = [[1., 1.], [2., 0.], [0., 0.5]]
        期望结果  →  [tensor([4., 27.]), tensor([8., 0.]), tensor([0., 13.5])]
        下面的代码先给出 tensor([4., 27.])，然后报错。
    """
    x = x.detach().clone().requires_grad_(True)
    y = f(x)

    def test_with_v(v: torch.Tensor) -> torch.Tensor:
        x.grad = None
        y.backward(gradient=v)
        return x.grad.detach().clone()

    return [test_with_v(v) for v in vs]


def multitask_grads(
    task_losses: Callable[..., torch.Tensor],
    params: Sequence[torch.Tensor],
    task_weights: torch.Tensor | Sequence[float],
) -> tuple[torch.Tensor, ...]:
    """Return the gradients of a weighted sum of task losses, from one backward pass.

    Math: L = task_losses(*params) is a 1-D tensor of k task losses L₁ … Lₖ. Return,
    for every parameter p, ∇ₚ Σᵢ wᵢ·Lᵢ. Do not build the weighted sum yourself: call
    backward once on the loss vector L with gradient=task_weights (that is exactly
    Σᵢ wᵢ·∇Lᵢ, a vector-Jacobian product).

    Args:
        task_losses: callable taking the parameters as positional arguments, in
            order, and returning a 1-D tensor of k losses.
        params: tuple of tensors (float32 or float64), the parameters.
        task_weights: k weights, a 1-D tensor or a sequence of k numbers.

    Returns:
        A tuple with one gradient per parameter, each shaped like that parameter
        and with its dtype. A parameter that no task uses gets zeros.

    Rules: return detached tensors; do not modify params or task_weights, nor leave
    requires_grad / .grad on them; calling twice with the same arguments gives the
    same answer (nothing may accumulate between calls).

    Example:
        a = torch.tensor([1.0, 2.0])
        task_losses = lambda a: torch.stack([a.sum(), (a ** 2).sum()])
        multitask_grads(task_losses, (a,), [1.0, 0.5])  →  (tensor([2., 3.]),)

    中文说明
    --------
    通过一次反向传播，求多个任务损失的加权和的梯度。

    数学：L = task_losses(*params) 是由 k 个任务损失 L₁ … Lₖ 组成的一维张量。对每个
    参数 p，返回 ∇ₚ Σᵢ wᵢ·Lᵢ。不要自己构造加权和：在损失向量 L 上调用一次 backward，
    并传入 gradient=task_weights（这恰好就是 Σᵢ wᵢ·∇Lᵢ，即一个向量-雅可比积）。

    参数：
        task_losses：可调用对象，按顺序以各参数作为位置参数，返回由 k 个损失组成的
            一维张量。
        params：张量组成的元组（float32 或 float64），即各参数。
        task_weights：k 个权重，可以是一维张量，也可以是 k 个数构成的序列。

    返回：
        元组，每个参数对应一个梯度，形状和 dtype 与该参数相同。没有任何任务
        用到的参数，其梯度为 0。

    规则：返回已分离的张量；不得修改 params 或 task_weights，也不得在它们上留下
    requires_grad 或 .grad；用相同参数调用两次应得到相同结果（两次调用之间不得累积）。

    示例：
        a = torch.tensor([1.0, 2.0])
        task_losses = lambda a: torch.stack([a.sum(), (a ** 2).sum()])
        multitask_grads(task_losses, (a,), [1.0, 0.5])  →  (tensor([2., 3.]),)
    """
    raise NotImplementedError("ex03_vjp.multitask_grads")
