"""Named callables that checks pass to student functions.

A student function such as ``vjp(f, x, v)`` receives a function argument. Code
cannot cross the process boundary safely, so the check names a function from this
catalogue (with tensor or number parameters) and both sides build it from the
name: the child to call the student's code with it, the checks to compute the
expected answer with ``torch.autograd.functional``.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

Builder = Callable[..., Callable[..., torch.Tensor]]
CATALOGUE: dict[str, Builder] = {}


def entry(name: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        CATALOGUE[name] = builder
        return builder

    return register


class UnknownFunction(KeyError):
    pass


def build(name: str, params: dict[str, Any]) -> Callable[..., torch.Tensor]:
    try:
        builder = CATALOGUE[name]
    except KeyError:
        raise UnknownFunction(name) from None
    return builder(**params)


# Seed examples from the notes ------------------------------------------------


@entry("seed_jacobian_f")
def _seed_jacobian_f() -> Callable[[torch.Tensor], torch.Tensor]:
    # f(x) = [x1^2 + x2, x1 + x2^3]: its Jacobian is symmetric.
    return lambda x: torch.stack([x[0] ** 2 + x[1], x[0] + x[1] ** 3])


@entry("seed_square_cube")
def _seed_square_cube() -> Callable[[torch.Tensor], torch.Tensor]:
    # y = [x0^2, x1^3]
    return lambda x: torch.stack([x[0] ** 2, x[1] ** 3])


# Vector and tensor functions with non-symmetric Jacobians --------------------


@entry("tanh_affine")
def _tanh_affine(A: torch.Tensor, b: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    # R^n -> R^m, m != n in general.
    return lambda x: torch.tanh(A @ x + b)


@entry("coupled")
def _coupled() -> Callable[[torch.Tensor], torch.Tensor]:
    # Any shape to the same shape; each output depends on its entry and the previous one.
    def f(x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1)
        out = torch.sin(flat) * flat.roll(1) + 0.5 * flat**2
        return out.reshape(x.shape)

    return f


@entry("matrix_map")
def _matrix_map(W: torch.Tensor, V: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    # (n, k) -> (m, p): a matrix-shaped input and output.
    return lambda X: torch.sin(W @ X) @ V


@entry("to_scalar")
def _to_scalar(A: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    # Any shape -> a 0-d tensor.
    return lambda x: torch.logsumexp(A @ x.reshape(-1), dim=0)


@entry("constant")
def _constant(c: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    # Output disconnected from the input: its Jacobian is zero.
    return lambda x: c.clone()


# Scalar functions -------------------------------------------------------------


@entry("cube_sum")
def _cube_sum() -> Callable[[torch.Tensor], torch.Tensor]:
    # Saves tensors for backward: a second backward without retain_graph raises.
    return lambda x: (x**3).sum()


@entry("plain_sum")
def _plain_sum() -> Callable[[torch.Tensor], torch.Tensor]:
    # Saves nothing: a second backward silently accumulates.
    return lambda x: x.sum()


@entry("weighted_square_sum")
def _weighted_square_sum(c: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: (c * x * x).sum()


@entry("dot_with")
def _dot_with(c: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: (c * x).sum()


@entry("sin_prod")
def _sin_prod(c: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: torch.sin(c * x).sum() * x.sum()


@entry("quartic_form")
def _quartic_form(A: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    # A scalar function with a dense, non-diagonal Hessian.
    return lambda x: ((A @ x) ** 4).sum() / 4 + torch.logsumexp(x, dim=0)


@entry("rosenbrock")
def _rosenbrock() -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


# Elementwise functions -----------------------------------------------------------

_ELEMENTWISE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sin": torch.sin,
    "cos": torch.cos,
    "tanh": torch.tanh,
    "exp": torch.exp,
    "sigmoid": torch.sigmoid,
    "softplus": torch.nn.functional.softplus,
    "cube": lambda x: x**3,
    "x_sin_x": lambda x: x * torch.sin(x),
    "gelu_tanh": lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
}


@entry("elementwise")
def _elementwise(kind: str) -> Callable[[torch.Tensor], torch.Tensor]:
    return _ELEMENTWISE[kind]


@entry("affine")
def _affine(a: float, b: float) -> Callable[[torch.Tensor], torch.Tensor]:
    # Linear: second derivative identically zero.
    return lambda x: a * x + b


# Multi-task losses -------------------------------------------------------------


@entry("two_layer_tasks")
def _two_layer_tasks(X: torch.Tensor, Y: torch.Tensor) -> Callable[..., torch.Tensor]:
    # params (W1 (h, d), W2 (k, h)), optionally a third that no task uses: k task losses,
    # one per output column.
    def losses(W1: torch.Tensor, W2: torch.Tensor, *unused: torch.Tensor) -> torch.Tensor:
        pred = torch.tanh(X @ W1.T) @ W2.T
        return ((pred - Y) ** 2).mean(dim=0)

    return losses


@entry("shared_head_tasks")
def _shared_head_tasks(X: torch.Tensor, Y: torch.Tensor) -> Callable[..., torch.Tensor]:
    # params (w (d,), b ()): k=3 losses of different kinds on one linear model.
    def losses(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        pred = X @ w + b
        return torch.stack([
            ((pred - Y) ** 2).mean(),
            (pred - Y).abs().mean(),
            (w**2).sum(),
        ])

    return losses


# ex01_backward ------------------------------------------------------------------


@entry("two_dot")
def _two_dot() -> Callable[[torch.Tensor], torch.Tensor]:
    # d2l's y = 2·xᵀx (any shape, flattened); torch.dot saves x for backward.
    return lambda x: 2 * torch.dot(x.reshape(-1), x.reshape(-1))


# ex07_higher_order ---------------------------------------------------------------


@entry("square_times")
def _square_times() -> Callable[[torch.Tensor], torch.Tensor]:
    # The hvp docstring example: f(t) = t0² · t1, H = [[2 t1, 2 t0], [2 t0, 0]].
    return lambda t: t[0] ** 2 * t[1]


@entry("product_first")
def _product_first() -> Callable[[torch.Tensor], torch.Tensor]:
    # The jvp docstring example: f(t) = [t0 · t1, t0], J = [[t1, t0], [1, 0]] (non-symmetric).
    return lambda t: torch.stack([t[0] * t[1], t[0]])


# ex03_vjp: functions whose later calls differ from the first ----------------------
# vjps_on_one_graph must build y = f(x) once: f called again for a later v gives
# AGAIN times the first call's output, so a second call shows in the values.

AGAIN = 1.5


def _first_call_counts(f: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    calls = [0]

    def counted(x: torch.Tensor) -> torch.Tensor:
        calls[0] += 1
        y = f(x)
        return y if calls[0] == 1 else AGAIN * y

    return counted


@entry("once_seed_square_cube")
def _once_seed_square_cube() -> Callable[[torch.Tensor], torch.Tensor]:
    return _first_call_counts(_seed_square_cube())


@entry("once_tanh_affine")
def _once_tanh_affine(A: torch.Tensor, b: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    return _first_call_counts(_tanh_affine(A, b))


@entry("once_matrix_map")
def _once_matrix_map(W: torch.Tensor, V: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    return _first_call_counts(_matrix_map(W, V))


@entry("once_coupled")
def _once_coupled() -> Callable[[torch.Tensor], torch.Tensor]:
    return _first_call_counts(_coupled())


# ex01_backward.backward_twice builds y = f(x) once and backs through that one graph
# twice: f called again for the second pass shows as ∇f + AGAIN·∇f.


@entry("once_two_dot")
def _once_two_dot() -> Callable[[torch.Tensor], torch.Tensor]:
    return _first_call_counts(_two_dot())


@entry("once_cube_sum")
def _once_cube_sum() -> Callable[[torch.Tensor], torch.Tensor]:
    return _first_call_counts(_cube_sum())


@entry("once_plain_sum")
def _once_plain_sum() -> Callable[[torch.Tensor], torch.Tensor]:
    return _first_call_counts(_plain_sum())


@entry("once_sin_prod")
def _once_sin_prod(c: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    return _first_call_counts(_sin_prod(c))
