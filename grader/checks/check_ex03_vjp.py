"""Checks for ex03_vjp: vector-Jacobian products and non-scalar backward."""
from __future__ import annotations

import torch
from torch.autograd.functional import jacobian, vjp as oracle_vjp

from grader.checking import (Fail, check, expect_clean, expect_close, expect_tensor, first_hint, phrase,
                             ratio_hint, resembles, sign_hint)
from grader.sandbox.catalogue import build
from grader.sandbox.wire import FnSpec

VJP = "ex03_vjp.vjp"
MULTI = "ex03_vjp.multitask_grads"


def _fn(spec: FnSpec):
    return build(spec.name, spec.params)




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
        return sign_hint(got, want)
    return diagnose


@check(VJP, 2, "the seed example: y = [x0², x1³] at x = [2, 3]", visibility="visible")
def test_seed_example(task):
    f = FnSpec("seed_square_cube")
    x = torch.tensor([2.0, 3.0])
    for v in ([1.0, 1.0], [2.0, 0.0], [0.0, 0.5]):
        v = torch.tensor(v)
        got = task(f, x, v).tensor((2,), torch.float32, "vjp(f, x, v)")
        want = oracle_vjp(_fn(f), x, v)[1]
        expect_close(got, want, "vjp(f, x, v)", visible=True, diagnose=_jv_instead(_fn(f), x, v))


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


@check(VJP, 1, "plain detached result, arguments untouched")
def test_contract(task, inputs):
    f = FnSpec("coupled")
    x, v = inputs.randn(4), inputs.randn(4)
    answer = task(f, x, v)
    got = answer.tensor((4,), torch.float64, "Jᵀv")
    expect_close(got, oracle_vjp(_fn(f), x, v)[1], "Jᵀv", diagnose=_jv_instead(_fn(f), x, v))
    expect_clean(answer, "Jᵀv")


def _multitask_case(inputs, dtype=torch.float64):
    n, d, h, k = 6, 3, 4, 2
    X, Y = inputs.randn(n, d, dtype=dtype), inputs.randn(n, k, dtype=dtype)
    params = (inputs.randn(h, d, dtype=dtype), inputs.randn(k, h, dtype=dtype), inputs.randn(3, dtype=dtype))
    weights = inputs.uniform(0.2, 2.0, k, dtype=dtype)
    return FnSpec("two_layer_tasks", X=X, Y=Y), params, weights


def _multitask_oracle(spec: FnSpec, params, weights):
    losses = _fn(spec)
    def total(*ps):
        return (losses(*ps) * weights).sum()
    grads = jacobian(total, tuple(params))
    return tuple(g.reshape(p.shape) for g, p in zip(grads, params))


def _expect_grads(answer, params, want, dtype, unweighted=None, *, visible=False):
    """``unweighted``: the gradients of Σ Lᵢ (all weights 1), to recognise ignored weights."""
    items = answer.sequence(len(params), what="the gradients")
    for i, (item, p, w) in enumerate(zip(items, params, want)):
        if item is None:
            raise Fail("not_a_tensor", what=phrase("gradient {item}", item=i), got="None", hint="unused_param")
        got = expect_tensor(item, tuple(p.shape), dtype, phrase("gradient {item}", item=i))
        hints = [ratio_hint, sign_hint]
        if unweighted is not None:
            hints.insert(0, _matches_unweighted(unweighted[i]))
        expect_close(got, w, phrase("gradient {item}", item=i), visible=visible, diagnose=first_hint(*hints))


def _matches_unweighted(other: torch.Tensor):
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        if not resembles(want, other) and resembles(got, other):
            return "unweighted"
        return None
    return diagnose


@check(MULTI, 3, "two tasks on a two-layer model, weights as a tensor", visibility="visible")
def test_weighted_tasks(task, inputs):
    spec, params, weights = _multitask_case(inputs)
    answer = task(spec, params, weights)
    _expect_grads(answer, params, _multitask_oracle(spec, params, weights), torch.float64,
                  _multitask_oracle(spec, params, torch.ones_like(weights)), visible=True)


@check(MULTI, 2, "a parameter no task uses gets zeros; float32; weights as a list")
def test_unused_param_float32(task, inputs):
    spec, params, weights = _multitask_case(inputs, torch.float32)
    answer = task(spec, params, [float(w) for w in weights])
    want = _multitask_oracle(spec, params, weights)
    _expect_grads(answer, params, want, torch.float32, _multitask_oracle(spec, params, torch.ones_like(weights)))


@check(MULTI, 2, "two calls give the same answer; arguments untouched")
def test_repeatable(task, inputs):
    spec, params, weights = _multitask_case(inputs)
    first = task(spec, params, weights)
    second = task(spec, params, weights)
    want = _multitask_oracle(spec, params, weights)
    unweighted = _multitask_oracle(spec, params, torch.ones_like(weights))
    _expect_grads(first, params, want, torch.float64, unweighted)
    expect_clean(first, "the gradients")
    try:
        _expect_grads(second, params, want, torch.float64, unweighted)
    except Fail as failure:
        hint = failure.params.get("hint")
        raise Fail("not_repeatable", hint=hint if hint in ("accumulated", "sign") else "") from None


@check(MULTI, 1, "three losses of different kinds on a shared model")
def test_shared_head(task, inputs):
    X, Y = inputs.randn(5, 3), inputs.randn(5)
    spec = FnSpec("shared_head_tasks", X=X, Y=Y)
    params = (inputs.randn(3), inputs.randn(()))
    weights = torch.tensor([1.0, 0.5, 0.1], dtype=torch.float64)
    answer = task(spec, params, weights)
    _expect_grads(answer, params, _multitask_oracle(spec, params, weights), torch.float64,
                  _multitask_oracle(spec, params, torch.ones_like(weights)))
