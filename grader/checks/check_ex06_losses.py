"""Checks for ex06_losses: scalar and non-scalar losses."""
from __future__ import annotations

import torch
from grader.references import jacobian

from grader.checking import (Fail, check, expect_clean, expect_close, expect_tensor, factor_hint, first_hint,
                             on_every_input, resembles, shares_memory, sign_hint)

LOSSES = "ex06_losses.loss_grads"
WEIGHTED = "ex06_losses.weighted_loss_grad"




def _per_sample_jacobian(w: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∂ℓᵢ/∂w for every sample, shape (n, d), in float64 (ℓᵢ = (Xᵢ·w − yᵢ)²)."""
    w64, X64, y64 = (t.to(torch.float64) for t in (w, X, y))
    return jacobian(lambda v: (X64 @ v - y64) ** 2, w64)


def _item(items: list, index: int, shape, dtype: torch.dtype, what: str) -> torch.Tensor:
    if items[index] is None:
        raise Fail("not_a_tensor", what=what, got="None", hint="none_grad")
    return expect_tensor(items[index], tuple(shape), dtype, what)


# loss_grads -------------------------------------------------------------------


def _loss_case(task, w, X, y, *, visible: bool = False):
    answer = task(w, X, y)
    items = answer.sequence(2, what="(grad of the mean, grad of the sum)")
    g_mean = _item(items, 0, w.shape, w.dtype, "grad of the mean")
    g_sum = _item(items, 1, w.shape, w.dtype, "grad of the sum")
    J = _per_sample_jacobian(w, X, y)
    want_sum = J.sum(dim=0)
    want_mean = want_sum / X.shape[0]

    def mean_hint(got, want):
        if resembles(got, want_sum) and X.shape[0] > 1:
            # The sum's gradient in the mean's place: swapped only if the mean's is in
            # the sum's; one .grad tensor returned twice if both hold the sum's.
            if resembles(g_sum, want_mean):
                return "mean_sum_swapped"
            if shares_memory(items[0], items[1]):
                return "grad_not_cloned"
        return first_hint(factor_hint, sign_hint)(got, want)

    def sum_hint(got, want):
        if resembles(got, want_mean) and X.shape[0] > 1:
            return "mean_sum_swapped"
        if resembles(got, want_sum + want_mean):
            return "grad_not_cleared"
        return first_hint(factor_hint, sign_hint)(got, want)

    expect_close(g_mean, want_mean, "grad of the mean", visible=visible, diagnose=mean_hint)
    expect_close(g_sum, want_sum, "grad of the sum", visible=visible, diagnose=sum_hint)
    return answer


def _regression(inputs, n: int, d: int, dtype: torch.dtype = torch.float64):
    return inputs.randn(d, dtype=dtype), inputs.randn(n, d, dtype=dtype), inputs.randn(n, dtype=dtype)


@check(LOSSES, 2, "the example w = [0], X = [[1], [2]], y = [1, 2]; then three samples, two features, in float64",
       visibility="visible")
def test_losses_example(task):
    cases = [(torch.tensor([0.0]), torch.tensor([[1.0], [2.0]]), torch.tensor([1.0, 2.0])),
             (torch.tensor([0.5, -1.0], dtype=torch.float64),
              torch.tensor([[1.0, 0.0], [2.0, 1.0], [-1.0, 3.0]], dtype=torch.float64),
              torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64))]
    on_every_input(cases, lambda case: _loss_case(task, *case, visible=True))


@check(LOSSES, 2, "random data of several sizes in float64")
def test_losses_float64(task, inputs):
    for n, d in ((6, 3), (10, 4), (3, 5)):
        _loss_case(task, *_regression(inputs, n, d))


@check(LOSSES, 1, "random data in float32")
def test_losses_float32(task, inputs):
    _loss_case(task, *_regression(inputs, 8, 3, torch.float32))


@check(LOSSES, 1, "plain detached results not sharing memory, arguments untouched", visibility="visible")
def test_losses_contract(task, inputs):
    answer = _loss_case(task, *_regression(inputs, 5, 2))
    expect_clean(answer, "(grad of the mean, grad of the sum)")


# weighted_loss_grad -----------------------------------------------------------


def _weighted_case(task, w, X, y, s, *, visible: bool = False):
    answer = task(w, X, y, s)
    got = answer.tensor(tuple(w.shape), w.dtype, "∇_w Σ sᵢ·ℓᵢ")
    J = _per_sample_jacobian(w, X, y)
    want = s.to(torch.float64) @ J
    n = X.shape[0]

    twice = (s.to(torch.float64) ** 2) @ J

    def diagnose(got, want):
        if resembles(got, J.sum(dim=0)) or resembles(got, J.mean(dim=0)):
            return "unweighted"
        # Where the weights applied twice and the mean give the same number ([0.5, 0.5]
        # with n = 2), neither is named: the factor says what is seen.
        ambiguous = n > 1 and resembles(twice, want / n)
        if not ambiguous and not resembles(twice, want) and resembles(got, twice):
            return "weighted_twice"
        if n > 1 and not ambiguous and resembles(got, want / n):
            return "mean_sum_swapped"
        return first_hint(factor_hint, sign_hint)(got, want)

    expect_close(got, want, "∇_w Σ sᵢ·ℓᵢ", visible=visible, diagnose=diagnose)
    return answer


def _weighted_data(inputs, n: int, d: int, dtype: torch.dtype = torch.float64):
    return (*_regression(inputs, n, d, dtype), inputs.uniform(0.1, 3.0, n, dtype=dtype))


@check(WEIGHTED, 2, "the example: weights [1, 0] and [0.5, 0.5]", visibility="visible")
def test_weighted_example(task):
    w, X, y = torch.tensor([0.0]), torch.tensor([[1.0], [2.0]]), torch.tensor([1.0, 2.0])
    _weighted_case(task, w, X, y, torch.tensor([1.0, 0.0]), visible=True)
    _weighted_case(task, w, X, y, torch.tensor([0.5, 0.5]), visible=True)


@check(WEIGHTED, 2, "random data and weights of several sizes in float64")
def test_weighted_float64(task, inputs):
    for n, d in ((7, 3), (4, 6)):
        _weighted_case(task, *_weighted_data(inputs, n, d))


@check(WEIGHTED, 1, "random data and weights in float32")
def test_weighted_float32(task, inputs):
    _weighted_case(task, *_weighted_data(inputs, 9, 2, torch.float32))


@check(WEIGHTED, 1, "plain detached result, arguments untouched", visibility="visible")
def test_weighted_contract(task, inputs):
    answer = _weighted_case(task, *_weighted_data(inputs, 5, 3))
    expect_clean(answer, "∇_w Σ sᵢ·ℓᵢ")


# broadcast_grad ---------------------------------------------------------------

BROADCAST = "ex06_losses.broadcast_grad"


def _broadcast_oracle(X, W, b, Y) -> tuple[torch.Tensor, torch.Tensor]:
    """(∇W, ∇b) in float64, by the check's own autograd on its own copies."""
    X64, Y64 = X.to(torch.float64), Y.to(torch.float64)
    gW, gb = jacobian(lambda w, c: ((X64 @ w + c - Y64) ** 2).mean(), (W.to(torch.float64), b.to(torch.float64)))
    return gW, gb


def _broadcast_hint(n: int, k: int, *, averaged: torch.Tensor | None = None):
    """A loss averaged over the rows only (k times too large), summed (n·k times), or,
    for ∇b, the rows' gradients averaged instead of summed."""
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if averaged is not None and n > 1 and resembles(got, averaged):
            return "broadcast_not_summed"
        if k > 1 and resembles(got, k * want):
            return "mean_all_entries"
        if n * k > 1 and resembles(got, n * k * want):
            return "mean_sum_swapped"
        return first_hint(factor_hint, sign_hint)(got, want)
    return diagnose


def _broadcast_case(task, X, W, b, Y, *, visible: bool = False):
    answer = task(X, W, b, Y)
    items = answer.sequence(2, what="(∇W, ∇b)")
    n, k = Y.shape
    gW = _item(items, 0, W.shape, X.dtype, "∇W")
    try:
        gb = _item(items, 1, b.shape, X.dtype, "∇b")
    except Fail as failure:
        if failure.code == "wrong_shape" and failure.params.get("got") in ([n, k], [1, k]):
            raise Fail("wrong_shape", **{**failure.params, "hint": "broadcast_not_summed"}) from None
        raise
    want_W, want_b = _broadcast_oracle(X, W, b, Y)
    expect_close(gW, want_W, "∇W", visible=visible, diagnose=_broadcast_hint(n, k))
    expect_close(gb, want_b, "∇b", visible=visible, diagnose=_broadcast_hint(n, k, averaged=want_b / n))
    return answer


def _layer(inputs, n: int, d: int, k: int, dtype: torch.dtype = torch.float64):
    return (inputs.randn(n, d, dtype=dtype), inputs.randn(d, k, dtype=dtype), inputs.randn(k, dtype=dtype),
            inputs.randn(n, k, dtype=dtype))


@check(BROADCAST, 2, "the example: X = [[1], [2]], W = [[0, 0]], b = [0, 0], Y = [[1, 2], [3, 4]]",
       visibility="visible")
def test_broadcast_example(task):
    X, W, b = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0, 0.0]]), torch.tensor([0.0, 0.0])
    _broadcast_case(task, X, W, b, torch.tensor([[1.0, 2.0], [3.0, 4.0]]), visible=True)
    _broadcast_case(task, X, torch.tensor([[0.5, -1.0]]), torch.tensor([1.0, 0.25]),
                    torch.tensor([[0.0, 1.0], [2.0, -1.0]]), visible=True)


@check(BROADCAST, 2, "random layers of several shapes in float64")
def test_broadcast_float64(task, inputs):
    for n, d, k in ((6, 3, 2), (4, 5, 3), (7, 2, 5)):
        _broadcast_case(task, *_layer(inputs, n, d, k))


@check(BROADCAST, 1, "a random layer in float32, and a single output column")
def test_broadcast_float32(task, inputs):
    _broadcast_case(task, *_layer(inputs, 8, 3, 4, torch.float32))
    _broadcast_case(task, *_layer(inputs, 5, 2, 1, torch.float32))


@check(BROADCAST, 1, "plain detached results not sharing memory, arguments untouched", visibility="visible")
def test_broadcast_contract(task, inputs):
    answer = _broadcast_case(task, *_layer(inputs, 5, 3, 2))
    expect_clean(answer, "(∇W, ∇b)")
