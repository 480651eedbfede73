"""The tasks of ex01_backward: gradients of a scalar, and how gradients accumulate."""
from __future__ import annotations

from grader.taskrecord import Task

M = "ex01_backward"
TASKS = (
    Task(M, "grad_of_2xtx", 4, "grad_of_2xtx(x)",
         "∇ₓ(2·xᵀx) with autograd, for any real dtype",
         "x = torch.arange(4.0); y = 2*torch.dot(x, x) gives x.grad == [0, 4, 8, 12]",
         hints=("accumulated", "factor", "sign", "zeros", "integer_grad", "none_grad")),
    Task(M, "sequential_grads", 6, "sequential_grads(x, fs)",
         "the gradient of each function alone, reusing one leaf (fix the bug)",
         "x.sum().backward() after y.backward() gives [1, 5, 9, 13] without zero_()",
         catalogue=("two_dot", "plain_sum", "weighted_square_sum", "sin_prod", "cube_sum", "dot_with"),
         hints=("accumulated", "grad_cleared_too_soon", "sign", "zeros"), fix_the_bug=True),
    Task(M, "train_linear_regression", 6, "train_linear_regression(X, y, lr, steps)",
         "gradient descent on the mean squared error (fix the bug)",
         "forgetting w.grad.zero_() accumulates gradients across steps",
         hints=("accumulated", "mean_sum_swapped", "sign", "zeros", "inplace_leaf", "none_grad", "rebound_leaf"),
         exception_hints=(("none_grad", "rebound_leaf"),), fix_the_bug=True),
    Task(M, "backward_twice", 4, "backward_twice(f, x)",
         "backward twice through one graph: 2·∇f",
         "a second backward() needs retain_graph=True",
         catalogue=("two_dot", "cube_sum", "plain_sum", "sin_prod"),
         hints=("one_backward_only", "retain_graph", "accumulated", "sign", "zeros")),
)
