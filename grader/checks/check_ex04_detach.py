"""Checks for ex04_detach: cutting the graph with detach(), and non-leaf gradients."""
from __future__ import annotations

import torch
from grader.references import jacobian

from grader.checking import (Fail, check, deferred, expect_clean, expect_close, expect_tensor, factor_hint, first_hint,
                             on_every_input, ratio_hint, resembles, sign_hint, tolerance)
from grader.sandbox import wire

DETACH = "ex04_detach.detach_grads"
SEMI = "ex04_detach.semi_gradient"
NONLEAF = "ex04_detach.nonleaf_grads"




def _item(items: list, index: int, shape, dtype: torch.dtype, what: str, none_hint: str = "") -> torch.Tensor:
    if items[index] is None:
        raise Fail("not_a_tensor", what=what, got="None", hint=none_hint)
    return expect_tensor(items[index], tuple(shape), dtype, what)


# detach_grads -----------------------------------------------------------------


def _gz_hint(x: torch.Tensor, gy: torch.Tensor):
    x = x.to(torch.float64)

    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if resembles(got, 3 * x * x):
            return "not_detached"
        if resembles(got, 2 * x):
            # gz is gy's value: both were read from one .grad, or the pair is swapped
            return "swapped_pair" if resembles(gy, x * x) else "grad_not_cloned"
        if resembles(got, 2 * x * x):
            return "one_factor_detached"
        # gz comes from the first backward pass on a fresh leaf: nothing can have
        # accumulated yet, so a whole multiple is only a factor.
        return first_hint(factor_hint, sign_hint)(got, want)

    return diagnose


def _gy_hint(x: torch.Tensor):
    x = x.to(torch.float64)

    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if resembles(got, x * x + 2 * x) or resembles(got, 3 * x * x + 2 * x):
            return "grad_not_cleared"
        return first_hint(ratio_hint, sign_hint)(got, want)

    return diagnose


def _detach_case(task, x: torch.Tensor, *, visible: bool = False):
    answer = task(x)
    items = answer.sequence(2, what="(gz, gy)")
    gz = _item(items, 0, x.shape, x.dtype, "gz", "none_grad")
    gy = _item(items, 1, x.shape, x.dtype, "gy", "none_grad")
    # The closed form is the point of the exercise: u is a constant, so ∇Σ(u·x) = u = x².
    want_gz = x.to(torch.float64) ** 2
    want_gy = 2 * x.to(torch.float64)
    expect_close(gz, want_gz, "gz", visible=visible, diagnose=_gz_hint(x, gy))
    expect_close(gy, want_gy, "gy", visible=visible, diagnose=_gy_hint(x))
    return answer


@check(DETACH, 2, "the d2l example: x = torch.arange(4.0), then x = [-1.5, 0.5, 2]", visibility="visible")
def test_detach_seed(task):
    on_every_input([torch.arange(4.0), torch.tensor([-1.5, 0.5, 2.0])],
                   lambda x: _detach_case(task, x, visible=True))


@check(DETACH, 2, "random vectors of several sizes in float64")
def test_detach_float64(task, inputs):
    for n in (1, 5, 9):
        _detach_case(task, inputs.randn(n))


@check(DETACH, 1, "matrix-shaped inputs in float32 and float64")
def test_detach_matrix(task, inputs):
    _detach_case(task, inputs.randn(3, 4, dtype=torch.float32))
    _detach_case(task, inputs.randn(2, 5))


@check(DETACH, 1, "plain detached results not sharing memory, x untouched", visibility="visible")
def test_detach_contract(task, inputs):
    answer = _detach_case(task, inputs.randn(6))
    expect_clean(answer, "(gz, gy)")


# semi_gradient ----------------------------------------------------------------


def _semi_oracle(w, s, s_next, r: float, gamma: float, *, sign: float = 1.0):
    """The semi-gradient in float64 (the closed form: the target is a constant); ``sign``
    -1 replays the target r − γ·q(s′)."""
    w, s, s_next = (t.to(torch.float64) for t in (w, s, s_next))
    target = r + sign * gamma * (w * s_next).sum()
    q = (w * s).sum()
    return 2 * (q - target) * s + 0.0  # + 0.0: no -0


def _full_gradient(w, s, s_next, r: float, gamma: float):
    """The gradient with the target not detached, in float64."""
    w, s, s_next = (t.to(torch.float64) for t in (w, s, s_next))
    return jacobian(lambda v: ((v * s).sum() - (r + gamma * (v * s_next).sum())) ** 2, w)


@deferred
def _semi_hint(w, s, s_next, r: float, gamma: float):
    full = _full_gradient(w, s, s_next, r, gamma)
    minus_target = _semi_oracle(w, s, s_next, r, gamma, sign=-1.0)

    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if resembles(got, full):
            return "target_not_detached"
        if not resembles(want, minus_target) and resembles(got, minus_target):
            return "target_sign"
        # One backward pass: a constant factor is a coefficient, and a sign must hold on every input.
        return first_hint(factor_hint, sign_hint)(got, want)

    return diagnose


def _semi_case(task, w, s, s_next, r: float, gamma: float, *, visible: bool = False):
    answer = task(w, s, s_next, r, gamma)
    got = answer.tensor(tuple(w.shape), w.dtype, "∇_w loss")
    semi = _semi_oracle(w, s, s_next, r, gamma)
    expect_close(got, semi, "∇_w loss", visible=visible, diagnose=_semi_hint(w, s, s_next, r, gamma))
    return answer


def _random_semi(inputs, d: int, dtype: torch.dtype = torch.float64):
    w, s, s_next = inputs.randn(d, dtype=dtype), inputs.randn(d, dtype=dtype), inputs.randn(d, dtype=dtype)
    gamma = float(inputs.uniform(0.5, 0.99, 1))
    # Choose r so that the TD error q − target is well away from zero.
    delta = float(inputs.away_from_zero(1))
    q = float((w.double() * s.double()).sum())
    r = q - gamma * float((w.double() * s_next.double()).sum()) - delta
    return w, s, s_next, r, gamma


@check(SEMI, 2, "the example w = [1, 2], s = [1, 0], s_next = [0, 1], r = 1, γ = 0.5; then w = [0.5, -1], "
       "s = [1, 2], s_next = [2, 1], r = 0.5, γ = 0.9", visibility="visible")
def test_semi_example(task):
    cases = [(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), 1.0, 0.5),
             (torch.tensor([0.5, -1.0]), torch.tensor([1.0, 2.0]), torch.tensor([2.0, 1.0]), 0.5, 0.9)]
    on_every_input(cases, lambda case: _semi_case(task, *case, visible=True))


@check(SEMI, 2, "random weights and states of several sizes in float64")
def test_semi_float64(task, inputs):
    for d in (1, 3, 6):  # d = 1: a result of shape (1,), not a 0-d tensor
        _semi_case(task, *_random_semi(inputs, d))


@check(SEMI, 1, "random weights and states in float32")
def test_semi_float32(task, inputs):
    _semi_case(task, *_random_semi(inputs, 5, torch.float32))


@check(SEMI, 1, "plain detached result, arguments untouched", visibility="visible")
def test_semi_contract(task, inputs):
    answer = _semi_case(task, *_random_semi(inputs, 4))
    expect_clean(answer, "∇_w loss")


# nonleaf_grads ----------------------------------------------------------------


def _swapped(items: list, first: torch.Tensor, second: torch.Tensor) -> bool:
    """Whether the pair came back in the other order (each is the other's right answer)."""
    got = [item.tensor for item in items if isinstance(item, wire.Received)]
    if len(got) != 2 or tuple(got[0].shape) != tuple(second.shape) or tuple(got[1].shape) != tuple(first.shape) \
            or not (got[0].is_floating_point() and got[1].is_floating_point()):
        return False
    same = first.shape == second.shape and resembles(first, second)
    return not same and resembles(got[0], second) and resembles(got[1], first)


def _nonleaf_oracle(x: torch.Tensor, W: torch.Tensor):
    x64, W64 = x.to(torch.float64), W.to(torch.float64)
    gx = jacobian(lambda v: torch.tanh(W64 @ v).sum(), x64)
    gh = jacobian(lambda h: torch.tanh(h).sum(), W64 @ x64)
    return gx, gh


def _nonleaf_case(task, x: torch.Tensor, W: torch.Tensor, *, visible: bool = False):
    answer = task(x, W)
    items = answer.sequence(2, what="(∂out/∂x, ∂out/∂h)")
    want_gx, want_gh = _nonleaf_oracle(x, W)
    if _swapped(items, want_gx, want_gh):
        rtol, atol = tolerance(x.dtype)
        raise Fail("wrong_values", what="(∂out/∂x, ∂out/∂h)", hint="swapped_pair", rtol=rtol, atol=atol)
    gx = _item(items, 0, (W.shape[1],), x.dtype, "∂out/∂x", "none_grad")
    gh = _item(items, 1, (W.shape[0],), x.dtype, "∂out/∂h", "nonleaf_grad")
    diagnose = first_hint(ratio_hint, sign_hint)
    expect_close(gx, want_gx, "∂out/∂x", visible=visible, diagnose=diagnose)
    expect_close(gh, want_gh, "∂out/∂h", visible=visible, diagnose=diagnose)
    return answer


@check(NONLEAF, 2, "the example x = [0, 0], W = [[1, 2], [3, 4]]; then x = [0.5, -0.25], W = [[0.5, 1], [-1, 0.5], "
       "[0.25, 0]]", visibility="visible")
def test_nonleaf_example(task):
    cases = [(torch.tensor([0.0, 0.0]), torch.tensor([[1.0, 2.0], [3.0, 4.0]])),
             (torch.tensor([0.5, -0.25]), torch.tensor([[0.5, 1.0], [-1.0, 0.5], [0.25, 0.0]]))]
    on_every_input(cases, lambda case: _nonleaf_case(task, *case, visible=True))


@check(NONLEAF, 2, "non-square W of several shapes in float64")
def test_nonleaf_float64(task, inputs):
    for m, d in ((5, 3), (2, 4), (1, 1)):
        _nonleaf_case(task, inputs.randn(d), 0.7 * inputs.randn(m, d))


@check(NONLEAF, 1, "a non-square W in float32")
def test_nonleaf_float32(task, inputs):
    _nonleaf_case(task, inputs.randn(4, dtype=torch.float32), 0.7 * inputs.randn(3, 4, dtype=torch.float32))


@check(NONLEAF, 1, "plain detached results, arguments untouched", visibility="visible")
def test_nonleaf_contract(task, inputs):
    answer = _nonleaf_case(task, inputs.randn(3), 0.7 * inputs.randn(4, 3))
    expect_clean(answer, "(∂out/∂x, ∂out/∂h)")
