"""Exercise 06: scalar and non-scalar losses.

Follows Dive into Deep Learning §2.5 "Automatic Differentiation", §2.5.2 "Backward for
Non-Scalar Variables": a loss computed per sample is a vector; to differentiate it we
either reduce it to a scalar first (sum or mean) or pass backward() a vector of
weights, which gives the gradient of the weighted sum of the per-sample losses.

Rules for every task: return new, detached tensors (requires_grad False, no grad_fn);
never change the arguments; the result's dtype follows the input's floating dtype.

练习 06：标量损失与非标量损失。

对应《动手学深度学习》§2.5 自动微分中的 §2.5.2 非标量变量的反向传播：逐样本计算的损失是一个向量；
要对它求导，要么先把它归约为标量（求和或求平均），要么给 backward() 传入一个
权重向量，得到的是各样本损失加权和的梯度。

所有任务的规则：返回新的、已分离的张量（requires_grad 为 False，没有 grad_fn）；
不得修改传入的参数；结果的 dtype 与输入的浮点类型一致。
"""

from __future__ import annotations

import torch


def loss_grads(
    w: torch.Tensor, X: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the gradients of the mean and of the sum of per-sample squared errors.

    Math: pred = X @ w; per-sample losses ℓᵢ = (predᵢ − yᵢ)², computed with
    torch.nn.MSELoss(reduction='none'). Return
        (∇_w (1/n)·Σᵢ ℓᵢ,  ∇_w Σᵢ ℓᵢ)
    (the second is n times the first).

    Args:
        w: weights, tensor of shape (d,), float32 or float64.
        X: inputs, shape (n, d).
        y: targets, shape (n,).

    Returns:
        (grad of the mean, grad of the sum): two tensors of shape (d,) with w's
        dtype, not sharing memory.

    Rules: return detached tensors; do not modify any argument or leave
    requires_grad / .grad on it.

    Example:
        w = torch.tensor([0.0]);  X = torch.tensor([[1.0], [2.0]]);  y = torch.tensor([1.0, 2.0])
        →  (tensor([-5.]), tensor([-10.]))

    中文说明
    --------
    返回逐样本平方误差的平均值与总和各自的梯度。

    数学：pred = X @ w；逐样本损失 ℓᵢ = (predᵢ − yᵢ)²，用
    torch.nn.MSELoss(reduction='none') 计算。返回
        (∇_w (1/n)·Σᵢ ℓᵢ, ∇_w Σᵢ ℓᵢ)
    （后者是前者的 n 倍）。

    参数：
        w：权重，形状为 (d,) 的张量，float32 或 float64。
        X：输入，形状 (n, d)。
        y：目标，形状 (n,)。

    返回：
        (平均值的梯度, 总和的梯度)：两个形状为 (d,) 的张量，dtype 与 w 相同，
        互不共享内存。

    规则：返回已分离的张量；不得修改任何参数，也不得在参数上留下
    requires_grad 或 .grad。

    示例：
        w = torch.tensor([0.0]);  X = torch.tensor([[1.0], [2.0]]);  y = torch.tensor([1.0, 2.0])
        →  (tensor([-5.]), tensor([-10.]))
    """
    raise NotImplementedError("ex06_losses.loss_grads")


def broadcast_grad(
    X: torch.Tensor, W: torch.Tensor, b: torch.Tensor, Y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (∇W, ∇b) of a linear layer's mean squared error, with b broadcast over rows.

    Math: pred = X @ W + b, where b (k,) is broadcast over the n rows of X @ W (n, k);
    loss = mean of (pred − Y)² over all n·k entries. Return ∇_W loss and ∇_b loss,
    computed with autograd. Broadcasting copies b into every row, so every row's
    gradient flows back into the one b: the gradient of a broadcast parameter is
    summed over the dimensions it was broadcast along, and has the parameter's shape.

    Args:
        X: (n, d), float32 or float64.
        W: (d, k), same dtype.
        b: (k,), same dtype.
        Y: (n, k), same dtype.

    Returns:
        (∇W shaped (d, k), ∇b shaped (k,)), with X's dtype; the two share no memory.

    Rules: return detached tensors; do not modify X, W, b or Y, nor leave
    requires_grad / .grad on them.

    Example:
        X = [[1.], [2.]], W = [[0., 0.]], b = [0., 0.], Y = [[1., 2.], [3., 4.]]
        →  (tensor([[-3.5, -5.]]), tensor([-2., -3.]))

    中文说明
    --------
    返回线性层均方误差对 W 和 b 的梯度 (∇W, ∇b)，其中 b 沿行方向广播。

    数学：pred = X @ W + b，其中 b（形状 (k,)）沿 X @ W（形状 (n, k)）的 n 行广播；
    loss = (pred − Y)² 在全部 n·k 个元素上的平均值。用自动微分求出 ∇_W loss 和
    ∇_b loss。广播把 b 复制到每一行，因此每一行的梯度都会流回同一个 b：被广播的参数，
    其梯度要沿广播的维度求和，形状与该参数相同。

    参数：
        X：(n, d)，float32 或 float64。
        W：(d, k)，dtype 相同。
        b：(k,)，dtype 相同。
        Y：(n, k)，dtype 相同。

    返回：
        (∇W，形状 (d, k)；∇b，形状 (k,))，dtype 与 X 相同；两者不得共享内存。

    规则：返回已分离的张量；不得修改 X、W、b 或 Y，也不得在它们上留下
    requires_grad 或 .grad。

    示例：
        X = [[1.], [2.]]，W = [[0., 0.]]，b = [0., 0.]，Y = [[1., 2.], [3., 4.]]
        →  (tensor([[-3.5, -5.]]), tensor([-2., -3.]))
    """
    raise NotImplementedError("ex06_losses.broadcast_grad")


def weighted_loss_grad(
    w: torch.Tensor, X: torch.Tensor, y: torch.Tensor, sample_weights: torch.Tensor
) -> torch.Tensor:
    """Return ∇_w Σᵢ sᵢ·ℓᵢ by calling backward on the per-sample loss vector.

    Math: the same per-sample losses as loss_grads, ℓ = MSELoss(reduction='none')(X @ w, y),
    and weights s = sample_weights. Return ∇_w Σᵢ sᵢ·ℓᵢ = Σᵢ sᵢ·∇_w ℓᵢ. Do not reduce
    ℓ to a scalar yourself: call backward on the vector ℓ with gradient=sample_weights.

    Args:
        w: weights, tensor of shape (d,), float32 or float64.
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        sample_weights: one weight per sample, shape (n,).

    Returns:
        ∇_w Σᵢ sᵢ·ℓᵢ, shape (d,), with w's dtype.

    Rules: return a detached tensor; do not modify any argument or leave
    requires_grad / .grad on it.

    Example (same w, X, y as loss_grads):
        sample_weights = torch.tensor([1.0, 0.0])  →  tensor([-2.])
        sample_weights = torch.tensor([0.5, 0.5])  →  tensor([-5.])   (the mean)

    中文说明
    --------
    在逐样本损失向量上调用 backward，返回 ∇_w Σᵢ sᵢ·ℓᵢ。

    数学：逐样本损失与 loss_grads 相同，ℓ = MSELoss(reduction='none')(X @ w, y)，
    权重 s = sample_weights。返回 ∇_w Σᵢ sᵢ·ℓᵢ = Σᵢ sᵢ·∇_w ℓᵢ。不要自己把 ℓ 归约为
    标量：在向量 ℓ 上调用 backward，并传入 gradient=sample_weights。

    参数：
        w：权重，形状为 (d,) 的张量，float32 或 float64。
        X：输入，形状 (n, d)。
        y：目标，形状 (n,)。
        sample_weights：每个样本一个权重，形状 (n,)。

    返回：
        ∇_w Σᵢ sᵢ·ℓᵢ，形状为 (d,)，dtype 与 w 相同。

    规则：返回已分离的张量；不得修改任何参数，也不得在参数上留下
    requires_grad 或 .grad。

    示例（w、X、y 与 loss_grads 的示例相同）：
        sample_weights = torch.tensor([1.0, 0.0])  →  tensor([-2.])
        sample_weights = torch.tensor([0.5, 0.5])  →  tensor([-5.])（即平均值）
    """
    raise NotImplementedError("ex06_losses.weighted_loss_grad")
