"""The tasks of ex03_vjp: vector-Jacobian products and non-scalar backward."""
from __future__ import annotations

from grader.taskrecord import FUNCTIONAL, FUNCTIONAL_RUNTIME, Task

M = "ex03_vjp"
TASKS = (
    Task(M, "vjp", 6, "vjp(f, x, v)",
         "Jᵀv with y.backward(gradient=v)",
         "y = [x0², x1³] at x = [2, 3]: v = [1,1], [2,0], [0,0.5] give [4,27], [8,0], [0,13.5]",
         FUNCTIONAL, FUNCTIONAL_RUNTIME,
         catalogue=("seed_square_cube", "tanh_affine", "matrix_map", "coupled"),
         hints=("jv_not_jtv", "ignored_v", "sign", "zeros", "shape_like_input")),
    Task(M, "multitask_grads", 8, "multitask_grads(task_losses, params, task_weights)",
         "gradients of Σ wᵢ·Lᵢ from one backward with gradient=task_weights",
         "a non-scalar backward weights each task's loss",
         catalogue=("two_layer_tasks", "shared_head_tasks"),
         hints=("unweighted", "unused_param", "accumulated", "sign")),
)
