"""The tasks of ex05_control_flow: gradients through Python control flow."""
from __future__ import annotations

from grader.taskrecord import Task

M = "ex05_control_flow"
TASKS = (
    Task(M, "control_flow_grad", 6, "control_flow_grad(a)",
         "∇ₐ Σ f(a) through d2l's while/if function",
         "d = f(a); a.grad == d / a",
         hints=("accumulated", "sign", "zeros", "implicit_scalar")),
    Task(M, "second_price_grad", 4, "second_price_grad(bids)",
         "∂price/∂bids of a second-price auction, through a sort",
         "d2l's exercise: the winner pays the second-highest bid",
         hints=("winner_not_runner_up", "sorted_position", "ascending_sort", "accumulated")),
    Task(M, "derivative_curve", 4, "derivative_curve(f, x)",
         "f′ at every point of x, by autograd",
         "plot sin and its derivative without computing it by hand",
         catalogue=("elementwise", "affine"),
         hints=("mean_sum_swapped", "implicit_scalar", "accumulated", "sign")),
)
