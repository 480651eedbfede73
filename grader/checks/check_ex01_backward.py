"""Checks for ex01_backward: gradients of a scalar, and how gradients accumulate."""
from __future__ import annotations


import torch
from grader.references import jacobian

from grader.checking import (Fail, StudentFailed, check, expect_clean, expect_close, expect_tensor, factor_hint,
                             first_hint, on_every_input, phrase, resembles, sign_hint)
from grader.messages import exception_hint
from grader.sandbox.catalogue import build
from grader.sandbox.wire import DTYPES, FnSpec

GRAD = "ex01_backward.grad_of_2xtx"
SEQ = "ex01_backward.sequential_grads"
TRAIN = "ex01_backward.train_linear_regression"
TWICE = "ex01_backward.backward_twice"


def _fn(spec: FnSpec):
    return build(spec.name, spec.params)


def _grad(spec: FnSpec, x: torch.Tensor) -> torch.Tensor:
    """∇ₓ f(x) for a scalar catalogue function, on the check's own copy of x."""
    return jacobian(_fn(spec), x.detach().clone())


# One backward pass per answer: a constant factor is a wrong coefficient, not accumulation.
_usual = first_hint(factor_hint, sign_hint)


# grad_of_2xtx ----------------------------------------------------------------------


def _expect_4x(task, x: torch.Tensor, dtype: torch.dtype, *, visible: bool = False) -> None:
    answer = task(x)
    if not x.is_floating_point():
        # "the default float dtype" is the submission's: its module may set another
        dtype = DTYPES.get(answer.evidence.get("default_dtype") or "", dtype)
    try:
        got = answer.tensor(tuple(x.shape), dtype, "∇ₓ(2·xᵀx)")
    except Fail as exc:
        if exc.code == "wrong_dtype" and not x.is_floating_point():
            raise Fail("wrong_dtype_default", **exc.params) from None
        raise
    expect_close(got, 4 * x.to(torch.float64), "∇ₓ(2·xᵀx)", visible=visible, diagnose=_usual)


@check(GRAD, 1, "the notes' example x = torch.arange(4.0) gives [0, 4, 8, 12]; [1, -2] in float64",
       visibility="visible")
def test_grad_seed_example(task):
    cases = [(torch.arange(4.0), torch.float32), (torch.tensor([1.0, -2.0], dtype=torch.float64), torch.float64)]
    on_every_input(cases, lambda case: _expect_4x(task, case[0], case[1], visible=True))


# Integers are charged by this check alone (visible, so that the release shows them).
@check(GRAD, 1, "integer input: computed and returned in the default float dtype", visibility="visible")
def test_grad_integer_input(task, inputs):
    default = torch.get_default_dtype()
    _expect_4x(task, torch.arange(5), default)
    n = inputs.integer(2, 6)
    _expect_4x(task, torch.randint(-9, 10, (n,), generator=inputs.g, dtype=torch.int32), default)


@check(GRAD, 1, "float64 inputs of several sizes, length 1 included")
def test_grad_float64_sizes(task, inputs):
    for n in (1, 3, inputs.integer(5, 9)):
        _expect_4x(task, inputs.randn(n), torch.float64)


@check(GRAD, 1, "float32: plain detached result, argument untouched", visibility="visible")
def test_grad_contract(task, inputs):
    for n in (1, 6):
        x = inputs.randn(n, dtype=torch.float32)
        answer = task(x)
        got = answer.tensor((n,), torch.float32, "∇ₓ(2·xᵀx)")
        expect_close(got, 4 * x.double(), "∇ₓ(2·xᵀx)", diagnose=_usual)
        expect_clean(answer, "∇ₓ(2·xᵀx)")


# sequential_grads --------------------------------------------------------------------


def _running_sum_hint(wants: list[torch.Tensor], i: int):
    """Entry i equal to the sum of the first i+1 gradients: .grad was never cleared."""
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if i > 0 and resembles(got, torch.stack(wants[: i + 1]).sum(0)):
            return "accumulated"
        if bool((got == 0).all()) and bool((want != 0).any()):
            return "grad_cleared_too_soon"
        return _usual(got, want)
    return diagnose


def _expect_grads(task, x: torch.Tensor, fs: list[FnSpec], *, visible: bool = False):
    answer = task(x, fs)
    items = answer.sequence(len(fs), what="the list of gradients")
    wants = [_grad(f, x) for f in fs]
    for i, (item, want) in enumerate(zip(items, wants)):
        what = phrase("entry [{item}] (∇ₓ fs[{item}])", item=i)
        got = expect_tensor(item, tuple(x.shape), x.dtype, what)
        expect_close(got, want, what, visible=visible, diagnose=_running_sum_hint(wants, i))
    return answer


@check(SEQ, 1, "the notes' example: 2·xᵀx then x.sum() at x = torch.arange(4.0)", visibility="visible")
def test_seq_seed_example(task):
    _expect_grads(task, torch.arange(4.0), [FnSpec("two_dot"), FnSpec("plain_sum")], visible=True)


@check(SEQ, 2, "four different functions in float64")
def test_seq_four_functions_float64(task, inputs):
    n = 5
    fs = [
        FnSpec("weighted_square_sum", c=inputs.randn(n)),
        FnSpec("sin_prod", c=inputs.randn(n)),
        FnSpec("cube_sum"),
        FnSpec("dot_with", c=inputs.randn(n)),
    ]
    _expect_grads(task, inputs.randn(n), fs)


@check(SEQ, 1, "a matrix-shaped x in float32")
def test_seq_matrix_float32(task, inputs):
    shape = (3, 2)
    fs = [
        FnSpec("dot_with", c=inputs.randn(*shape, dtype=torch.float32)),
        FnSpec("two_dot"),
        FnSpec("weighted_square_sum", c=inputs.randn(*shape, dtype=torch.float32)),
    ]
    _expect_grads(task, inputs.randn(*shape, dtype=torch.float32), fs)


@check(SEQ, 1, "the same function several times; sizes 1 and 7")
def test_seq_repeated_and_sizes(task, inputs):
    f = FnSpec("sin_prod", c=inputs.randn(7))
    _expect_grads(task, inputs.randn(7), [f, f, f])
    _expect_grads(task, inputs.randn(1), [FnSpec("cube_sum"), FnSpec("plain_sum"), FnSpec("two_dot")])


@check(SEQ, 1, "plain detached results that share no memory, argument untouched", visibility="visible")
def test_seq_contract(task, inputs):
    n = 4
    fs = [FnSpec("plain_sum"), FnSpec("cube_sum"), FnSpec("dot_with", c=inputs.randn(n))]
    answer = _expect_grads(task, inputs.randn(n), fs)
    expect_clean(answer, "the list of gradients", own_storage=True)  # the contract: entries share no memory


# train_linear_regression -------------------------------------------------------------


def _descent(X: torch.Tensor, y: torch.Tensor, lr: float, steps: int, *,
             accumulate: bool = False, summed: bool = False) -> torch.Tensor:
    """The recurrence w ← w − lr·(2/n)·Xᵀ(Xw − y) from w = 0, in float64.

    ``accumulate`` replays the missing zero_() (each step uses the running sum of all
    gradients so far); ``summed`` differentiates the sum instead of the mean.
    """
    X, y = X.double(), y.double()
    n, d = X.shape
    scale = 2.0 if summed else 2.0 / n
    w = torch.zeros(d, dtype=torch.float64)
    total = torch.zeros(d, dtype=torch.float64)
    for _ in range(steps):
        g = scale * (X.T @ (X @ w - y))
        total = total + g if accumulate else g
        w = w - lr * total
    return w


def _training_hint(X, y, lr, steps):
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if resembles(got, _descent(X, y, lr, steps, accumulate=True)):
            return "accumulated"
        if resembles(got, _descent(X, y, lr, steps, summed=True)):
            return "mean_sum_swapped"
        if not bool(got.any()) and bool(want.any()):
            return "w_never_moved"  # w = 0 is where it starts
        return sign_hint(got, want)
    return diagnose


def _rate(X: torch.Tensor, fraction: float) -> float:
    """A step size that is ``fraction`` of 1/L (L the curvature of the loss), 3 digits."""
    X = X.double()
    curvature = float(torch.linalg.eigvalsh(2.0 / X.shape[0] * X.T @ X).max())
    return float(f"{fraction / curvature:.3g}")


def _drawn_hint(failure: StudentFailed) -> str | None:
    """The hint the grader draws from the error of a call that raised."""
    exc = failure.result.exception or {}
    return exception_hint(f"{exc.get('type', '')}: {exc.get('message', '')}", TRAIN)


def _train(task, X, y, lr, steps):
    """Call the training loop; a None .grad means a rebound leaf only when the first
    step runs: on the first step .grad is None because no backward pass has run yet
    (``w.grad.zero_()`` first in the loop), which one step alone shows."""
    try:
        return task(X, y, lr, steps)
    except StudentFailed as failure:
        if _drawn_hint(failure) != "rebound_leaf":
            raise
        first_step_fails = steps == 1
        if not first_step_fails:
            try:
                task(X, y, lr, 1)
            except StudentFailed as probe:
                first_step_fails = _drawn_hint(probe) == "rebound_leaf"
        if first_step_fails:
            raise failure.hinting({"rebound_leaf": "grad_none_first_step"}) from None
        raise


def _expect_w(task, X, y, lr, steps, *, visible: bool = False):
    answer = _train(task, X, y, lr, steps)
    got = answer.tensor((X.shape[1],), X.dtype, "w")
    expect_close(got, _descent(X, y, lr, steps), "w", visible=visible,
                 diagnose=_training_hint(X, y, lr, steps))
    return answer


@check(TRAIN, 1, "the docstring example: X = [[1], [2]], y = [2, 4], lr = 0.1, 2 and 100 steps",
       visibility="visible")
def test_train_seed_example(task):
    X, y = torch.tensor([[1.0], [2.0]]), torch.tensor([2.0, 4.0])
    for steps in (2, 100):
        _expect_w(task, X, y, 0.1, steps, visible=True)


@check(TRAIN, 2, "random data in float64, 3 features")
def test_train_float64(task, inputs):
    n, d = 8, 3
    X = inputs.randn(n, d)
    y = X @ inputs.randn(d) + 0.1 * inputs.randn(n)
    _expect_w(task, X, y, _rate(X, 0.5), inputs.integer(15, 30))


@check(TRAIN, 1, "random data in float32")
def test_train_float32(task, inputs):
    n, d = 10, 4
    X = inputs.randn(n, d, dtype=torch.float32)
    y = X @ inputs.randn(d, dtype=torch.float32) + 0.1 * inputs.randn(n, dtype=torch.float32)
    _expect_w(task, X, y, _rate(X, 0.7), inputs.integer(10, 20))


@check(TRAIN, 1, "one feature, and more features than samples")
def test_train_shapes(task, inputs):
    X = inputs.randn(6, 1)
    _expect_w(task, X, inputs.randn(6), _rate(X, 0.8), 5)
    X = inputs.randn(3, 5)
    _expect_w(task, X, inputs.randn(3), _rate(X, 0.4), inputs.integer(3, 8))


@check(TRAIN, 1, "plain detached w; X and y untouched", visibility="visible")
def test_train_contract(task, inputs):
    X = inputs.randn(5, 2)
    y = inputs.randn(5)
    answer = _expect_w(task, X, y, _rate(X, 0.5), 4)
    expect_clean(answer, "w")


# backward_twice ------------------------------------------------------------------------


def _twice_hint(got: torch.Tensor, want: torch.Tensor) -> str | None:
    from grader.sandbox.catalogue import AGAIN

    if bool((want != 0).any()) and resembles(got, want / 2):
        return "one_backward_only"
    # The checks pass "once_" functions: a second call of f gives AGAIN times the first
    # call's output, so a second graph built for the second pass shows as (1 + AGAIN)·∇f.
    if bool((want != 0).any()) and resembles(got, (1 + AGAIN) / 2 * want):
        return "f_called_twice"
    return _usual(got, want)


def _expect_twice(task, f: FnSpec, x: torch.Tensor, *, visible: bool = False):
    """``f`` names a base catalogue function; the student gets its "once_" entry, which
    is the same function on its first call, so that a y built twice shows."""
    answer = task(FnSpec("once_" + f.name, **f.params), x)
    got = answer.tensor(tuple(x.shape), x.dtype, "x.grad after two backward calls")
    expect_close(got, 2 * _grad(f, x), "x.grad after two backward calls", visible=visible,
                 diagnose=_twice_hint)
    if answer.evidence.get("passes") == 1:
        # right, but by one pass doubled: the task is the second pass through the one graph
        raise Fail("one_backward_pass")
    return answer


@check(TWICE, 1, "the docstring example: f = 2·xᵀx at x = torch.arange(4.0)", visibility="visible")
def test_twice_seed_example(task):
    _expect_twice(task, FnSpec("two_dot"), torch.arange(4.0), visible=True)


@check(TWICE, 1, "a function that saves tensors for backward (x³), float64")
def test_twice_saved_tensors(task, inputs):
    _expect_twice(task, FnSpec("cube_sum"), inputs.randn(5))


@check(TWICE, 1, "f = x.sum() in float32, a vector and a matrix (a graph that saves nothing)")
def test_twice_nothing_saved(task, inputs):
    _expect_twice(task, FnSpec("plain_sum"), inputs.randn(4, dtype=torch.float32))
    _expect_twice(task, FnSpec("plain_sum"), inputs.randn(2, 3, dtype=torch.float32))
    _expect_twice(task, FnSpec("plain_sum"), inputs.randn(3, 1, dtype=torch.float32))  # a size-1 dimension kept


@check(TWICE, 1, "a matrix-shaped x; plain detached result, argument untouched", visibility="visible")
def test_twice_contract(task, inputs):
    shape = (2, 3)
    answer = _expect_twice(task, FnSpec("sin_prod", c=inputs.randn(*shape)), inputs.randn(*shape))
    expect_clean(answer, "x.grad after two backward calls")
    answer = _expect_twice(task, FnSpec("cube_sum"), inputs.randn(3, dtype=torch.float32))
    expect_clean(answer, "x.grad after two backward calls")

