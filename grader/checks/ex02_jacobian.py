"""The tasks of ex02_jacobian: Jacobian matrices."""
from __future__ import annotations

from grader.taskrecord import ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME, BATCHED, BATCHED_RUNTIME, Task

M = "ex02_jacobian"
TASKS = (
    Task(M, "jacobian_by_hand", 4, "jacobian_by_hand(x)",
         "the Jacobian of [x₁² + x₂, x₁ + x₂³] in closed form",
         "f(x) = [x1² + x2, x1 + x2³]", ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME,
         hints=("transposed", "sign")),
    Task(M, "jacobian_polar", 4, "jacobian_polar(p)",
         "the Jacobian of (r, θ) ↦ (r cos θ, r sin θ) in closed form",
         "polar to Cartesian coordinates", ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME,
         hints=("transposed", "sign", "entry_slip")),
    Task(M, "jacobian_from_vjps", 8, "jacobian_from_vjps(f, x)",
         "the full Jacobian from one vector-Jacobian product per output element",
         "J's rows are the VJPs with one-hot v", BATCHED, BATCHED_RUNTIME,
         catalogue=("seed_square_cube", "seed_jacobian_f", "tanh_affine", "matrix_map", "to_scalar",
                    "constant", "coupled"),
         hints=("transposed", "disconnected_output", "retain_graph", "shape_jacobian")),
)
