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


def _same_as_torch(name: str, *args, **kwargs) -> None:
    got = getattr(references, name)(*args, **kwargs)
    want = getattr(functional, name)(*args, **kwargs)
    pairs = list(zip(got, want)) if isinstance(got, tuple) else [(got, want)]
    for a, b in pairs:
        assert a.requires_grad == b.requires_grad and torch.equal(a.detach(), b.detach()), name


def test_a_function_that_counts_its_calls_is_never_kept():
    """The catalogue's once_* functions change with each call (a second call shows)."""
    x, v = torch.tensor([2.0, 3.0], dtype=torch.float64), torch.tensor([1.0, 0.5], dtype=torch.float64)

    def counting():
        calls: list = []
        return lambda t: (calls.append(1), t * len(calls))[1]

    for _ in range(2):  # each time a fresh function, as each submission's check builds one
        ours, theirs = build("once_seed_square_cube", {}), build("once_seed_square_cube", {})
        assert torch.equal(references.vjp(ours, x, v)[1], functional.vjp(theirs, x, v)[1])
        assert torch.equal(references.jacobian(counting(), x), functional.jacobian(counting(), x))
    assert len(references._store) == 0


K = 1.0


def test_a_module_global_the_function_reads_is_part_of_the_key():
    global K
    x = torch.ones(2, dtype=torch.float64)
    f = lambda t: K * t  # noqa: E731
    _same_as_torch("jacobian", f, x)
    K = 3.0
    try:
        _same_as_torch("jacobian", f, x)
    finally:
        K = 1.0


def test_what_the_bytes_alone_do_not_say_is_not_kept():
    A = torch.randn(3, 3, dtype=torch.float64)
    x = torch.randn(3, dtype=torch.float64)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)
    (w * 2).sum().backward()
    cases = [
        ("jacobian", (A.mv, x)),                                   # an object's method, not a module's function
        ("jacobian", (lambda t: t.reshape(-1), A.T)),              # a non-contiguous input
        ("jacobian", (lambda t: t * w.grad, x)),                   # a tensor whose .grad is set
        ("jacobian", (lambda t: t, x, True)),                      # create_graph given by position
        ("vjp", (lambda t: t ** 2, x, x, True)),
    ]
    for name, args in cases:
        _same_as_torch(name, *args)
    assert len(references._store) == 0


def test_the_default_dtype_and_the_sign_of_nan_are_part_of_the_key():
    x = torch.ones(1, dtype=torch.float64)
    f = lambda t: t * torch.tensor(0.1)  # noqa: E731
    _same_as_torch("jacobian", f, x)
    saved = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _same_as_torch("jacobian", f, x)
    finally:
        torch.set_default_dtype(saved)
    nan = float("nan")
    for value in (nan, -nan):
        h = lambda t, s=value: t * __import__("math").copysign(1.0, s)  # noqa: E731
        _same_as_torch("jacobian", h, x)


def test_the_store_is_bounded_in_bytes(monkeypatch):
    monkeypatch.setattr(references, "MAX_BYTES", 3 * 8 * 64 * 64)
    for k in range(6):
        references.jacobian(lambda t, k=k: k * t, torch.ones(64, dtype=torch.float64))  # 64x64 each
    assert len(references._store) == 3 and references._stored_bytes[0] <= references.MAX_BYTES
