"""Checks for ex05_control_flow: gradients through Python control flow."""
from __future__ import annotations

import torch
from grader.references import jacobian, vjp

from grader.checking import (check, expect_clean, expect_close, factor_hint, first_hint, on_every_input,
                             resembles, sign_hint)
from grader.sandbox.catalogue import build
from grader.sandbox.wire import FnSpec

CONTROL = "ex05_control_flow.control_flow_grad"
CURVE = "ex05_control_flow.derivative_curve"


# control_flow_grad ------------------------------------------------------------


def _d2l_f(a: torch.Tensor) -> torch.Tensor:
    """d2l's f, copied here: the one in the submission is the student's to keep (or break)."""
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def _control_oracle(a: torch.Tensor) -> torch.Tensor:
    # In a's own dtype: the number of doublings depends on the norm computed in that dtype.
    return jacobian(lambda t: _d2l_f(t).sum(), a.detach().clone())


def _control_case(task, a: torch.Tensor, *, visible: bool = False):
    answer = task(a)
    got = answer.tensor(tuple(a.shape), a.dtype, "∇ₐ Σ f(a)")
    expect_close(got, _control_oracle(a), "∇ₐ Σ f(a)", visible=visible, diagnose=first_hint(factor_hint, sign_hint))
    # d2l's own test: a.grad == d / a (compared within tolerance, not exactly).
    expect_close(got, _d2l_f(a) / a, "∇ₐ Σ f(a)", visible=visible)
    return answer


def _with_sum_sign(inputs, *shape: int, positive: bool, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Entries away from zero (f loops forever at 0) whose sum has the given sign, well away from 0."""
    while True:
        a = inputs.away_from_zero(*shape, dtype=dtype)
        total = float(a.sum())
        if abs(total) >= 0.2:
            return a if (total > 0) == positive else -a


@check(CONTROL, 2, "the d2l example: a scalar a, a.grad == d / a; then a vector in float64", visibility="visible")
def test_control_seed(task, inputs):
    cases = [torch.tensor(0.5), torch.tensor(-0.5), inputs.away_from_zero(1, dtype=torch.float32).reshape(()),
             torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64)]
    on_every_input(cases, lambda a: _control_case(task, a, visible=True))


@check(CONTROL, 2, "vectors with a positive and a negative sum, float64")
def test_control_vectors(task, inputs):
    for n in (3, 7):
        _control_case(task, _with_sum_sign(inputs, n, positive=True))
        _control_case(task, _with_sum_sign(inputs, n, positive=False))


@check(CONTROL, 1, "matrices in float32, both branches of the if")
def test_control_matrix(task, inputs):
    _control_case(task, _with_sum_sign(inputs, 3, 4, positive=True, dtype=torch.float32))
    _control_case(task, _with_sum_sign(inputs, 2, 5, positive=False, dtype=torch.float32))
    _control_case(task, _with_sum_sign(inputs, 4, 1, positive=True, dtype=torch.float32))  # a column kept


@check(CONTROL, 1, "plain detached result, a untouched", visibility="visible")
def test_control_contract(task, inputs):
    answer = _control_case(task, inputs.away_from_zero(1).reshape(()))
    expect_clean(answer, "∇ₐ Σ f(a)")
    answer = _control_case(task, _with_sum_sign(inputs, 2, 3, positive=False))
    expect_clean(answer, "∇ₐ Σ f(a)")


# derivative_curve -------------------------------------------------------------


def _curve_oracle(spec: FnSpec, x: torch.Tensor) -> torch.Tensor:
    x64 = x.to(torch.float64)
    # f is elementwise, so the vjp with v = 1 holds f′ at every point.
    return vjp(build(spec.name, spec.params), x64, torch.ones_like(x64))[1]


def _mean_hint(n: int):
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if n > 1 and torch.allclose(got.to(torch.float64) * n, want.to(torch.float64), rtol=1e-4,
                                    atol=1e-6 * max(float(want.abs().max()), 1.0)):
            return "mean_sum_swapped"
        return first_hint(factor_hint, sign_hint)(got, want)

    return diagnose


def _curve_case(task, spec: FnSpec, x: torch.Tensor, *, visible: bool = False):
    answer = task(spec, x)
    got = answer.tensor(tuple(x.shape), x.dtype, "f′(x)")
    expect_close(got, _curve_oracle(spec, x), "f′(x)", visible=visible, diagnose=_mean_hint(x.numel()))
    return answer


@check(CURVE, 1, "the d2l example: sin on torch.linspace(-3, 3, 50); then tanh in float64", visibility="visible")
def test_curve_sin(task):
    cases = [(FnSpec("elementwise", kind="sin"), torch.linspace(-3, 3, 50)),
             (FnSpec("elementwise", kind="tanh"), torch.linspace(-2, 2, 9, dtype=torch.float64))]
    on_every_input(cases, lambda case: _curve_case(task, *case, visible=True))


@check(CURVE, 1, "several functions on random points in float64")
def test_curve_float64(task, inputs):
    for kind, n in (("tanh", 20), ("x_sin_x", 7), ("gelu_tanh", 33), ("cube", 1)):
        _curve_case(task, FnSpec("elementwise", kind=kind), inputs.uniform(-3, 3, n))


@check(CURVE, 1, "several functions, a linear one included, in float32")
def test_curve_float32(task, inputs):
    for kind, n in (("softplus", 12), ("sigmoid", 5), ("exp", 9)):
        _curve_case(task, FnSpec("elementwise", kind=kind), inputs.uniform(-3, 3, n, dtype=torch.float32))
    _curve_case(task, FnSpec("affine", a=2.5, b=-1.0), inputs.uniform(-3, 3, 6, dtype=torch.float32))


@check(CURVE, 1, "plain detached result, x untouched", visibility="visible")
def test_curve_contract(task, inputs):
    answer = _curve_case(task, FnSpec("elementwise", kind="cos"), inputs.uniform(-3, 3, 10))
    expect_clean(answer, "f′(x)")


# second_price_grad ------------------------------------------------------------

PRICE = "ex05_control_flow.second_price_grad"


def _one_hot(bids: torch.Tensor, index: int) -> torch.Tensor:
    out = torch.zeros(bids.shape, dtype=torch.float64)
    out[index] = 1.0
    return out


def _price_hint(bids: torch.Tensor):
    """Name the bid the gradient went to: the winner, the runner-up's place in the
    sorted order, or the second-lowest bid (an ascending sort)."""
    order = torch.argsort(bids, descending=True)
    candidates = (("winner_not_runner_up", int(order[0])), ("ascending_sort", int(order[-2])),
                  ("sorted_position", 1))

    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        for hint, index in candidates:
            if not resembles(want, _one_hot(bids, index)) and resembles(got, _one_hot(bids, index)):
                return hint
        return first_hint(factor_hint, sign_hint)(got, want)

    return diagnose


def _price_case(task, bids: torch.Tensor, *, visible: bool = False):
    answer = task(bids)
    got = answer.tensor(tuple(bids.shape), bids.dtype, "∂price/∂bids")
    runner_up = int(torch.argsort(bids, descending=True)[1])
    expect_close(got, _one_hot(bids, runner_up), "∂price/∂bids", visible=visible, diagnose=_price_hint(bids))
    return answer


def _distinct_bids(inputs, n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Distinct bids in shuffled order, neither the winner nor the runner-up at index 1."""
    while True:
        bids = inputs.uniform(0.0, 100.0, n, dtype=dtype)
        gaps = torch.sort(bids).values.diff()
        order = torch.argsort(bids, descending=True)
        if bool((gaps > 0.5).all()) and (n < 3 or 1 not in (int(order[0]), int(order[1]))):
            return bids


@check(PRICE, 1, "the example: bids [3, 7, 5, 1] pay 5, the third bid", visibility="visible")
def test_price_example(task):
    _price_case(task, torch.tensor([3.0, 7.0, 5.0, 1.0]), visible=True)


@check(PRICE, 1, "random bids of several lengths in float64")
def test_price_float64(task, inputs):
    for n in (3, 6, 11):
        _price_case(task, _distinct_bids(inputs, n))


@check(PRICE, 1, "two bids, and negative bids, in float32")
def test_price_float32(task, inputs):
    _price_case(task, _distinct_bids(inputs, 2, torch.float32))
    _price_case(task, _distinct_bids(inputs, 5, torch.float32) - 200.0)


@check(PRICE, 1, "plain detached result, bids untouched", visibility="visible")
def test_price_contract(task, inputs):
    answer = _price_case(task, _distinct_bids(inputs, 7))
    expect_clean(answer, "∂price/∂bids")
