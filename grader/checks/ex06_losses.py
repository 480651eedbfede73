"""The tasks of ex06_losses: scalar and non-scalar losses."""
from __future__ import annotations

from grader.taskrecord import Task

M = "ex06_losses"
TASKS = (
    Task(M, "loss_grads", 6, "loss_grads(w, X, y)",
         "gradients of the mean and of the sum of per-sample MSE losses",
         "nn.MSELoss(reduction='none') gives a loss per sample",
         hints=("mean_sum_swapped", "grad_not_cleared", "none_grad", "accumulated", "sign")),
    Task(M, "broadcast_grad", 6, "broadcast_grad(X, W, b, Y)",
         "(∇W, ∇b) of mean((XW + b − Y)²), b broadcast over the rows",
         "a broadcast parameter's gradient is summed over the broadcast dimension",
         hints=("broadcast_not_summed", "mean_all_entries", "accumulated", "sign")),
    Task(M, "weighted_loss_grad", 6, "weighted_loss_grad(w, X, y, sample_weights)",
         "∇ Σ sᵢ·ℓᵢ with backward(gradient=sample_weights)",
         "a non-scalar backward weights each sample",
         hints=("unweighted", "mean_sum_swapped", "accumulated", "sign")),
)
