"""Checks for ex08_custom_function: a hand-written backward, and gradient checks."""
from __future__ import annotations

import torch
from torch.autograd.gradcheck import GradcheckError

from grader.checking import Fail, changed_by_rounding, check, deferred, expect_clean, expect_close, resembles, sign_hint
from grader.sandbox.catalogue import build
from grader.sandbox.wire import FnSpec

SOFTPLUS = "ex08_custom_function.softplus_grad"


# softplus_grad --------------------------------------------------------------------
# The student's backward runs in the sandbox only. The checks compare what it returns
# with g·σ(x) computed here, over many inputs, and run torch.autograd.gradcheck here,
# in the trusted process, on a Function whose forward is this file's own softplus and
# whose backward asks the sandbox: every reply is read as untrusted data (a plain
# tensor of the exact shape and dtype, finite) before gradcheck compares it with
# finite differences of the trusted forward.


def _softplus(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))


def _softplus_hint(x: torch.Tensor, g: torch.Tensor):
    x64, g64 = x.to(torch.float64), g.to(torch.float64)

    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if not resembles(want, torch.sigmoid(x64)) and resembles(got, torch.sigmoid(x64)):
            return "forgot_grad_output"
        if resembles(got, g64 * torch.sigmoid(_softplus(x64))):
            return "sigmoid_of_output"
        return sign_hint(got, want)

    return diagnose


def _reply(answer, x: torch.Tensor, what: str = "grad_output · σ(x)") -> torch.Tensor:
    try:
        return answer.tensor(tuple(x.shape), x.dtype, what)
    except Fail as failure:
        if failure.code == "not_finite":
            raise Fail("not_finite", **{**failure.params, "hint": "unstable_sigmoid"}) from None
        raise


def _softplus_case(task, x: torch.Tensor, g: torch.Tensor, *, visible: bool = False):
    answer = task(x, g)
    got = _reply(answer, x)
    want = g.to(torch.float64) * torch.sigmoid(x.to(torch.float64))
    expect_close(got, want, "grad_output · σ(x)", visible=visible, diagnose=_softplus_hint(x, g))
    return answer


class _SandboxedBackward(torch.autograd.Function):
    """softplus with the check's own forward and the student's backward (in the sandbox)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, ask) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.ask = ask
        return _softplus(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (x,) = ctx.saved_tensors
        return ctx.ask(x.detach().clone(), grad_output.detach().clone()), None


def _gradcheck(task, x: torch.Tensor, inputs) -> None:
    def ask(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return _reply(task(x, g), x)

    leaf = x.detach().clone().requires_grad_(True)
    try:
        torch.autograd.gradcheck(lambda t: _SandboxedBackward.apply(t, ask), (leaf,), eps=1e-6, atol=1e-5,
                                 rtol=1e-3, fast_mode=True)
    except GradcheckError:
        # gradcheck says only that the Jacobians differ: one direct call says how.
        g = inputs.uniform(0.5, 2.0, *x.shape) * torch.where(inputs.randn(*x.shape) < 0, -1.0, 1.0)
        _softplus_case(task, x, g)
        raise Fail("wrong_values", what="SmoothReLU.backward, checked by torch.autograd.gradcheck",
                   hint="", rtol=1e-3, atol=1e-5) from None


@check(SOFTPLUS, 2, "the example: x = [-2, -1, 0, 1, 2] with grad_output = [1, 2, 0.5, -1, 3]",
       visibility="visible")
def test_softplus_example(task):
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], dtype=torch.float64)
    _softplus_case(task, x, torch.tensor([1.0, 2.0, 0.5, -1.0, 3.0], dtype=torch.float64), visible=True)
    _softplus_case(task, torch.tensor([0.0]), torch.tensor([2.0]), visible=True)


@check(SOFTPLUS, 2, "torch.autograd.gradcheck in float64: a 0-d x, a vector, a matrix, large |x|")
def test_softplus_gradcheck(task, inputs):
    _gradcheck(task, inputs.randn(()), inputs)
    _gradcheck(task, torch.cat([inputs.uniform(-4, 4, 4), torch.tensor([-500.0, 50.0], dtype=torch.float64)]),
               inputs)
    _gradcheck(task, inputs.uniform(-6, 6, 3, 4), inputs)


@check(SOFTPLUS, 2, "large |x| (±50, ±500) and many random points, float64 and float32: no overflow, no NaN")
def test_softplus_large(task, inputs):
    for dtype in (torch.float64, torch.float32):
        extremes = torch.tensor([-500.0, -50.0, -20.0, 0.0, 20.0, 50.0, 500.0], dtype=dtype)
        _softplus_case(task, extremes, inputs.uniform(0.5, 3.0, 7, dtype=dtype))
        _softplus_case(task, inputs.uniform(-60.0, 60.0, 200, dtype=dtype), inputs.randn(200, dtype=dtype))


@check(SOFTPLUS, 1, "a non-square matrix in float32")
def test_softplus_matrix_float32(task, inputs):
    _softplus_case(task, inputs.uniform(-5, 5, 2, 5, dtype=torch.float32), inputs.randn(2, 5, dtype=torch.float32))


@check(SOFTPLUS, 1, "plain detached result, arguments untouched", visibility="visible")
def test_softplus_contract(task, inputs):
    answer = _softplus_case(task, inputs.uniform(-5, 5, 3, 2), inputs.randn(3, 2))
    expect_clean(answer, "grad_output · σ(x)")


# numerical_grad -------------------------------------------------------------------
# The answer is defined by its formula, so the check computes the same central
# difference itself (in float64, with the catalogue's own f) and compares closely.
# A larger ε passed explicitly makes the one-sided difference's O(ε) error, and a
# central difference taken with another ε, far larger than the tolerance.

NUMERICAL = "ex08_custom_function.numerical_grad"
DEFAULT_EPS = 1e-6


def _difference(spec: FnSpec, x: torch.Tensor, eps: float, kind: str = "central") -> torch.Tensor:
    f = build(spec.name, spec.params)
    x = x.detach().to(torch.float64)
    out = torch.zeros(x.numel(), dtype=torch.float64)
    for i in range(x.numel()):
        step = torch.zeros(x.numel(), dtype=torch.float64)
        step[i] = eps
        step = step.reshape(x.shape)
        if kind == "central":
            out[i] = (f(x + step) - f(x - step)) / (2 * eps)
        else:
            out[i] = (f(x + step) - f(x)) / eps
    return out.reshape(x.shape)


@deferred
def _numerical_hint(spec: FnSpec, x: torch.Tensor, eps: float):
    forward = _difference(spec, x, eps, "forward")
    other_eps = _difference(spec, x, DEFAULT_EPS if eps != DEFAULT_EPS else 1e-3)

    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if resembles(got, forward) and not resembles(want, forward):
            return "forward_difference"
        if resembles(got, 2 * want) and bool((want != 0).any()):
            return "central_two_eps"
        if resembles(got, want / 2) and bool((want != 0).any()):
            return "central_half_step"
        if eps != DEFAULT_EPS and resembles(got, other_eps):
            return "eps_ignored"
        return sign_hint(got, want)

    return diagnose


def _numerical_case(task, spec: FnSpec, x: torch.Tensor, eps: float | None = None, *, visible: bool = False,
                    loose: bool = False, contract: bool = False):
    """``eps=None`` leaves the default to the student's signature; ``contract``: the
    check that holds the contract's rules (x untouched) whatever the values."""
    answer = task(spec, x) if eps is None else task(spec, x, eps)
    used = DEFAULT_EPS if eps is None else eps
    got = answer.tensor(tuple(x.shape), x.dtype, "the central difference")
    want = _difference(spec, x, used)
    # The formula is exact, so only rounding may differ: at ε = 1e-6 about 1e-8 of |f|.
    tol = (1e-5, 1e-7) if loose else (1e-7, 1e-9)
    try:
        expect_clean(answer, "the central difference")
    except Fail as unclean:
        # A perturbation left in x shifts every later estimate: it is said first, as the
        # cause. One put back up to rounding (x perturbed in place, then restored) costs
        # only the contract's check, as changing an argument does in every task.
        if contract or unclean.code != "argument_modified" or not changed_by_rounding(answer, x.dtype):
            raise
    expect_close(got, want, "the central difference", visible=visible, diagnose=_numerical_hint(spec, x, used), tol=tol)
    return answer


@check(NUMERICAL, 2, "the example: x³ with ε = 1e-3; 2·xᵀx at x = torch.arange(4.0)", visibility="visible")
def test_numerical_example(task):
    _numerical_case(task, FnSpec("cube_sum"), torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64), 1e-3,
                    visible=True)
    _numerical_case(task, FnSpec("two_dot"), torch.arange(4.0, dtype=torch.float64), visible=True, loose=True)


@check(NUMERICAL, 2, "several functions with ε = 1e-3 and 1e-4 passed explicitly, a matrix-shaped x")
def test_numerical_explicit_eps(task, inputs):
    _numerical_case(task, FnSpec("sin_prod", c=inputs.randn(5)), inputs.randn(5), 1e-3)
    _numerical_case(task, FnSpec("quartic_form", A=inputs.randn(3, 4)), inputs.randn(4), 1e-4)
    _numerical_case(task, FnSpec("rosenbrock"), inputs.uniform(-1.5, 1.5, 6), 1e-3)
    _numerical_case(task, FnSpec("to_scalar", A=inputs.randn(4, 6)), inputs.randn(2, 3), 1e-3)


@check(NUMERICAL, 1, "the default ε: a 0-d x, a single entry, a matrix")
def test_numerical_default_eps(task, inputs):
    _numerical_case(task, FnSpec("cube_sum"), inputs.uniform(0.5, 2.0, ()), loose=True)
    _numerical_case(task, FnSpec("sin_prod", c=inputs.randn(1)), inputs.randn(1), loose=True)
    # An entry at 0, where the gradient of 2·xᵀx is 0: a one-sided difference is off
    # by 2ε there even at the default ε.
    x = inputs.randn(3, 2)
    x[1, 0] = 0.0
    _numerical_case(task, FnSpec("two_dot"), x, loose=True)


@check(NUMERICAL, 1, "plain detached result, x untouched, a function coupling the entries", visibility="visible")
def test_numerical_contract(task, inputs):
    _numerical_case(task, FnSpec("sin_prod", c=inputs.randn(2, 2)), inputs.randn(2, 2), 1e-3, contract=True)
