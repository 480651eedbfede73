"""The task catalogue: one entry per exercise function, as the contract fixes it.

Everything else (checks, scan rules, the report, ``grade list``) refers to tasks
by their id, ``"<module>.<function>"``.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

# What "Not allowed" means. The scan looks for these API prefixes, attributes
# (".name") and keywords ("name=") in the code a task reaches; at run time, calls
# recorded in the sandbox count against the runtime names when the submission's
# own code made them (never torch calling itself: printing a tensor, an optimizer).
ANY_AUTOGRAD = (
    "torch.autograd", "torch.func", "torch.vmap", "torch.Tensor.backward",
    ".backward", ".grad", ".requires_grad", ".requires_grad_", "requires_grad=",
    "torch.enable_grad",
)
FUNCTIONAL = ("torch.autograd.functional", "torch.func", "torch.vmap")
BATCHED = FUNCTIONAL + ("is_grads_batched=", "torch.autograd.grad(is_grads_batched=True)")
FORWARD_AD = FUNCTIONAL + ("torch.autograd.forward_ad",)


def _runtime(rules: tuple[str, ...]) -> tuple[str, ...]:
    """The rules that name recorded APIs (the others are only visible in the source)."""
    return tuple(rule for rule in rules if rule.startswith("torch."))


@dataclass(frozen=True)
class Task:
    module: str
    name: str
    points: int
    signature: str
    summary: str
    seed: str = ""
    forbidden_scan: tuple[str, ...] = ()
    forbidden_runtime: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"


TASKS: tuple[Task, ...] = (
    Task("ex01_backward", "grad_of_2xtx", 4, "grad_of_2xtx(x)",
         "∇ₓ(2·xᵀx) with autograd, for any real dtype",
         "x = torch.arange(4.0); y = 2*torch.dot(x, x) gives x.grad == [0, 4, 8, 12]"),
    Task("ex01_backward", "sequential_grads", 6, "sequential_grads(x, fs)",
         "the gradient of each function alone, reusing one leaf (fix the bug)",
         "x.sum().backward() after y.backward() gives [1, 5, 9, 13] without zero_()"),
    Task("ex01_backward", "train_linear_regression", 6, "train_linear_regression(X, y, lr, steps)",
         "gradient descent on the mean squared error (fix the bug)",
         "forgetting w.grad.zero_() accumulates gradients across steps"),
    Task("ex01_backward", "backward_twice", 4, "backward_twice(f, x)",
         "backward twice through one graph: 2·∇f",
         "a second backward() needs retain_graph=True"),
    Task("ex02_jacobian", "jacobian_by_hand", 4, "jacobian_by_hand(x)",
         "the Jacobian of [x₁² + x₂, x₁ + x₂³] in closed form",
         "f(x) = [x1² + x2, x1 + x2³]", ANY_AUTOGRAD, _runtime(ANY_AUTOGRAD)),
    Task("ex02_jacobian", "jacobian_polar", 4, "jacobian_polar(p)",
         "the Jacobian of (r, θ) ↦ (r cos θ, r sin θ) in closed form",
         "polar to Cartesian coordinates", ANY_AUTOGRAD, _runtime(ANY_AUTOGRAD)),
    Task("ex02_jacobian", "jacobian_from_vjps", 8, "jacobian_from_vjps(f, x)",
         "the full Jacobian from one vector-Jacobian product per output element",
         "J's rows are the VJPs with one-hot v", BATCHED, _runtime(BATCHED)),
    Task("ex03_vjp", "vjp", 6, "vjp(f, x, v)",
         "Jᵀv with y.backward(gradient=v)",
         "y = [x0², x1³] at x = [2, 3]: v = [1,1], [2,0], [0,0.5] give [4,27], [8,0], [0,13.5]",
         FUNCTIONAL, _runtime(FUNCTIONAL)),
    Task("ex03_vjp", "multitask_grads", 8, "multitask_grads(task_losses, params, task_weights)",
         "gradients of Σ wᵢ·Lᵢ from one backward with gradient=task_weights",
         "a non-scalar backward weights each task's loss"),
    Task("ex04_detach", "detach_grads", 6, "detach_grads(x)",
         "(∇Σ(u·x) with u = (x*x).detach(), ∇Σ(x·x)) on one leaf",
         "u = (x*x).detach(); z = u*x gives x.grad == u"),
    Task("ex04_detach", "semi_gradient", 6, "semi_gradient(w, s, s_next, r, gamma)",
         "∇_w (w·s − target)² with the target treated as a constant",
         "the TD target is detached"),
    Task("ex04_detach", "nonleaf_grads", 6, "nonleaf_grads(x, W)",
         "(∂out/∂x, ∂out/∂h) for h = W @ x from one backward",
         "a non-leaf's .grad needs retain_grad()"),
    Task("ex05_control_flow", "control_flow_grad", 6, "control_flow_grad(a)",
         "∇ₐ Σ f(a) through d2l's while/if function",
         "d = f(a); a.grad == d / a"),
    Task("ex05_control_flow", "derivative_curve", 4, "derivative_curve(f, x)",
         "f′ at every point of x, by autograd",
         "plot sin and its derivative without computing it by hand"),
    Task("ex06_losses", "loss_grads", 6, "loss_grads(w, X, y)",
         "gradients of the mean and of the sum of per-sample MSE losses",
         "nn.MSELoss(reduction='none') gives a loss per sample"),
    Task("ex06_losses", "weighted_loss_grad", 6, "weighted_loss_grad(w, X, y, sample_weights)",
         "∇ Σ sᵢ·ℓᵢ with backward(gradient=sample_weights)",
         "a non-scalar backward weights each sample"),
    Task("ex07_higher_order", "second_derivative", 4, "second_derivative(f, x)",
         "f″ elementwise with create_graph=True",
         "differentiate the derivative", FUNCTIONAL, _runtime(FUNCTIONAL)),
    Task("ex07_higher_order", "hvp", 4, "hvp(f, x, v)",
         "the Hessian-vector product by double backward",
         "∇(∇f·v)", FUNCTIONAL, _runtime(FUNCTIONAL)),
    Task("ex07_higher_order", "jvp_by_double_backward", 2, "jvp_by_double_backward(f, x, u)",
         "J·u from two reverse passes (the double-vjp trick)",
         "J·u = ∇_w (uᵀ(Jᵀw))", FORWARD_AD, _runtime(FORWARD_AD)),
)

BY_ID: dict[str, Task] = {task.id: task for task in TASKS}
MODULES: tuple[str, ...] = tuple(dict.fromkeys(task.module for task in TASKS))
MAX_SCORE = sum(task.points for task in TASKS)


def select(patterns: tuple[str, ...] | list[str]) -> list[Task]:
    """Tasks matching any pattern (a glob or a substring of the id); all if none."""
    if not patterns:
        return list(TASKS)
    chosen = []
    for task in TASKS:
        for pattern in patterns:
            if fnmatch.fnmatchcase(task.id, pattern) or pattern in task.id:
                chosen.append(task)
                break
    return chosen
