"""``torch.autograd.functional`` for the checks, remembered within a process.

A check's reference values depend only on its inputs, and its inputs only on the
run's seed: in a batch worker, every submission of a class asks for the same
Jacobians and Hessians again. These functions are torch's own, with their result
kept under a key made of the values they were called with: the function's code
and the values it closes over, the tensors' dtype, shape and bytes, every other
argument. A call whose arguments cannot all be read as values (an object the key
does not know, a tensor subclass, a graph to keep) is simply computed. Nothing a
submission sends is ever part of a key or a result: references are computed from
the check's own inputs only.

Results are handed out as copies, so a check that changes one in place changes
nothing for the next. The store holds at most ``MAX_ENTRIES`` results (a class's
checks need about 200); the oldest go first.
"""
from __future__ import annotations

import functools
import types
from collections import OrderedDict
from typing import Any, Callable

import torch
import torch.autograd.functional as functional

from .sandbox.wire import FnSpec

MAX_ENTRIES = 4096
_MAX_DEPTH = 6

_store: OrderedDict[Any, Any] = OrderedDict()


class _NoKey(Exception):
    """An argument that cannot be read as a value: the call is computed, not kept."""


def _key(value: Any, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        raise _NoKey
    kind = type(value)
    if kind is torch.Tensor:
        if value.layout != torch.strided or value.device.type != "cpu" or value.is_conj() or value.is_neg():
            raise _NoKey
        flat = value.detach().contiguous().reshape(-1)
        return ("tensor", str(value.dtype), tuple(value.shape), value.requires_grad,
                flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    if kind in (int, float, complex, bool, str, bytes, type(None)):
        return (kind.__name__, repr(value))  # repr: -0.0 and 0.0, 1 and 1.0 and True differ
    if kind in (tuple, list):
        return (kind.__name__, tuple(_key(item, depth + 1) for item in value))
    if kind is dict:
        return ("dict", tuple(sorted((repr(k), _key(v, depth + 1)) for k, v in value.items())))
    if kind is torch.dtype:
        return ("dtype", str(value))
    if kind is FnSpec:
        return ("spec", value.name, _key(value.params, depth + 1))
    if kind is types.FunctionType:
        try:
            cells = tuple(_key(cell.cell_contents, depth + 1) for cell in value.__closure__ or ())
        except ValueError:  # an empty cell
            raise _NoKey from None
        return ("function", value.__code__, id(value.__globals__), cells, _key(value.__defaults__, depth + 1),
                _key(value.__kwdefaults__, depth + 1))
    if kind is functools.partial:
        return ("partial", _key(value.func, depth + 1), _key(value.args, depth + 1),
                _key(value.keywords, depth + 1))
    if kind is types.BuiltinFunctionType:  # torch.sin, torch.tanh...: the same object, the same function
        return ("builtin", value)
    raise _NoKey


def _copy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if type(value) in (tuple, list):
        return type(value)(_copy(item) for item in value)
    return value


def _remembered(compute: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(compute)
    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("create_graph"):
            return compute(*args, **kwargs)  # a result tied to a graph is not a value
        try:
            key = (compute.__name__, _key(args), _key(kwargs))
            hash(key)
        except (_NoKey, TypeError, RuntimeError):
            return compute(*args, **kwargs)
        if key in _store:
            _store.move_to_end(key)
        else:
            _store[key] = _copy(compute(*args, **kwargs))
            while len(_store) > MAX_ENTRIES:
                _store.popitem(last=False)
        return _copy(_store[key])

    return call


jacobian = _remembered(functional.jacobian)
hessian = _remembered(functional.hessian)
vjp = _remembered(functional.vjp)
jvp = _remembered(functional.jvp)
hvp = _remembered(functional.hvp)


def forget() -> None:
    _store.clear()
