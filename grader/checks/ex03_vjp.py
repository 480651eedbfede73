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
    Task(M, "vjps_on_one_graph", 6, "vjps_on_one_graph(f, x, vs)",
         "one Jᵀv per v from one graph, f called once (fix the bug)",
         "the note's test_with_v: [1,1], [2,0], [0,0.5] give [4,27], [8,0], [0,13.5]",
         FUNCTIONAL, FUNCTIONAL_RUNTIME,
         catalogue=("once_seed_square_cube", "once_tanh_affine", "once_matrix_map", "once_coupled"),
         hints=("retain_graph", "accumulated", "grad_not_cloned", "f_called_again", "jv_not_jtv", "sign"),
         fix_the_bug=True),
    Task(M, "multitask_grads", 8, "multitask_grads(task_losses, params, task_weights)",
         "gradients of Σ wᵢ·Lᵢ from one backward with gradient=task_weights",
         "a non-scalar backward weights each task's loss",
         catalogue=("two_layer_tasks", "shared_head_tasks"),
         hints=("unweighted", "unused_param", "accumulated", "accumulated_across_tasks",
                "tensor_expected", "sign")),
)
