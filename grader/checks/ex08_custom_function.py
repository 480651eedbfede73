"""The tasks of ex08_custom_function: writing a backward, checking gradients."""
from __future__ import annotations

from grader.taskrecord import ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME, Task

M = "ex08_custom_function"
TASKS = (
    # The rule concerns SmoothReLU.backward only: softplus_grad's own backward pass is
    # the point of the task. At run time only calls made while that backward runs count.
    Task(M, "softplus_grad", 8, "softplus_grad(x, grad_output)",
         "SmoothReLU's backward, written by hand: grad_output · σ(x)",
         "softplus′(x) = σ(x), checked with torch.autograd.gradcheck",
         forbidden_scan=ANY_AUTOGRAD + ("torch.set_grad_enabled",), forbidden_runtime=ANY_AUTOGRAD_RUNTIME + ("torch.set_grad_enabled",),
         scope="SmoothReLU.backward",
         hints=("forgot_grad_output", "sigmoid_of_output", "unstable_sigmoid", "sign", "zeros"), given=True),
    Task(M, "numerical_grad", 6, "numerical_grad(f, x, eps=1e-6)",
         "the central-difference estimate of ∇f, entry by entry",
         "(f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε, the gradient check beside autograd",
         ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME,
         catalogue=("two_dot", "cube_sum", "sin_prod", "quartic_form", "rosenbrock", "to_scalar"),
         hints=("forward_difference", "eps_ignored", "central_two_eps", "sign", "zeros")),
)
