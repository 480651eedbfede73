"""The checks' reference values, remembered within a process (``grader.references``)."""
from __future__ import annotations

import torch
import torch.autograd.functional as functional

from grader import references
from grader.sandbox.catalogue import build
from grader.sandbox.wire import FnSpec


def setup_function() -> None:
    references.forget()


def _affine(A, b):
    return lambda x: torch.tanh(A @ x + b)


def test_a_remembered_value_is_torchs_own():
    A, b, x = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
    first = references.jacobian(_affine(A, b), x)
    again = references.jacobian(_affine(A, b), x.clone())  # a new closure over equal values
    assert torch.equal(first, functional.jacobian(_affine(A, b), x)) and torch.equal(again, first)
    assert len(references._store) == 1


def test_any_different_value_is_another_entry():
    A, b = torch.randn(2, 2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    x = torch.tensor([0.5, -1.0], dtype=torch.float64)
    calls = [
        (_affine(A, b), x),
        (_affine(A, b + 1e-12), x),              # a closed-over tensor one ulp-ish away
        (_affine(A.float(), b.float()), x.float()),  # another dtype
        (_affine(A, -b), x),                     # -0.0 is not 0.0
        (_affine(A.T.contiguous(), b), x),
        (lambda t: torch.sin(A @ t + b), x),     # other code over the same values
    ]
    for f, point in calls:
        got = references.jacobian(f, point)
        assert torch.equal(got, functional.jacobian(f, point))
    assert len(references._store) == len(calls)
    assert torch.equal(references.vjp(_affine(A, b), x, x)[1], functional.vjp(_affine(A, b), x, x)[1])
    assert len(references._store) == len(calls) + 1  # vjp of the same f is another function's entry


def test_a_catalogue_function_is_keyed_by_its_parameters():
    c1, c2 = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    x = torch.randn(4, dtype=torch.float64)
    one = references.hessian(lambda t: build("sin_prod", {"c": c1})(t).sum(), x)
    two = references.hessian(lambda t: build("sin_prod", {"c": c2})(t).sum(), x)
    assert not torch.equal(one, two)
    spec = FnSpec("sin_prod", c=c1)
    assert references._key(spec) != references._key(FnSpec("sin_prod", c=c2))


def test_changing_a_result_in_place_changes_nothing_for_the_next_caller():
    f, x = (lambda t: t ** 3), torch.tensor([1.0, 2.0], dtype=torch.float64)
    first = references.jacobian(f, x)
    first.mul_(0)
    assert torch.equal(references.jacobian(f, x), functional.jacobian(f, x))


def test_what_cannot_be_read_as_values_is_computed_and_not_kept():
    class Scale:
        def __call__(self, t):
            return 2 * t

    x = torch.ones(2, dtype=torch.float64)
    assert torch.equal(references.jacobian(Scale(), x), 2 * torch.eye(2, dtype=torch.float64))
    with_graph = references.jacobian(lambda t: t ** 2, x.requires_grad_(), create_graph=True)
    assert with_graph.requires_grad
    assert len(references._store) == 0


def test_the_store_is_bounded(monkeypatch):
    monkeypatch.setattr(references, "MAX_ENTRIES", 3)
    for k in range(5):
        references.jacobian(lambda t, k=k: k * t, torch.ones(1, dtype=torch.float64))
    assert len(references._store) == 3
