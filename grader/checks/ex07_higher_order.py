"""The tasks of ex07_higher_order: derivatives of derivatives."""
from __future__ import annotations

from grader.taskrecord import FORWARD_AD, FORWARD_AD_RUNTIME, FUNCTIONAL, FUNCTIONAL_RUNTIME, Task

M = "ex07_higher_order"
# Here "does not have a grad_fn" means the first derivative was taken without
# create_graph=True (elsewhere: an input that does not require grad).
NO_GRAPH = (("create_graph", "create_graph"),)
TASKS = (
    Task(M, "second_derivative", 4, "second_derivative(f, x)",
         "f″ elementwise with create_graph=True",
         "differentiate the derivative", FUNCTIONAL, FUNCTIONAL_RUNTIME,
         catalogue=("elementwise", "affine"),
         hints=("first_derivative", "create_graph", "grad_kept", "linear_zero"), exception_hints=NO_GRAPH),
    Task(M, "hvp", 4, "hvp(f, x, v)",
         "the Hessian-vector product by double backward",
         "∇(∇f·v)", FUNCTIONAL, FUNCTIONAL_RUNTIME,
         catalogue=("square_times", "quartic_form", "rosenbrock", "weighted_square_sum", "sin_prod", "dot_with"),
         hints=("first_derivative", "create_graph", "grad_kept", "transposed"), exception_hints=NO_GRAPH),
    Task(M, "jvp_by_double_backward", 2, "jvp_by_double_backward(f, x, u)",
         "J·u from two reverse passes (the double-vjp trick)",
         "J·u = ∇_w (uᵀ(Jᵀw))", FORWARD_AD, FORWARD_AD_RUNTIME,
         catalogue=("product_first", "tanh_affine", "matrix_map"),
         hints=("jtv_not_jv", "create_graph"), exception_hints=NO_GRAPH),
)
