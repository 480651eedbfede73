"""The tasks of ex04_detach: cutting the graph."""
from __future__ import annotations

from grader.taskrecord import Task

M = "ex04_detach"
TASKS = (
    Task(M, "detach_grads", 6, "detach_grads(x)",
         "(∇Σ(u·x) with u = (x*x).detach(), ∇Σ(x·x)) on one leaf",
         "u = (x*x).detach(); z = u*x gives x.grad == u",
         hints=("not_detached", "grad_not_cleared", "grad_not_cloned", "accumulated")),
    Task(M, "semi_gradient", 6, "semi_gradient(w, s, s_next, r, gamma)",
         "∇_w (w·s − target)² with the target treated as a constant",
         "the TD target is detached",
         hints=("target_not_detached", "target_sign", "factor", "sign")),
    Task(M, "nonleaf_grads", 6, "nonleaf_grads(x, W)",
         "(∂out/∂x, ∂out/∂h) for h = W @ x from one backward",
         "a non-leaf's .grad needs retain_grad()",
         hints=("nonleaf_grad", "none_grad", "retain_graph", "accumulated"),
         exception_hints=(("none_grad", "nonleaf_grad"),)),
)
