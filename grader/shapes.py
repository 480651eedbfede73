"""A light stand-in for ``torch.fx.experimental.symbolic_shapes``, until a name it
does not have is asked for.

Eager autograd imports that module the first time a gradient is given explicitly
(``y.backward(gradient=v)``, ``torch.autograd.grad(y, x, v)``, every ``vjp``), and
``torch._check`` imports it on every call, for two helpers: ``sym_eq`` (do two shapes
match) and ``expect_true``. The real module loads sympy and torch's symbolic shapes:
about a third of a second, a fifth of ``import torch``, paid by every ``grade run``
and by every fresh sandbox process. On plain integers and bools (all that eager code
on real tensors ever passes) those helpers are ``==`` and the bool itself.

``install()`` puts in the module's place a module that answers those two for plain
values and, for a symbolic value or any other name, loads the real module, which
from then on is the one everyone gets (``sys.modules`` and the package's attribute).
The real module's behaviour is unchanged: only its loading is put off.
"""
from __future__ import annotations

import importlib
import sys
import threading
import types
from typing import Any

NAME = "torch.fx.experimental.symbolic_shapes"
_lock = threading.RLock()


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # what the import system probes for (__path__, __spec__...)
        return getattr(real(), name)


def real() -> types.ModuleType:
    """The real module, loaded now if it was not."""
    with _lock:
        module = sys.modules.get(NAME)
        if module is None or isinstance(module, _StandIn):
            sys.modules.pop(NAME, None)
            module = importlib.import_module(NAME)  # binds the package's attribute too
        return module


def expect_true(a: Any, skip: int = 0) -> Any:
    if type(a) is bool:
        return a
    return real().expect_true(a, skip + 1)


def sym_eq(x: Any, y: Any) -> Any:
    if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)):
        if all(type(v) is int for v in x) and all(type(v) is int for v in y):
            return len(x) == len(y) and all(a == b for a, b in zip(x, y))
    elif type(x) is int and type(y) is int:
        return x == y
    return real().sym_eq(x, y)


def install() -> None:
    """Put the stand-in in the real module's place, unless the real one is loaded."""
    import torch.fx.experimental as package

    with _lock:
        if NAME in sys.modules:
            return
        stand_in = _StandIn(NAME, __doc__)
        stand_in.expect_true = expect_true  # type: ignore[attr-defined]
        stand_in.sym_eq = sym_eq  # type: ignore[attr-defined]
        sys.modules[NAME] = stand_in
        package.symbolic_shapes = stand_in  # type: ignore[attr-defined]


def resolved(obj: Any) -> Any:
    """``obj``, or the real module if ``obj`` is the stand-in: for code that reads a
    module's namespace (``vars``) rather than its attributes."""
    return real() if isinstance(obj, _StandIn) else obj


def loaded() -> bool:
    """Whether the real module is loaded."""
    return not isinstance(sys.modules.get(NAME), (_StandIn, type(None)))
