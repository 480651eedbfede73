"""Checks for ex07_higher_order: second derivatives, Hessian-vector products, J·u by double backward."""
from __future__ import annotations

from typing import Callable

import torch
from grader.references import hessian, hvp as oracle_hvp, jacobian, jvp as oracle_jvp

from grader.checking import (Answer, check, deferred, expect_clean, expect_close, first_hint,
                             resembles, sign_hint)
from grader.sandbox.catalogue import build
from grader.sandbox.wire import FnSpec

SECOND = "ex07_higher_order.second_derivative"
HVP = "ex07_higher_order.hvp"
JVP = "ex07_higher_order.jvp_by_double_backward"

# On a linear f, "no grad_fn" on the first derivative means f″ ≡ 0 was not handled.
LINEAR = {"create_graph": "linear_zero"}

Diagnose = Callable[[torch.Tensor, torch.Tensor], "str | None"]


def _fn64(spec: FnSpec) -> Callable[..., torch.Tensor]:
    """The catalogue function with its floating tensor parameters in float64 (for exact oracles)."""
    params = {k: (v.double() if isinstance(v, torch.Tensor) and v.is_floating_point() else v)
              for k, v in spec.params.items()}
    return build(spec.name, params)


def _matches(name: str, other: torch.Tensor) -> Diagnose:
    """A diagnosis that names ``name`` when the answer equals ``other`` (and ``other`` is not the answer)."""
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if other.shape == got.shape and not resembles(want, other) and resembles(got, other):
            return name
        return None
    return diagnose


# second_derivative -------------------------------------------------------------------


def _second_oracle(spec: FnSpec, x: torch.Tensor) -> torch.Tensor:
    f = _fn64(spec)
    x64 = x.double()
    n = x.numel()
    H = hessian(lambda t: f(t).sum(), x64)
    return H.reshape(n, n).diagonal().reshape(x.shape)


def _first_oracle(spec: FnSpec, x: torch.Tensor) -> torch.Tensor:
    f = _fn64(spec)
    return jacobian(lambda t: f(t).sum(), x.double())


@deferred
def _second_diagnose(spec: FnSpec, x: torch.Tensor) -> Diagnose:
    first = _first_oracle(spec, x)
    second = _second_oracle(spec, x)
    return first_hint(_matches("first_derivative", first), _matches("grad_kept", first + second), sign_hint)


def _expect_second(answer: Answer, spec: FnSpec, x: torch.Tensor, *, visible: bool = False) -> None:
    what = "f″(x)"
    got = answer.tensor(tuple(x.shape), x.dtype, what)
    expect_close(got, _second_oracle(spec, x), what, visible=visible, diagnose=_second_diagnose(spec, x))


@check(SECOND, 1, "x³ at [1, 2] (the docstring example) and sin at a few points", visibility="visible")
def test_second_example(task):
    spec = FnSpec("elementwise", kind="cube")
    x = torch.tensor([1.0, 2.0])
    _expect_second(task(spec, x), spec, x, visible=True)
    spec = FnSpec("elementwise", kind="sin")
    x = torch.linspace(-3.0, 3.0, 7, dtype=torch.float64)
    _expect_second(task(spec, x), spec, x, visible=True)


@check(SECOND, 1, "several elementwise functions in float64, inputs of several shapes")
def test_second_float64(task, inputs):
    for kind, shape in (("tanh", (6,)), ("x_sin_x", (3, 4)), ("softplus", (2, 3, 2)), ("cube", (5,)), ("sin", (4, 1))):
        spec = FnSpec("elementwise", kind=kind)
        x = inputs.uniform(-3.0, 3.0, *shape)
        _expect_second(task(spec, x), spec, x)


@check(SECOND, 1, "float32 inputs, matrix-shaped")
def test_second_float32(task, inputs):
    for kind, shape in (("sigmoid", (4, 3)), ("gelu_tanh", (2, 5)), ("sin", (3, 3))):
        spec = FnSpec("elementwise", kind=kind)
        x = inputs.uniform(-2.5, 2.5, *shape, dtype=torch.float32)
        _expect_second(task(spec, x), spec, x)


@check(SECOND, 1, "a linear f has f″ = 0 (zeros, not an error); plain detached result, x untouched", visibility="visible")
def test_second_linear_and_contract(task, inputs):
    a, b = float(inputs.away_from_zero(1)[0]), float(inputs.randn(1)[0])
    spec = FnSpec("affine", a=a, b=b)
    x = inputs.randn(5)
    answer = task.hinting(LINEAR)(spec, x)
    _expect_second(answer, spec, x)
    expect_clean(answer, "f″(x)")
    spec = FnSpec("elementwise", kind="exp")
    x = inputs.uniform(-1.0, 1.0, 2, 3)
    answer = task(spec, x)
    _expect_second(answer, spec, x)
    expect_clean(answer, "f″(x)")


# hvp -------------------------------------------------------------------------------


def _hvp_oracle(spec: FnSpec, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return oracle_hvp(_fn64(spec), x.double(), v.double())[1]


@deferred
def _hvp_diagnose(spec: FnSpec, x: torch.Tensor, v: torch.Tensor) -> Diagnose:
    grad = jacobian(_fn64(spec), x.double())
    hv = _hvp_oracle(spec, x, v)
    return first_hint(_matches("first_derivative", grad), _matches("grad_kept", grad + hv), sign_hint)


def _expect_hvp(answer: Answer, spec: FnSpec, x: torch.Tensor, v: torch.Tensor, *, visible: bool = False) -> None:
    what = "H·v"
    got = answer.tensor(tuple(x.shape), x.dtype, what)
    expect_close(got, _hvp_oracle(spec, x, v), what, visible=visible, diagnose=_hvp_diagnose(spec, x, v))


@check(HVP, 1, "the docstring example: f = x0²·x1 at x = [1, 2]", visibility="visible")
def test_hvp_example(task):
    spec = FnSpec("square_times")
    x = torch.tensor([1.0, 2.0])
    for v in ([1.0, 0.0], [0.5, -1.0]):
        v = torch.tensor(v)
        _expect_hvp(task(spec, x, v), spec, x, v, visible=True)


@check(HVP, 1, "dense, non-diagonal Hessians in float64, several sizes")
def test_hvp_dense_float64(task, inputs):
    for m, n in ((3, 3), (6, 4)):
        spec = FnSpec("quartic_form", A=0.5 * inputs.randn(m, n))
        x, v = inputs.randn(n), inputs.randn(n)
        _expect_hvp(task(spec, x, v), spec, x, v)
    spec = FnSpec("rosenbrock")
    x, v = inputs.uniform(-1.5, 1.5, 5), inputs.randn(5)
    _expect_hvp(task(spec, x, v), spec, x, v)


@check(HVP, 1, "float32 inputs, a vector and a matrix-shaped x")
def test_hvp_float32(task, inputs):
    spec = FnSpec("quartic_form", A=0.5 * inputs.randn(5, 5, dtype=torch.float32))
    x, v = inputs.randn(5, dtype=torch.float32), inputs.randn(5, dtype=torch.float32)
    _expect_hvp(task(spec, x, v), spec, x, v)
    for shape in ((3, 4), (1, 4)):  # a size-1 dimension kept
        spec = FnSpec("weighted_square_sum", c=inputs.randn(*shape, dtype=torch.float32))
        x, v = inputs.randn(*shape, dtype=torch.float32), inputs.randn(*shape, dtype=torch.float32)
        _expect_hvp(task(spec, x, v), spec, x, v)


@check(HVP, 1, "a linear f gives zeros; plain detached result, x and v untouched", visibility="visible")
def test_hvp_linear_and_contract(task, inputs):
    spec = FnSpec("sin_prod", c=inputs.randn(4))
    x, v = inputs.randn(4), inputs.randn(4)
    answer = task(spec, x, v)
    _expect_hvp(answer, spec, x, v)
    expect_clean(answer, "H·v")
    spec = FnSpec("dot_with", c=inputs.randn(2, 3))
    x, v = inputs.randn(2, 3), inputs.randn(2, 3)
    answer = task.hinting(LINEAR)(spec, x, v)
    _expect_hvp(answer, spec, x, v)
    expect_clean(answer, "H·v")


# jvp_by_double_backward ---------------------------------------------------------------


def _jvp_oracle(spec: FnSpec, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    return oracle_jvp(_fn64(spec), x.double(), u.double())[1]


@deferred
def _jvp_diagnose(spec: FnSpec, x: torch.Tensor, u: torch.Tensor) -> Diagnose:
    f = _fn64(spec)
    x64 = x.double()
    y = f(x64)
    J = jacobian(f, x64).reshape(y.numel(), x.numel())
    hints: list[Diagnose] = []
    if J.shape[0] == J.shape[1]:
        hints.append(_matches("jtv_not_jv", (J.T @ u.double().reshape(-1)).reshape(y.shape)))
    return first_hint(*hints, sign_hint)


def _expect_jvp(answer: Answer, spec: FnSpec, x: torch.Tensor, u: torch.Tensor, out_shape: tuple[int, ...],
                *, visible: bool = False) -> None:
    what = "J·u"
    got = answer.tensor(out_shape, x.dtype, what)
    expect_close(got, _jvp_oracle(spec, x, u), what, visible=visible, diagnose=_jvp_diagnose(spec, x, u))


@check(JVP, 0.5, "the docstring example: f = [x0·x1, x0] at x = [2, 3]", visibility="visible")
def test_jvp_example(task):
    spec = FnSpec("product_first")
    x = torch.tensor([2.0, 3.0])
    for u in ([1.0, 0.0], [0.0, 1.0]):
        u = torch.tensor(u)
        _expect_jvp(task(spec, x, u), spec, x, u, (2,), visible=True)


@check(JVP, 1, "non-symmetric and non-square Jacobians (R³ → R³, R³ → R⁵) in float64")
def test_jvp_nonsquare_float64(task, inputs):
    x, u = inputs.randn(3), inputs.randn(3)
    for m in (3, 5):
        spec = FnSpec("tanh_affine", A=inputs.randn(m, 3), b=inputs.randn(m))
        _expect_jvp(task(spec, x, u), spec, x, u, (m,))


@check(JVP, 0.5, "matrix-shaped input and output in float32; plain detached result, x and u untouched", visibility="visible")
def test_jvp_matrix_float32(task, inputs):
    spec = FnSpec("matrix_map", W=inputs.randn(4, 3, dtype=torch.float32), V=inputs.randn(2, 5, dtype=torch.float32))
    x, u = inputs.randn(3, 2, dtype=torch.float32), inputs.randn(3, 2, dtype=torch.float32)
    answer = task(spec, x, u)
    _expect_jvp(answer, spec, x, u, (4, 5))
    expect_clean(answer, "J·u")
    spec = FnSpec("matrix_map", W=inputs.randn(1, 3, dtype=torch.float32), V=inputs.randn(2, 1, dtype=torch.float32))
    _expect_jvp(task(spec, x, u), spec, x, u, (1, 1))  # size-1 dimensions kept
