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
import inspect
import struct
import types
from collections import OrderedDict
from typing import Any, Callable

import torch
import torch.autograd.functional as functional

from .sandbox.wire import FnSpec

MAX_ENTRIES = 4096
MAX_BYTES = 256 * 1024 * 1024  # of stored results
_MAX_DEPTH = 6

_store: OrderedDict[Any, Any] = OrderedDict()
_stored_bytes = [0]


class _NoKey(Exception):
    """An argument that cannot be read as a value: the call is computed, not kept."""


def _key(value: Any, depth: int = 0, *, inside: bool = False) -> Any:
    """A hashable value that is equal only for arguments that compute the same.

    ``inside``: within a function (its closure, defaults, globals). A list or dict
    there may be state the function changes as it runs (a call counter): not kept.
    """
    if depth > _MAX_DEPTH:
        raise _NoKey
    kind = type(value)
    if kind is torch.Tensor:
        if (value.layout != torch.strided or value.device.type != "cpu" or value.is_conj() or value.is_neg()
                or value.is_quantized or value.is_inference() or not value.is_contiguous()
                or value.grad is not None or value.__dict__):
            raise _NoKey  # what the bytes alone do not say
        flat = value.detach().reshape(-1)
        return ("tensor", str(value.dtype), tuple(value.shape), value.requires_grad,
                flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    if kind is float:
        return ("float", struct.pack("<d", value))  # -0.0 and 0.0, NaN and -NaN differ
    if kind is complex:
        return ("complex", struct.pack("<dd", value.real, value.imag))
    if kind in (int, bool, str, bytes, type(None)):
        return (kind.__name__, value)  # 1, 1.0 and True differ: the kind is in the key
    if kind is tuple:
        return ("tuple", tuple(_key(item, depth + 1, inside=inside) for item in value))
    if kind in (list, dict) and inside:
        raise _NoKey
    if kind is list:
        return ("list", tuple(_key(item, depth + 1) for item in value))
    if kind is dict:
        return ("dict", tuple(sorted(((_key(k, depth + 1), _key(v, depth + 1)) for k, v in value.items()),
                                     key=repr)))
    if kind is torch.dtype:
        return ("dtype", str(value))
    if kind is types.ModuleType:
        return ("module", value.__name__)
    if kind is FnSpec:  # built anew wherever it is used: its name and parameters say what it computes
        return ("spec", value.name, _key(value.params, depth + 1))
    if kind is types.FunctionType:
        return _function_key(value, depth)
    if kind is functools.partial:
        return ("partial", _key(value.func, depth + 1, inside=True), _key(value.args, depth + 1, inside=True),
                _key(value.keywords, depth + 1))
    if kind is types.BuiltinFunctionType and isinstance(getattr(value, "__self__", None), (types.ModuleType,
                                                                                          type(None))):
        return ("builtin", value)  # torch.sin, torch.tanh...: a module's function, not an object's method
    raise _NoKey


def _function_key(fn: types.FunctionType, depth: int) -> Any:
    """The code, and every value it can read: its closure, its defaults, and the module
    globals its code (and the code nested in it) names."""
    try:
        cells = tuple(_key(cell.cell_contents, depth + 1, inside=True) for cell in fn.__closure__ or ())
    except ValueError:  # an empty cell
        raise _NoKey from None
    names: set[str] = set()
    codes = [fn.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    namespace = fn.__globals__
    read = tuple((name, _key(namespace[name], depth + 1, inside=True)) for name in sorted(names)
                 if name in namespace and namespace[name] is not fn)
    return ("function", fn.__code__, cells, read, _key(fn.__defaults__, depth + 1, inside=True),
            _key(fn.__kwdefaults__, depth + 1, inside=True))


def _copy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if type(value) in (tuple, list):
        return type(value)(_copy(item) for item in value)
    return value


def _size(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if type(value) in (tuple, list):
        return sum(_size(item) for item in value)
    return 0


def _remembered(compute: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(compute)

    @functools.wraps(compute)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return compute(*args, **kwargs)  # torch's own error
        bound.apply_defaults()
        if bound.arguments.get("create_graph"):
            return compute(*args, **kwargs)  # a result tied to a graph is not a value
        try:
            key = (compute.__name__, str(torch.get_default_dtype()), _key(bound.args), _key(bound.kwargs))
            hash(key)
        except (_NoKey, TypeError, RuntimeError):
            return compute(*args, **kwargs)
        if key in _store:
            _store.move_to_end(key)
        else:
            result = _copy(compute(*args, **kwargs))
            _store[key] = result
            _stored_bytes[0] += _size(result)
            while len(_store) > MAX_ENTRIES or (_stored_bytes[0] > MAX_BYTES and len(_store) > 1):
                _stored_bytes[0] -= _size(_store.popitem(last=False)[1])
        return _copy(_store[key])

    return call


jacobian = _remembered(functional.jacobian)
hessian = _remembered(functional.hessian)
vjp = _remembered(functional.vjp)
jvp = _remembered(functional.jvp)
hvp = _remembered(functional.hvp)


def forget() -> None:
    _store.clear()
    _stored_bytes[0] = 0
