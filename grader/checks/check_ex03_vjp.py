"""Checks for ex03_vjp: vector-Jacobian products and non-scalar backward."""
from __future__ import annotations

import torch
from grader.references import jacobian, vjp as oracle_vjp

from grader.checking import (Fail, check, deferred, expect_clean, expect_close, expect_tensor, factor_hint,
                             first_hint, on_every_input, phrase, ratio_hint, resembles, sign_hint)
from grader.sandbox.catalogue import build
from grader.sandbox.wire import FnSpec

VJP = "ex03_vjp.vjp"
MULTI = "ex03_vjp.multitask_grads"


def _fn(spec: FnSpec):
    return build(spec.name, spec.params)




@deferred
def _jv_instead(f, x, v):
    """Spot J·v (square Jacobians) and Jᵀ·1 (v ignored: y.sum().backward())."""
    y = f(x)
    J = jacobian(f, x).reshape(y.numel(), x.numel())
    ones = J.T @ torch.ones(y.numel(), dtype=J.dtype)
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        flat = got.reshape(-1)
        if J.shape[0] == J.shape[1] and resembles(flat, J @ v.reshape(-1).to(J.dtype)):
            return "jv_not_jtv"
        if not resembles(want.reshape(-1), ones) and resembles(flat, ones):
            return "ignored_v"
        return first_hint(sign_hint, factor_hint)(got, want)
    return diagnose


# A square Jacobian that is not symmetric: J·v and Jᵀ·v differ, in the student's own run too.
NON_SYMMETRIC = FnSpec("tanh_affine", A=torch.tensor([[1.0, 2.0], [-0.5, 1.5]], dtype=torch.float64),
                       b=torch.tensor([0.1, -0.2], dtype=torch.float64))


@check(VJP, 2, "the notes' example y = [x0², x1³] at x = [2, 3]; then tanh(A x + b), a non-symmetric Jacobian, "
       "in float64", visibility="visible")
def test_seed_example(task):
    def case(args):
        f, x, v = args
        got = task(f, x, v).tensor(tuple(x.shape), x.dtype, "Jᵀv")
        want = oracle_vjp(_fn(f), x, v)[1]
        expect_close(got, want, "Jᵀv", visible=True, diagnose=_jv_instead(_fn(f), x, v))

    x = torch.tensor([2.0, 3.0])
    cases = [(FnSpec("seed_square_cube"), x, torch.tensor(v)) for v in ([1.0, 1.0], [2.0, 0.0], [0.0, 0.5])]
    cases.append((NON_SYMMETRIC, torch.tensor([0.3, -0.4], dtype=torch.float64),
                  torch.tensor([1.0, -2.0], dtype=torch.float64)))
    on_every_input(cases, case)


@check(VJP, 2, "a non-square, non-symmetric Jacobian in float64")
def test_nonsymmetric_float64(task, inputs):
    A, b = inputs.randn(3, 3), inputs.randn(3)
    f = FnSpec("tanh_affine", A=A, b=b)
    x, v = inputs.randn(3), inputs.randn(3)
    got = task(f, x, v).tensor((3,), torch.float64, "Jᵀv")
    expect_close(got, oracle_vjp(_fn(f), x, v)[1], "Jᵀv", diagnose=_jv_instead(_fn(f), x, v))
    A, b = inputs.randn(5, 3), inputs.randn(5)
    f = FnSpec("tanh_affine", A=A, b=b)
    v = inputs.randn(5)
    got = task(f, x, v).tensor((3,), torch.float64, "Jᵀv")
    expect_close(got, oracle_vjp(_fn(f), x, v)[1], "Jᵀv", diagnose=_jv_instead(_fn(f), x, v))


@check(VJP, 1, "matrix-shaped input and output in float32")
def test_matrix_float32(task, inputs):
    W, V = inputs.randn(4, 3, dtype=torch.float32), inputs.randn(2, 5, dtype=torch.float32)
    f = FnSpec("matrix_map", W=W, V=V)
    x, v = inputs.randn(3, 2, dtype=torch.float32), inputs.randn(4, 5, dtype=torch.float32)
    got = task(f, x, v).tensor((3, 2), torch.float32, "Jᵀv")
    expect_close(got, oracle_vjp(_fn(f), x, v)[1], "Jᵀv", diagnose=_jv_instead(_fn(f), x, v))
    # an input with a size-1 dimension, which the result keeps
    f = FnSpec("matrix_map", W=W, V=inputs.randn(1, 5, dtype=torch.float32))
    x = inputs.randn(3, 1, dtype=torch.float32)
    got = task(f, x, v).tensor((3, 1), torch.float32, "Jᵀv")
    expect_close(got, oracle_vjp(_fn(f), x, v)[1], "Jᵀv", diagnose=_jv_instead(_fn(f), x, v))


@check(VJP, 1, "plain detached result, arguments untouched", visibility="visible")
def test_contract(task, inputs):
    f = FnSpec("coupled")
    x, v = inputs.randn(4), inputs.randn(4)
    answer = task(f, x, v)
    got = answer.tensor((4,), torch.float64, "Jᵀv")
    expect_close(got, oracle_vjp(_fn(f), x, v)[1], "Jᵀv", diagnose=_jv_instead(_fn(f), x, v))
    expect_clean(answer, "Jᵀv")


def _multitask_case(inputs, dtype=torch.float64, *, unused: bool = False):
    """Two tasks on a two-layer model; with ``unused``, a third parameter that no task uses.

    Only the check of that rule passes the unused parameter: the others would charge
    the same omission again, on checks about the weighting or repeatability.
    """
    n, d, h, k = 6, 3, 4, 2
    X, Y = inputs.randn(n, d, dtype=dtype), inputs.randn(n, k, dtype=dtype)
    params = (inputs.randn(h, d, dtype=dtype), inputs.randn(k, h, dtype=dtype))
    if unused:
        params += (inputs.randn(3, dtype=dtype),)
    weights = inputs.uniform(0.2, 2.0, k, dtype=dtype)
    return FnSpec("two_layer_tasks", X=X, Y=Y), params, weights


def _shared_case(inputs, dtype=torch.float64):
    """Three losses of different kinds on one linear model: every parameter used."""
    X, Y = inputs.randn(5, 3, dtype=dtype), inputs.randn(5, dtype=dtype)
    params = (inputs.randn(3, dtype=dtype), inputs.randn((), dtype=dtype))
    weights = inputs.uniform(0.1, 2.0, 3, dtype=dtype)
    return FnSpec("shared_head_tasks", X=X, Y=Y), params, weights


def _multitask_oracle(spec: FnSpec, params, weights):
    losses = _fn(spec)
    def total(*ps):
        return (losses(*ps) * weights).sum()
    grads = jacobian(total, tuple(params))
    return tuple(g.reshape(p.shape) for g, p in zip(grads, params))


def _expect_grads(answer, spec, params, weights, dtype, *, visible=False):
    items = answer.sequence(len(params), what="the gradients")
    want = _multitask_oracle(spec, params, weights)
    for i, (item, p, w) in enumerate(zip(items, params, want)):
        what = phrase("gradient [{item}] (of params[{item}])", item=i)
        if item is None:
            raise Fail("not_a_tensor", what=what, got="None", hint="unused_param")
        got = expect_tensor(item, tuple(p.shape), dtype, what)
        expect_close(got, w, what, visible=visible, diagnose=_multitask_hint(spec, params, weights, i))


@deferred
def _multitask_hint(spec, params, weights, i: int):
    """Known wrong answers: all weights 1 (weights ignored), per-task backward passes
    without clearing .grad, where task j's gradient is counted with w_j + w_{j+1} + ...,
    and the mean of the weighted losses (the answer over the number of tasks)."""
    unweighted = _multitask_oracle(spec, params, torch.ones_like(weights))[i]
    running = _multitask_oracle(spec, params, weights.flip(0).cumsum(0).flip(0))[i]
    mean = _multitask_oracle(spec, params, weights / weights.numel())[i]
    return first_hint(_matches("unweighted", unweighted), _matches("accumulated_across_tasks", running),
                      _matches("mean_over_tasks", mean), ratio_hint, sign_hint)


def _matches(name: str, other: torch.Tensor):
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if not resembles(want, other) and resembles(got, other):
            return name
        return None
    return diagnose


@check(MULTI, 2, "two tasks on a two-layer model, weights as a tensor", visibility="visible")
def test_weighted_tasks(task, inputs):
    spec, params, weights = _multitask_case(inputs)
    _expect_grads(task(spec, params, weights), spec, params, weights, torch.float64, visible=True)


@check(MULTI, 1, "a parameter that no task uses gets zeros", visibility="visible")
def test_unused_param(task, inputs):
    spec, params, weights = _multitask_case(inputs, unused=True)
    _expect_grads(task(spec, params, weights), spec, params, weights, torch.float64)


@check(MULTI, 1, "float32 parameters and weights")
def test_float32(task, inputs):
    spec, params, weights = _shared_case(inputs, torch.float32)
    _expect_grads(task(spec, params, weights), spec, params, weights, torch.float32)


@check(MULTI, 1, "weights given as a list of numbers", visibility="visible")
def test_weights_as_list(task, inputs):
    spec, params, weights = _shared_case(inputs)
    answer = task(spec, params, [float(w) for w in weights])
    _expect_grads(answer, spec, params, weights, torch.float64)


@check(MULTI, 2, "two calls give the same answer; plain detached results, arguments untouched",
       visibility="visible")
def test_repeatable(task, inputs):
    spec, params, weights = _multitask_case(inputs)
    first = task(spec, params, weights)
    second = task(spec, params, weights)
    _expect_grads(first, spec, params, weights, torch.float64)
    expect_clean(first, "the gradients")
    try:
        _expect_grads(second, spec, params, weights, torch.float64)
    except Fail as failure:
        hint = failure.params.get("hint")
        raise Fail("not_repeatable", hint=hint if hint in ("accumulated", "sign") else "") from None


@check(MULTI, 1, "three losses of different kinds on a shared model")
def test_shared_head(task, inputs):
    X, Y = inputs.randn(5, 3), inputs.randn(5)
    spec = FnSpec("shared_head_tasks", X=X, Y=Y)
    params = (inputs.randn(3), inputs.randn(()))
    weights = torch.tensor([1.0, 0.5, 0.1], dtype=torch.float64)
    _expect_grads(task(spec, params, weights), spec, params, weights, torch.float64)


# vjps_on_one_graph ----------------------------------------------------------------

ONE_GRAPH = "ex03_vjp.vjps_on_one_graph"


def _base(spec: FnSpec) -> FnSpec:
    """The function a "once_" catalogue entry computes on its first call."""
    return FnSpec(spec.name.removeprefix("once_"), **spec.params)


def _one_graph_hint(wants: list[torch.Tensor], i: int):
    """Entry i as the sum of the first i+1 products (.grad never cleared), as the last
    product (one .grad kept, not copied), or as f's second call would make it."""
    from grader.sandbox.catalogue import AGAIN

    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if i > 0 and resembles(got, torch.stack(wants[: i + 1]).sum(0)):
            return "accumulated"
        if i < len(wants) - 1 and not resembles(want, wants[-1]) and resembles(got, wants[-1]):
            return "grad_not_cloned"
        if i > 0 and bool((want != 0).any()) and resembles(got, AGAIN * want):
            return "f_called_again"
        if not bool(got.any()) and bool(want.any()):
            return "grad_cleared_too_soon"  # .grad stored, then zero_() cleared it in place
        return sign_hint(got, want)

    return diagnose


def _expect_vjps(task, spec: FnSpec, x: torch.Tensor, vs: list[torch.Tensor], *, visible: bool = False):
    answer = task(spec, x, vs)
    items = answer.sequence(len(vs), what="the list of Jᵀv")
    f = _fn(_base(spec))
    wants = [oracle_vjp(f, x, v)[1] for v in vs]
    for i, (item, want) in enumerate(zip(items, wants)):
        what = phrase("entry [{item}] (Jᵀv for vs[{item}])", item=i)
        got = expect_tensor(item, tuple(x.shape), x.dtype, what)
        expect_close(got, want, what, visible=visible, diagnose=_one_graph_hint(wants, i))
    return answer


@check(ONE_GRAPH, 2, "the note's test_with_v: y = [x0², x1³] at x = [2, 3], three v's", visibility="visible")
def test_one_graph_seed(task):
    vs = [torch.tensor(v) for v in ([1.0, 1.0], [2.0, 0.0], [0.0, 0.5])]
    _expect_vjps(task, FnSpec("once_seed_square_cube"), torch.tensor([2.0, 3.0]), vs, visible=True)


@check(ONE_GRAPH, 2, "a non-square, non-symmetric Jacobian in float64, four v's")
def test_one_graph_float64(task, inputs):
    A, b = inputs.randn(5, 3), inputs.randn(5)
    vs = [inputs.randn(5) for _ in range(4)]
    _expect_vjps(task, FnSpec("once_tanh_affine", A=A, b=b), inputs.randn(3), vs)


@check(ONE_GRAPH, 1, "matrix-shaped input and output in float32")
def test_one_graph_matrix_float32(task, inputs):
    W, V = inputs.randn(4, 3, dtype=torch.float32), inputs.randn(2, 5, dtype=torch.float32)
    vs = [inputs.randn(4, 5, dtype=torch.float32) for _ in range(3)]
    _expect_vjps(task, FnSpec("once_matrix_map", W=W, V=V), inputs.randn(3, 2, dtype=torch.float32), vs)
    # an input with a size-1 dimension, which each result keeps
    _expect_vjps(task, FnSpec("once_matrix_map", W=W, V=inputs.randn(1, 5, dtype=torch.float32)),
                 inputs.randn(3, 1, dtype=torch.float32), vs)


@check(ONE_GRAPH, 1, "plain detached results that share no memory, arguments untouched", visibility="visible")
def test_one_graph_contract(task, inputs):
    vs = [inputs.randn(4) for _ in range(2)]
    answer = _expect_vjps(task, FnSpec("once_coupled"), inputs.randn(4), vs)
    expect_clean(answer, "the list of Jᵀv")
