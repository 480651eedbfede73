"""The tasks of ex06_losses: scalar and non-scalar losses."""
from __future__ import annotations

from grader.taskrecord import Hint, Task

M = "ex06_losses"
TASKS = (
    Task(M, "loss_grads", 6, "loss_grads(w, X, y)",
         "gradients of the mean and of the sum of per-sample MSE losses",
         "nn.MSELoss(reduction='none') gives a loss per sample",
         hints=("mean_sum_swapped", "grad_not_cleared", "grad_not_cloned", "none_grad", "accumulated", "sign"),
         by_autograd=False,  # the contract asks for the value, not how: a formula is honest
         zh={"gradients of the mean and of the sum of per-sample MSE losses": "逐样本 MSE 损失的均值与总和各自的梯度",
             "nn.MSELoss(reduction='none') gives a loss per sample": "nn.MSELoss(reduction='none') 给出每个样本的损失",
             "the example w = [0], X = [[1], [2]], y = [1, 2]; then three samples, two features, in float64": "示例 w = [0]，X = [[1], [2]]，y = [1, 2]；然后是 3 个样本、2 个特征，float64",
             "random data of several sizes in float64": "多种规模的随机数据，float64"}),
    Task(M, "broadcast_grad", 6, "broadcast_grad(X, W, b, Y)",
         "(∇W, ∇b) of mean((XW + b − Y)²), b broadcast over the rows",
         "a broadcast parameter's gradient is summed over the broadcast dimension",
         hints=("accumulated", "sign", "mean_sum_swapped", "none_grad",
                Hint("broadcast_not_summed",
                     "b was broadcast over the n rows, so each row's gradient flows back into the one b: sum them over the broadcast dimension (autograd does this when b itself, shaped (k,), is the leaf).",
                     "b 被广播到了 n 行上，每一行的梯度都会流回同一个 b：应沿广播的维度把它们加起来（当形状为 (k,) 的 b 本身就是叶子张量时，自动微分会替你这样做）。"),
                Hint("mean_all_entries",
                     "It is k times too large: the loss is the mean over all n·k entries, not a mean over the rows of each row's sum.",
                     "结果大了 k 倍：损失是全部 n·k 个元素的平均值，而不是先对每行求和、再对各行取平均。")),
         by_autograd=False,  # the contract asks for the value, not how: a formula is honest
         zh={"(∇W, ∇b) of mean((XW + b − Y)²), b broadcast over the rows": "mean((XW + b − Y)²) 对 W 和 b 的梯度 (∇W, ∇b)，b 沿行广播",
             "a broadcast parameter's gradient is summed over the broadcast dimension": "被广播的参数，其梯度要沿广播的维度求和",
             "the example: X = [[1], [2]], W = [[0, 0]], b = [0, 0], Y = [[1, 2], [3, 4]]": "示例：X = [[1], [2]]，W = [[0, 0]]，b = [0, 0]，Y = [[1, 2], [3, 4]]",
             "random layers of several shapes in float64": "float64 下若干种形状的随机线性层",
             "a random layer in float32, and a single output column": "float32 下的随机线性层，以及只有一个输出列的情形"}),
    Task(M, "weighted_loss_grad", 6, "weighted_loss_grad(w, X, y, sample_weights)",
         "∇ Σ sᵢ·ℓᵢ with backward(gradient=sample_weights)",
         "a non-scalar backward weights each sample",
         hints=("unweighted", "mean_sum_swapped", "accumulated", "sign", "factor",
                Hint("weighted_twice",
                     "It matches the weights applied twice (Σ sᵢ²·ℓᵢ): weight the per-sample losses once, either by backward(gradient=sample_weights) on the vector of losses or inside the sum, not both.",
                     "结果与权重被用了两次（Σ sᵢ²·ℓᵢ）一致：每个样本的损失只能加权一次，要么对损失向量调用 backward(gradient=sample_weights)，要么在求和时乘上权重，不能两者都用。")),
         zh={"∇ Σ sᵢ·ℓᵢ with backward(gradient=sample_weights)": "用 backward(gradient=sample_weights) 求 ∇ Σ sᵢ·ℓᵢ",
             "a non-scalar backward weights each sample": "对非标量做反向传播，可以为每个样本加权",
             "the example: weights [1, 0] and [0.5, 0.5]": "示例：权重 [1, 0] 和 [0.5, 0.5]",
             "random data and weights of several sizes in float64": "多种规模的随机数据和权重，float64",
             "random data and weights in float32": "随机数据和权重，float32"}),
)
