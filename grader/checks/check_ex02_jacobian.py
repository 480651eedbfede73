"""Checks for ex02_jacobian: Jacobian matrices by hand and from vector-Jacobian products."""
from __future__ import annotations

import math

import torch
from grader.references import jacobian

from grader.checking import (check, expect_clean, expect_close, first_hint, hint_with, on_every_input,
                             resembles, sign_hint, transpose_hint)
from grader.sandbox.catalogue import build
from grader.sandbox.wire import FnSpec

BY_HAND = "ex02_jacobian.jacobian_by_hand"
POLAR = "ex02_jacobian.jacobian_polar"
VJPS = "ex02_jacobian.jacobian_from_vjps"

SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def hand_entry(idx: tuple[int, ...]) -> str:
    """J[i, j] of f(x) = [x₁² + x₂, x₁ + x₂³] by its meaning (the notes number f and x from 1)."""
    i, j = idx
    return f"J[{i}, {j}] = ∂f{str(i + 1).translate(SUB)}/∂x{str(j + 1).translate(SUB)}"


def polar_entry(idx: tuple[int, ...]) -> str:
    """J[i, j] of g(r, θ) = [r cos θ, r sin θ] by its meaning: ∂g₁/∂θ for J[0, 1]."""
    i, j = idx
    return f"J[{i}, {j}] = ∂g{str(i + 1).translate(SUB)}/∂{('r', 'θ')[j]}"


def _entry_slip(entry):
    """Some entries of a closed form wrong, the others right: the wrong ones named by their
    meaning (never by their value), so the student knows which derivatives to redo."""
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        want = want.to(got.dtype)
        wrong = ~torch.isclose(got, want, rtol=1e-4, atol=1e-6)
        if not 0 < int(wrong.sum()) < wrong.numel():
            return None
        names = [entry(tuple(int(i) for i in idx)) for idx in wrong.nonzero()]
        return hint_with("entry_slip", entries=", ".join(names))
    return diagnose


def _closed_form_diagnosis(entry):
    return first_hint(transpose_hint, sign_hint, _entry_slip(entry))


def _accumulated_rows(out_numel: int):
    """Row i as the sum of rows 0..i: .grad kept the earlier one-hot passes' rows."""
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if out_numel < 2:
            return None
        running = want.to(torch.float64).reshape(out_numel, -1).cumsum(0).reshape(want.shape)
        if not resembles(want, running) and resembles(got, running):
            return "accumulated"
        return None
    return diagnose


def _cleared(got: torch.Tensor, want: torch.Tensor) -> str | None:
    """All zeros where the answer is not: the rows were .grad itself, cleared in place."""
    return "grad_cleared_too_soon" if not bool(got.any()) and bool(want.any()) else None


def _vjps_diagnosis(out_numel: int):
    return first_hint(transpose_hint, _cleared, sign_hint, _accumulated_rows(out_numel))


def _expect_closed_form(task, x: torch.Tensor, closed_form, entry, *, visible: bool = False):
    """The student's 2×2 Jacobian at x against the closed form (in float64)."""
    answer = task(x)
    got = answer.tensor((2, 2), x.dtype, "J")
    expect_close(got, closed_form(x), "J", visible=visible, diagnose=_closed_form_diagnosis(entry), entry=entry)
    return answer


# jacobian_by_hand ----------------------------------------------------------------------


def _by_hand(x: torch.Tensor) -> torch.Tensor:
    """J of f(x) = [x₁² + x₂, x₁ + x₂³], in float64."""
    x1, x2 = (float(v) for v in x.double())
    return torch.tensor([[2 * x1, 1.0], [1.0, 3 * x2**2]], dtype=torch.float64)


def _expect_by_hand(task, x: torch.Tensor, *, visible: bool = False):
    return _expect_closed_form(task, x, _by_hand, hand_entry, visible=visible)


@check(BY_HAND, 1, "the notes' example: x = [2, 3] gives [[4, 1], [1, 27]]; then x = [-1, 0.5]",
       visibility="visible")
def test_hand_seed_example(task):
    on_every_input([torch.tensor([2.0, 3.0]), torch.tensor([-1.0, 0.5])],
                   lambda x: _expect_by_hand(task, x, visible=True))


@check(BY_HAND, 1, "random points in float64")
def test_hand_float64(task, inputs):
    for _ in range(3):
        _expect_by_hand(task, inputs.uniform(-3.0, 3.0, 2))


@check(BY_HAND, 1, "random points in float32")
def test_hand_float32(task, inputs):
    for _ in range(3):
        _expect_by_hand(task, inputs.uniform(-3.0, 3.0, 2, dtype=torch.float32))


@check(BY_HAND, 1, "plain detached result, argument untouched (negative entries and zero)", visibility="visible")
def test_hand_contract(task, inputs):
    for x in (torch.tensor([0.0, -1.5], dtype=torch.float64), -inputs.uniform(0.5, 2.0, 2)):
        answer = _expect_by_hand(task, x)
        expect_clean(answer, "J")


# jacobian_polar ------------------------------------------------------------------------


def _polar(p: torch.Tensor) -> torch.Tensor:
    """J of g(r, θ) = [r cos θ, r sin θ], in float64."""
    r, theta = (float(v) for v in p.double())
    c, s = math.cos(theta), math.sin(theta)
    return torch.tensor([[c, -r * s], [s, r * c]], dtype=torch.float64)


def _expect_polar(task, p: torch.Tensor, *, visible: bool = False):
    return _expect_closed_form(task, p, _polar, polar_entry, visible=visible)


@check(POLAR, 1, "the notes' example p = (2, 0), then p = (1, π/3)", visibility="visible")
def test_polar_seed_example(task):
    on_every_input([torch.tensor([2.0, 0.0]), torch.tensor([1.0, math.pi / 3])],
                   lambda p: _expect_polar(task, p, visible=True))


@check(POLAR, 1, "random (r, θ) in float64")
def test_polar_float64(task, inputs):
    for _ in range(3):
        p = torch.stack([inputs.uniform(0.5, 3.0, ()), inputs.uniform(-math.pi, math.pi, ())])
        _expect_polar(task, p)


@check(POLAR, 1, "random (r, θ) in float32")
def test_polar_float32(task, inputs):
    for _ in range(3):
        p = torch.stack([inputs.uniform(0.5, 3.0, (), dtype=torch.float32),
                         inputs.uniform(-math.pi, math.pi, (), dtype=torch.float32)])
        _expect_polar(task, p)


@check(POLAR, 1, "negative r and large θ; plain detached result, argument untouched", visibility="visible")
def test_polar_contract(task, inputs):
    p = torch.stack([-inputs.uniform(0.5, 2.0, ()), inputs.uniform(4.0, 9.0, ())])
    answer = _expect_polar(task, p)
    expect_clean(answer, "J")


# jacobian_from_vjps -----------------------------------------------------------------------


def _vjps_entry(out_dims: int):
    """J[i, j] = ∂y[i]/∂x[j], with the output's and the input's own (zero-based) indices."""
    def entry(idx: tuple[int, ...]) -> str:
        out, inp = idx[:out_dims], idx[out_dims:]
        def index(part):
            return "[" + ", ".join(str(i) for i in part) + "]" if part else ""
        return f"J{list(idx)} = ∂y{index(out)}/∂x{index(inp)}"
    return entry


def _expect_jacobian(task, spec: FnSpec, x: torch.Tensor, *, visible: bool = False):
    f = build(spec.name, spec.params)
    want = jacobian(f, x.detach().clone())
    out_shape = tuple(f(x.detach().clone()).shape)
    shape = out_shape + tuple(x.shape)
    # For a constant f, "no grad_fn" means the output ignores x, a case to return zeros for.
    if spec.name == "constant":
        task = task.hinting({"no_grad_on_input": "disconnected_output"})
    answer = task(spec, x)
    got = answer.tensor(shape, x.dtype, "J")
    expect_close(got, want, "J", visible=visible, diagnose=_vjps_diagnosis(math.prod(out_shape)),
                 entry=_vjps_entry(len(out_shape)))
    return answer


# A Jacobian that is not symmetric, so that a transposed answer shows in the student's own run.
NON_SYMMETRIC = FnSpec("tanh_affine", A=torch.tensor([[1.0, 2.0], [-0.5, 1.5]]), b=torch.tensor([0.1, -0.2]))


@check(VJPS, 1, "the notes' examples at x = [2, 3] ([x0², x1³] and [x₁² + x₂, x₁ + x₂³]), "
       "then tanh(A x + b) with a non-symmetric Jacobian", visibility="visible")
def test_vjps_seed_example(task):
    # An output that ignores x is not in the notes: test_vjps_scalar_and_constant alone
    # charges that edge case.
    x = torch.tensor([2.0, 3.0])
    cases = [(FnSpec("seed_square_cube"), x), (FnSpec("seed_jacobian_f"), x),
             (NON_SYMMETRIC, torch.tensor([0.3, -0.4]))]
    on_every_input(cases, lambda case: _expect_jacobian(task, *case, visible=True))


@check(VJPS, 2, "non-symmetric Jacobians in float64: ℝ³ → ℝ³ and ℝ³ → ℝ⁵")
def test_vjps_nonsymmetric_float64(task, inputs):
    for m in (3, 5):
        f = FnSpec("tanh_affine", A=inputs.randn(m, 3), b=inputs.randn(m))
        _expect_jacobian(task, f, inputs.randn(3))


@check(VJPS, 2, "matrix in, matrix out in float32: J has shape f(x).shape + x.shape")
def test_vjps_matrix_float32(task, inputs):
    f = FnSpec("matrix_map", W=inputs.randn(4, 3, dtype=torch.float32), V=inputs.randn(2, 5, dtype=torch.float32))
    _expect_jacobian(task, f, inputs.randn(3, 2, dtype=torch.float32))
    # size-1 dimensions in and out, which J keeps: shape (1, 5, 3, 1)
    f = FnSpec("matrix_map", W=inputs.randn(1, 3, dtype=torch.float32), V=inputs.randn(1, 5, dtype=torch.float32))
    _expect_jacobian(task, f, inputs.randn(3, 1, dtype=torch.float32))


@check(VJPS, 2, "a scalar output (J is the gradient), and an output that ignores x (J is 0)", visibility="visible")
def test_vjps_scalar_and_constant(task, inputs):
    _expect_jacobian(task, FnSpec("to_scalar", A=inputs.randn(3, 4)), inputs.randn(4))
    _expect_jacobian(task, FnSpec("to_scalar", A=inputs.randn(2, 6, dtype=torch.float32)),
                     inputs.randn(2, 3, dtype=torch.float32))
    _expect_jacobian(task, FnSpec("constant", c=inputs.randn(3)), inputs.randn(2))


@check(VJPS, 1, "plain detached result, argument untouched", visibility="visible")
def test_vjps_contract(task, inputs):
    answer = _expect_jacobian(task, FnSpec("coupled"), inputs.randn(2, 3))
    expect_clean(answer, "J")
    answer = _expect_jacobian(task, FnSpec("coupled"), inputs.randn(4, dtype=torch.float32))
    expect_clean(answer, "J")
