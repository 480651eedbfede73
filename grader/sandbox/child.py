"""The sandboxed child: the only place where student code runs.

A child is forked from the sandbox server (which has torch loaded), reads its
setup from the grader, locks itself down, loads the student's module from source
text, and answers calls until the grader closes the channel or kills it. Nothing
here decides a score: the grader treats every byte coming back as untrusted.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import io
import inspect
import itertools
import json
import linecache
import logging.config
import math
import os
import re
import socket
import sys
import threading
import tokenize
import traceback
import types
import warnings
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from typing import Any, Callable, Iterator

import torch

from ..taskrecord import ENGINE_RAN, ENGINE_STOPPED, TAMPERED
from . import catalogue, channel, jail, wire

MAX_REQUEST_BYTES = 256 * 1024 * 1024
MAX_TEXT = 2000
# What one call may print and still be shown: enough for a few debugging lines per check.
MAX_OUTPUT = 4096
MAX_OPEN_FILES = 256
# The parts of torch (paths under its package) that call the watched APIs on their
# own behalf: printing a tensor, Tensor.backward, autograd and torch.func internals,
# compilers. A call from elsewhere in torch (torch.utils.data, torch.utils.checkpoint,
# torch.nn: an nn.Module whose forward was set to the API, torch.optim: an optimizer's
# step given it inside its closure) is one torch passes on for whoever handed it over.
TORCH_OWN_CALLERS = ("_tensor.py", "_tensor_str.py", "autograd" + os.sep, "_functorch" + os.sep,
                     "func" + os.sep, "_dynamo" + os.sep,
                     "_higher_order_ops" + os.sep, "fx" + os.sep, "_subclasses" + os.sep, "_prims",
                     "_refs" + os.sep, "_decomp" + os.sep, "_inductor" + os.sep, "_ops.py", "_jit_internal.py",
                     "jit" + os.sep, "amp" + os.sep, "distributions" + os.sep, "library.py", "_library" + os.sep,
                     "export" + os.sep, "_export" + os.sep, "compiler" + os.sep, "overrides.py", "functional.py")

def _watch_list() -> dict[str, Callable[..., Any]]:
    """APIs whose calls are recorded as evidence for the "not allowed" rules."""
    import torch.autograd.forward_ad as forward_ad
    import torch.autograd.functional as functional
    import torch.func as func

    out: dict[str, Callable[..., Any]] = {
        "torch.autograd.grad": torch.autograd.grad,
        "torch.autograd.backward": torch.autograd.backward,
        "torch.Tensor.backward": torch.Tensor.backward,
        "torch.vmap": torch.vmap,
        "torch.autograd.forward_ad.make_dual": forward_ad.make_dual,
        "torch.autograd.forward_ad.unpack_dual": forward_ad.unpack_dual,
    }
    # Grad mode switched back on (inside a custom backward it is off): the class's
    # Python methods are what a call or a with statement runs.
    out["torch.enable_grad"] = vars(torch.enable_grad)["__enter__"]
    # Saved-tensors hooks of the submission's own would take the place of the
    # recorder's (only the innermost pair is used): pushing a pair is using autograd.
    out["torch.autograd.graph.saved_tensors_hooks"] = vars(torch.autograd.graph.saved_tensors_hooks)["__enter__"]
    out["torch.set_grad_enabled"] = vars(torch.set_grad_enabled)["__init__"]
    for name in ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"):
        out[f"torch.autograd.functional.{name}"] = getattr(functional, name)
    # The legacy vmap, public as torch.autograd.gradcheck.vmap: its own body under a
    # deprecation wrapper (whose code every deprecated function shares).
    import torch._vmap_internals as legacy

    out[LEGACY_VMAP] = inspect.unwrap(legacy.vmap)
    # (torch.autograd.gradcheck is also the name of the function gradcheck: the module
    # is reached by its name)
    gradcheck = importlib.import_module("torch.autograd.gradcheck")
    out["torch.autograd.gradcheck.get_analytical_jacobian"] = inspect.unwrap(gradcheck.get_analytical_jacobian)
    for name in ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
                 "vmap", "linearize", "functional_call"):
        if hasattr(func, name):
            out[f"torch.func.{name}"] = getattr(func, name)
    try:  # functorch's names: wrappers that call torch.func from torch's own code
        from torch._functorch import deprecated
    except ImportError:
        return out
    for name in ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap"):
        if hasattr(deprecated, name):
            out[f"functorch.{name}"] = getattr(deprecated, name)
    return out


# The legacy vmap, watched under its public name.
LEGACY_VMAP = "torch.autograd.gradcheck.vmap"
# The entries to autograd's engine that everything else ends in.
ENGINE = frozenset(["torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
                    "torch.autograd.forward_ad.make_dual"])
# torch.func's transforms refuse to run under saved-tensors hooks: a module that names
# them is not given those hooks for its TorchScript (its autograd there stays unseen).
_TRANSFORMS_NAMED = re.compile(r"\btorch\s*\.\s*func\b|\bfunctorch\b|\bvmap\b|\bjacrev\b|\bjacfwd\b"
                               r"|\bfrom\s+torch\s+import\s+[^\n]*\bfunc\b")
# What a graph built while a task runs is recorded as: its rules name torch.autograd.
GRAPH = ("torch.autograd.graph (a graph built for backward: a tensor that requires grad, a layer's parameters, "
         "or autograd run in TorchScript)")
_SAVED_TENSORS_HOOKS = torch.autograd.graph.saved_tensors_hooks


# What torch's own op records (C++, whatever Python's tracing state is) show of autograd
# running: the engine evaluating a graph's nodes, and forward-mode duals made.
ENGINE_EVENT = "autograd::engine::evaluate_function"
DUAL_EVENT = "aten::_make_dual"
# What torch calls a node of a graph when it runs one: its derivative's class
# (``MulBackward0``, a custom Function's ``SmoothReLUBackward``), or autograd's own.
_NODE_EVENT = re.compile(r"(?:Backward\d*|^torch::autograd::\w+)$")
_MARKER, _STEP, _OTHER = 0, 1, 2


class _EngineWatch:
    """torch's own record of the operations a call runs (its legacy profiler, kept in
    C++), read for autograd: for the tasks that allow none at all. The profile hook
    sees Python calls, and Python runs some code where no hook sees it (a finalizer
    run while the interpreter syncs a frame's locals for the hook, a signal handler);
    the operations that such code runs are recorded all the same. A marker pushed
    first shows that the record read at the end is the one started here."""

    def __init__(self, nested_only: bool = False) -> None:
        # ``nested_only``: the task's given code runs the engine itself (a custom
        # Function's backward is the engine's to run), so only an engine step inside
        # some other event (one of the engine's own steps: a backward that
        # differentiates; a custom Function's forward; an operator), or a forward-mode
        # dual, is autograd of the submission's own.
        self.nested_only = nested_only
        self.marker = "autograd-lab-" + os.urandom(8).hex()
        # pushed at the end: the record was still taken then (torch's RecordFunction
        # switched off during the call, and not on again by the end, leaves it out)
        self.end_marker = self.marker + "-end"
        self.active = False
        self.handle: Any = None
        self.found: str | None = None  # ENGINE_RAN or ENGINE_STOPPED, once read

    def __enter__(self) -> "_EngineWatch":
        from torch.autograd import ProfilerConfig, ProfilerState

        try:
            torch.autograd._enable_profiler_legacy(ProfilerConfig(
                ProfilerState.CPU, False, False, False, False, False, torch._C._profiler._ExperimentalConfig()))
        except RuntimeError:
            # A profiler of the submission's own is on (one started at import would
            # otherwise keep this record from ever starting): the call is unseen.
            self.found = ENGINE_STOPPED
            return self
        self.active = True
        self.handle = torch.ops.profiler._record_function_enter_new(self.marker, None)
        return self

    def __exit__(self, *exc: Any) -> bool:
        if not self.active:
            return False
        try:
            torch.ops.profiler._record_function_exit(
                torch.ops.profiler._record_function_enter_new(self.end_marker, None))
            torch.ops.profiler._record_function_exit(self.handle)
            records = torch.autograd._disable_profiler_legacy()
        except RuntimeError:
            self.found = ENGINE_STOPPED
            return False
        if not self.nested_only:
            # No autograd at all: any engine step, dual or node is enough, wherever it
            # sits, so only the names are read (a pop's is empty; an operator's is
            # aten's and only a dual's matters there).
            ours = ended = False
            for thread in records:
                for event in thread:
                    name = event.name()
                    if not name:
                        continue
                    if name[:6] == "aten::":
                        if name == DUAL_EVENT:
                            self.found = ENGINE_RAN
                    elif name == self.marker:
                        ours = True
                    elif name == self.end_marker:
                        ended = True
                    elif name.startswith(ENGINE_EVENT) or _NODE_EVENT.search(name):
                        self.found = ENGINE_RAN
            if not (ours and ended):
                self.found = ENGINE_STOPPED
            return False
        ours = ended = False
        for thread in records:
            inside = 0  # the events open on this thread, the marker aside
            stack: list[int] = []  # per open event: _MARKER, _STEP (the engine's step of a node) or _OTHER
            for event in thread:
                kind = event.kind()
                if kind == "pop":
                    if stack and stack.pop() != _MARKER:
                        inside -= 1
                    continue
                if kind != "push":
                    continue
                name = event.name()
                if name == self.marker or name == self.end_marker:
                    ours, ended = ours or name == self.marker, ended or name == self.end_marker
                    stack.append(_MARKER)
                    continue
                # (nested_only: the given code runs the engine itself, and only at the top
                # of the record; an engine step inside any other event is run from inside
                # one: a backward's step, a custom Function's forward, an operator)
                step = name.startswith(ENGINE_EVENT)
                if name == DUAL_EVENT or step and (not self.nested_only or inside):
                    self.found = ENGINE_RAN
                elif not step and _NODE_EVENT.search(name) and not (stack and stack[-1] == _STEP):
                    # A node of a graph run outside the engine's step for it: called
                    # directly (``y.grad_fn(v)``), a local derivative taken from autograd.
                    self.found = ENGINE_RAN
                stack.append(_STEP if step else _OTHER)
                inside += 1
        if not (ours and ended):
            self.found = ENGINE_STOPPED
        return False


class _Recorder:
    """Records the watched APIs that the submission's own code calls.

    Nothing is replaced: while a task runs, a profile hook sees every Python call
    and counts one whose code is a watched API's and whose caller is a frame of a
    submission module. Torch calling itself (a tensor's repr calls
    ``unpack_dual``, an optimizer's step) never counts, and the APIs stay the
    originals, so no wrapper's ``__wrapped__`` or closure leads back to them.
    """

    def __init__(self, files: set[str]) -> None:
        self.used: set[str] = set()
        # The backward passes that ran to the end: normal returns (not exceptions) of
        # the one Python function that hands a pass to autograd's engine, from at least
        # one root. A pass that raised and was caught, or one of nothing
        # (``backward([])``), did not happen. Counted by that function itself
        # (``_count_passes``), whether the profile hook is on or not.
        self.passes = 0
        # Forward-mode duals made: returns of ``make_dual``.
        self.duals = 0
        self.graph_used = False  # a saved tensor read back by a backward pass (``watching(graphs=True)``)
        # Where each recorded call was made: the qualified names of the submission's
        # functions on the stack, so a rule scoped to one method can be honoured.
        self.places: dict[str, set[str]] = {}
        self.files = frozenset(files)
        self.codes: dict[types.CodeType, tuple[str, ...]] = {}
        self.runs_backward: frozenset[types.CodeType] = frozenset()
        self.runs_forward: frozenset[types.CodeType] = frozenset()
        self.forwarders: frozenset[str] = frozenset()
        self.torch_dir = os.path.dirname(torch.__file__) + os.sep
        self.distributions_dir = self.torch_dir + "distributions" + os.sep
        self.dispatcher = _Child.call.__code__  # the frame that calls a task's function
        self.hook = self._hook  # one bound method: the hook is recognised by identity
        self.gc = (gc.isenabled, gc.disable, gc.enable)

    def install(self) -> None:
        for qualname, function in _watch_list().items():
            code = getattr(function, "__code__", None)
            if isinstance(code, types.CodeType):  # every watched API is a Python function today
                self.codes[code] = self.codes.get(code, ()) + (qualname,)
                # What a transform returns (jacrev(f) is a function made by jacrev): a
                # call of it is a call of the transform, wherever it was built (at
                # import, before any call was watched).
                for inner in _nested_codes(code) if qualname.startswith(TRANSFORMS) else ():
                    self.codes[inner] = self.codes.get(inner, ()) + (qualname,)
        import torch._vmap_internals as legacy

        # The legacy vmap's batched function is made by _vmap, which it calls: torch's
        # own batched grad makes one too, but calls it from autograd's own frames.
        for inner in _nested_codes(legacy._vmap.__code__):
            self.codes[inner] = self.codes.get(inner, ()) + (LEGACY_VMAP,)
        _watch_profile_switches()

        import concurrent.futures.thread
        import torch.utils._contextlib

        self.forwarders = frozenset(m.__file__ for m in (functools, contextlib, torch.utils._contextlib, threading,
                                                         concurrent.futures.thread) if m.__file__)
        from torch.autograd.function import BackwardCFunction

        # The frames in which torch runs a custom Function's backward (or vjp): a
        # backward assigned under another name is still that Function's backward.
        self.runs_backward = frozenset(vars(BackwardCFunction)[name].__code__ for name in ("apply", "apply_boxed")
                                       if name in vars(BackwardCFunction))
        # The frame in which torch runs a custom Function's forward (and setup_context):
        # Function.apply, whose cls is the Function, however its forward was bound.
        self.runs_forward = frozenset([vars(torch.autograd.Function)["apply"].__func__.__code__])

    def _places(self, frame: types.FrameType | None) -> set[str]:
        """The submission's functions on the stack, innermost first, by qualified name.

        Only the code objects' names and torch's own locals are read: nothing here
        may run student code (a property, a metaclass) inside the hook.
        """
        places: set[str] = set()
        depth = 0
        while frame is not None and depth < 500:
            code = frame.f_code
            if code.co_filename in self.files:
                places.add(code.co_qualname)
                caller = frame.f_back
                if caller is not None and caller.f_code in self.runs_backward:
                    owner = _function_class(caller.f_locals.get("self"))
                    if owner:
                        places.add(owner + ".backward")
                elif caller is not None and caller.f_code in self.runs_forward:
                    owner = _class_name(caller.f_locals.get("cls"))
                    if owner:
                        places.add(owner + ".forward")
            frame = frame.f_back
            depth += 1
        return places

    def _inside_an_api(self, frame: types.FrameType | None) -> bool:
        """Whether a watched API's frame lies between ``frame`` and the submission's
        innermost frame: the call is that API's own work (jacobian calling grad),
        recorded or not on the API's own merits."""
        hops = 0
        while frame is not None and hops < 500:
            code = frame.f_code
            if code.co_filename in self.files:
                return False
            if code in self.codes:
                return True
            frame, hops = frame.f_back, hops + 1
        return False

    def _caller(self, frame: types.FrameType) -> types.FrameType | None:
        """The submission's frame that made this call of a watched API, or None if torch
        made it on its own (printing a tensor calls ``unpack_dual``, an optimizer's step).

        Frames of code that is neither torch's nor the submission's (the standard
        library, numpy: ``weakref.finalize(obj, api)``, ``sched``, ``functools``) only pass
        the call on: the search looks past them, as past torch code that calls what it
        is given (a DataLoader's ``collate_fn``). A frame of the parts of torch that
        use these APIs themselves (``TORCH_OWN_CALLERS``) makes the call torch's, unless
        it is a generic forwarder (``torch.no_grad()(api)``) or it holds the API itself as
        a value, i.e. it was handed the API to call.
        """
        caller, hops, handed = frame.f_back, 0, False
        while caller is not None and hops < 500:
            code = caller.f_code
            filename = code.co_filename
            # The child's own dispatcher called it: the task's name is bound to the API
            # itself (``jacobian_by_hand = partial(jacobian, f)``).
            if filename in self.files or code is self.dispatcher:
                return caller
            if not handed and filename.startswith(self.torch_dir) and filename not in self.forwarders \
                    and filename[len(self.torch_dir):].startswith(TORCH_OWN_CALLERS):
                # Once a torch frame was handed the API (an optimizer's step given it as
                # the closure), torch frames further out only pass it on.
                handed = any(_leads_to(v, self.codes) for v in caller.f_locals.values())
                if not handed:
                    return None
            caller, hops = caller.f_back, hops + 1
        return None

    def count_passes(self) -> None:
        """Count, from now on, the backward passes that run to the end from at least one
        root, and the forward-mode duals made: torch's one entry to its engine
        (``torch.autograd.graph._engine_run_backward``, which ``backward`` and ``grad``
        look up at each call) and ``make_dual`` are replaced by functions that call
        them and count a normal return. Only exact tuples and lists are read for the
        roots (a student's ``__len__`` would run here). Installed after the watched
        APIs' code is read, so the profile hook still knows make_dual by its own code."""
        import torch.autograd.forward_ad as forward_ad
        import torch.autograd.graph as graph

        run, make_dual, recorder = graph._engine_run_backward, forward_ad.make_dual, self
        # What torch's entry reads at each call to reach the engine: a pass counts only
        # while they are still torch's own (a fake engine swapped in returns at once).
        variable, engine = graph.Variable, graph.Variable._execution_engine

        running = [0]  # passes under way: one run inside another (a reentrant checkpoint's
        # backward, a custom backward that differentiates) is part of the outer pass

        def _engine_run_backward(t_outputs: Any, *args: Any, **kwargs: Any) -> Any:
            genuine = graph.Variable is variable and type.__getattribute__(variable, "_execution_engine") is engine
            running[0] += 1
            try:
                result = run(t_outputs, *args, **kwargs)
            finally:
                running[0] -= 1
            if genuine and not running[0] and (type(t_outputs) is tuple or type(t_outputs) is list) \
                    and len(t_outputs) > 0:
                recorder.passes += 1
            return result

        def _make_dual(tensor: Any, tangent: Any, *, level: Any = None) -> Any:
            dual = make_dual(tensor, tangent, level=level)
            recorder.duals += 1
            return dual

        _make_dual.__name__ = _make_dual.__qualname__ = "make_dual"
        _make_dual.__doc__, _make_dual.__module__ = make_dual.__doc__, make_dual.__module__
        graph._engine_run_backward = torch.autograd._engine_run_backward = _engine_run_backward
        forward_ad.make_dual = _make_dual

    def _hook(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        names = self.codes.get(frame.f_code)
        if names is None:
            return
        # What follows allocates: a collection then would run finalizers of the
        # submission's garbage (``__del__``, weakref callbacks) inside this hook, where
        # no call is recorded. Collections wait until the hook is done.
        # (The functions are the ones read at start: the gc module is the submission's
        # to change.)
        isenabled, disable, enable = self.gc
        collecting = isenabled()
        disable()
        try:
            self._record(frame, names)
        finally:
            if collecting:
                enable()

    def reset(self) -> None:
        """A fresh record for the next call: new containers too, so that ones swapped in
        by code that reached the recorder (to drop what is added) do not outlive the
        call that swapped them."""
        self.used = set()
        self.places = {}
        self.passes = self.duals = 0
        self.graph_used = False

    @property
    def ran_autograd(self) -> bool:
        """Whether autograd ran during the call: a backward pass from a root ran to the
        end, or a forward-mode dual was made. Calling an API that then raised, or that
        had nothing to differentiate, is not autograd running."""
        return self.passes > 0 or self.duals > 0

    def _record(self, frame: types.FrameType, names: tuple[str, ...]) -> None:
        caller = self._caller(frame)
        if caller is None:
            # Torch made the call, but autograd ran for the submission's code all the
            # same when one of its functions is further out (a distribution's generic
            # entropy differentiating the student's log-normalizer, inside a custom
            # backward or a by-hand task): for the rules that allow no autograd at all.
            run = ENGINE.intersection(names)
            where = self._places(frame.f_back) if run and not self._inside_an_api(frame.f_back) else None
            if where:
                for name in run:
                    self.used.add(name)
                    self.places.setdefault(name, set()).update(where)
            return
        if "torch.set_grad_enabled" in names and len(names) == 1:
            # Switching grad mode off keeps autograd out: only switching it on counts.
            # Only an exact False or 0 is read (an object's __bool__ would run code here).
            mode = frame.f_locals.get("mode", True)
            if mode is False or type(mode) is int and mode == 0:
                return
        self.used.update(names)
        where = self._places(caller)
        for name in names:
            self.places.setdefault(name, set()).update(where)
        # Only a plain bool or int is read: an object's __bool__ would run student
        # code inside the hook, and an exception there would switch the hook off.
        # Anything but an exact False, 0 or None counts as batched: torch only asks
        # whether it is true, and numpy's True_ or a tensor is as true as True.
        flag = frame.f_locals.get("is_grads_batched", False) if "torch.autograd.grad" in names else False
        if not (flag is None or (type(flag) is bool or type(flag) is int) and not flag):
            self.used.add("torch.autograd.grad(is_grads_batched=True)")
            self.places.setdefault("torch.autograd.grad(is_grads_batched=True)", set()).update(where)

    def _saved(self, tensor: Any) -> Any:
        """A tensor saved for backward while a task with no autograd allowed runs: a graph
        is being built. Counted as that API, where the submission's frames then are;
        unless torch's distributions built it themselves (a ``lazy_property`` such as
        ``Bernoulli(logits=x).probs`` computes under torch's own ``enable_grad``): a
        backward through it would still be seen by the engine's record."""
        caller = sys._getframe(1)
        if caller is not None and caller.f_code.co_filename.startswith(self.distributions_dir):
            return tensor
        self.used.add(GRAPH)
        self.places.setdefault(GRAPH, set()).update(self._places(sys._getframe(1)))
        return tensor

    def _unpacked(self, tensor: Any) -> Any:
        """A saved tensor read back: a backward pass ran, wherever it ran."""
        self.graph_used = True
        return tensor

    @contextlib.contextmanager
    def watching(self, graphs: bool = False) -> Iterator[None]:
        """Record while the block runs. ``graphs``: also record every tensor autograd
        saves for a backward pass (a graph being built), wherever the graph is built:
        in TorchScript or any other C++ code, where no profile hook sees a call."""
        # The recorder's own saved-tensors hooks are pushed before its profile hook is
        # on and popped once it is off: pushing a pair is a watched call.
        with _SAVED_TENSORS_HOOKS(self._saved, self._unpacked) if graphs else contextlib.nullcontext():
            threading.setprofile(self.hook)
            sys.setprofile(self.hook)
            _WATCHING.append(self)  # after its own switch on, and out before its switch off
            try:
                yield
            finally:
                _WATCHING.remove(self)
                # A hook gone by the end (an exception inside it switches it off) hid the rest.
                if sys.getprofile() is not self.hook:
                    self.used.add(TAMPERED)
                sys.setprofile(None)
                threading.setprofile(None)  # type: ignore[arg-type]


_LAZY = (map, filter, itertools.starmap)


# The watched APIs that return a new function (a transform): what they define is
# what they return.
TRANSFORMS = ("torch.func.", "torch.vmap", "functorch.")


def _nested_codes(code: types.CodeType, depth: int = 0) -> list[types.CodeType]:
    """The code of the functions a function defines (two levels: a decorator's wrapper),
    comprehensions and lambdas aside (they run inside the function itself)."""
    found = [c for c in code.co_consts if isinstance(c, types.CodeType) and not c.co_name.startswith("<")]
    return found + [inner for c in found if depth < 1 for inner in _nested_codes(c, depth + 1)]


_MRO = type.__dict__["__mro__"]
_CLASS_DICT = type.__dict__["__dict__"]
_PARTIAL = (functools.partial.__dict__["func"], functools.partial.__dict__["args"],
            functools.partial.__dict__["keywords"])


_FUNCTION_CODE = types.FunctionType.__dict__["__code__"]


def _leads_to(value: Any, codes: Any, depth: int = 0) -> bool:
    """Whether ``value`` is a watched API (a function whose code is in ``codes``: an API
    or a function one made, what a transform returns), or leads to one: a partial (of
    any subclass) or bound method of one, a tuple, list or dict holding one (``*args``,
    ``**kwargs``), a lazy map or filter over one, a class whose own attributes hold one
    (a custom Function whose forward is the API, which ``Function.apply`` is given as
    ``cls``). Everything is read through the types' own C-level slots: nothing of the
    student's (a property, a metaclass) runs here."""
    if depth > 6:
        return False
    kind = type(value)
    if kind is types.FunctionType:
        return _FUNCTION_CODE.__get__(value) in codes
    # (identity only: ``in`` on a tuple of classes calls ==, a student metaclass's __eq__)
    mro = _MRO.__get__(kind)
    if any(c is functools.partial for c in mro):
        func, args, keywords = (slot.__get__(value) for slot in _PARTIAL)
        return _leads_to(func, codes, depth + 1) or any(
            _leads_to(v, codes, depth + 1) for v in list(args[:16]) + list(dict.values(keywords or {}))[:16])
    lazy = next((base for base in _LAZY if any(c is base for c in mro)), None)
    if lazy is not None:  # map(api, ...), filter, starmap: their function, from the C-level reduce
        try:
            parts = lazy.__reduce__(value)[1]
        except Exception:  # noqa: BLE001 - nothing readable
            return False
        return any(_leads_to(v, codes, depth + 1) for v in parts[:16])
    if kind is types.MethodType:
        return _leads_to(value.__func__, codes, depth + 1)
    if kind is staticmethod or kind is classmethod:
        return _leads_to(kind.__dict__["__func__"].__get__(value), codes, depth + 1)
    if kind is tuple or kind is list:
        return any(_leads_to(v, codes, depth + 1) for v in value[:16])
    if kind is dict:
        return any(_leads_to(v, codes, depth + 1) for v in list(dict.values(value))[:16])
    if any(c is type for c in mro):  # a class: what it holds itself
        return any(_leads_to(v, codes, depth + 1) for v in list(_CLASS_DICT.__get__(value).values())[:64])
    return False


# The recorders whose watched call is running: a switch of the profile hook while one
# is in this list is the submission's (the recorder switches outside it).
_WATCHING: list[_Recorder] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "sys.setprofile":
        for recorder in _WATCHING:
            recorder.used.add(TAMPERED)


@functools.cache
def _watch_profile_switches() -> None:
    """Switching the profile hook off (or another on) while a watched call runs hides
    what follows: an audit hook, which nothing can remove, sees every switch. One per
    process, installed on the first call."""
    sys.addaudithook(_audit)


@functools.lru_cache(maxsize=16)
def _function_classes(module: types.ModuleType, source: str, given: str) -> list[str]:
    """The classes a given function may test, by name: those the module's source
    defines with a base named ``Function``; every class defined in the module whose
    real MRO holds torch.autograd.Function, however its base was spelled (``_Base =
    Function``); and every module-level name the given code reads that holds a class.
    Read through type's own slots: nothing of the student's runs here."""
    import ast as _ast

    def parsed(text: str) -> Any:
        try:
            return _ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return _ast.Module(body=[], type_ignores=[])

    names = [n.name for n in parsed(source).body if isinstance(n, _ast.ClassDef)
             and any(getattr(b, "attr", getattr(b, "id", "")) == "Function" for b in n.bases)]
    namespace = vars(module)
    function = torch.autograd.Function
    for name, value in list(namespace.items()):
        if issubclass(type(value), type) and any(c is function for c in _MRO.__get__(value)) \
                and _defined_in(value, module.__name__):
            names.append(name)
    read = {n.id for n in _ast.walk(parsed(given)) if isinstance(n, _ast.Name) and isinstance(n.ctx, _ast.Load)}
    names += [name for name in sorted(read) if issubclass(type(namespace.get(name)), type)]
    return list(dict.fromkeys(names))


# What in a TorchScript graph (its calls inlined) can run autograd: the engine's two
# entries, and a call the inlining left (a function passed as a value).
_HIDDEN_AUTOGRAD = ("aten::backward", "aten::grad", "prim::CallFunction", "prim::CallMethod")
_MODULE_DICT = vars(torch.nn.Module)["__dict__"]


def _hides_autograd(value: Any) -> bool:
    """Whether ``value`` is TorchScript whose code can run autograd, unseen by the
    recorder. Read by type and through torch's own slots (an object's own code never
    runs here); anything that cannot be read so may."""
    kind = type(value)
    try:
        if issubclass(kind, torch.jit.ScriptFunction):
            if kind is not torch.jit.ScriptFunction:
                return True
            graphs = [value.inlined_graph]
        elif issubclass(kind, torch.jit.ScriptModule):
            held = _MODULE_DICT.__get__(value)
            # A traced module holds its compiled module in a script module of its own.
            inner = held.get("_actual_script_module")
            compiled = held.get("_c") if inner is None else _MODULE_DICT.__get__(inner).get("_c") \
                if issubclass(type(inner), torch.jit.ScriptModule) else None
            if type(compiled) is not torch._C.ScriptModule:
                return True
            graphs = [compiled._get_method(name).inlined_graph for name in compiled._method_names()]
        else:
            return False
        return any(op in str(graph) for graph in graphs for op in _HIDDEN_AUTOGRAD)
    except Exception:  # noqa: BLE001 - unreadable: it may
        return True


# What a logging configuration may name, in a child: logging's own classes and
# constants, and the standard streams.
_LOGGING_NAME = re.compile(r"logging(\.handlers|\.config)?\.[A-Za-z]\w*\Z")


# ``_signal.signal`` in a child: built over a namespace of its own, so that nothing of
# the child's is reachable from it.
_SIGNAL_SOURCE = """
def signal(signalnum, handler, /):
    \"\"\"In the grader's sandbox a signal keeps what it had: a handler of the
    submission's would run wherever the interpreter is when the signal arrives.\"\"\"
    return getsignal(signalnum)


def enable(*args, **kwargs):
    \"\"\"faulthandler (and signal.siginterrupt) in the grader's sandbox: nothing to install.\"\"\"


def alarm(seconds, /):
    \"\"\"In the grader's sandbox no timer is armed: its signal has no handler here.\"\"\"
    return 0


def setitimer(which, seconds, interval=0.0, /):
    \"\"\"In the grader's sandbox no timer is armed: its signal has no handler here.\"\"\"
    return (0.0, 0.0)
"""


def _refuse_signal_handlers() -> None:
    """A signal handler runs at whatever point the interpreter has reached when the
    signal arrives, the recorder's own hook included, where no call is recorded: a
    submission gets none installed. On Linux the seccomp filter refuses sigaction
    itself. So that honest code (a Ctrl-C handler, ``faulthandler.enable()``, a time
    limit of its own) does not fail for it, setting a handler here changes nothing
    and says so by returning what the signal had, and ``alarm``/``setitimer`` arm no
    timer (whose signal, with no handler, would end the process): the attempt fails
    quietly."""
    import _signal
    import faulthandler

    namespace: dict[str, Any] = {"getsignal": _signal.getsignal, "__builtins__": {}}
    exec(compile(_SIGNAL_SOURCE, "<sandbox>", "exec"), namespace)  # noqa: S102 - the grader's own text
    import signal

    _signal.signal = namespace["signal"]  # (signal.signal, a wrapper, calls it by that name)
    # signal's own module copied the timers from _signal when it was imported
    for module in (_signal, signal):
        for name in ("alarm", "setitimer"):
            if hasattr(module, name):
                setattr(module, name, namespace[name])
        if hasattr(module, "siginterrupt"):
            module.siginterrupt = namespace["enable"]
    for name in ("enable", "register", "dump_traceback_later"):
        setattr(faulthandler, name, namespace["enable"])


def _restrict_logging_config(own: frozenset[str]) -> None:
    """logging.config resolves dotted names by importing them ("ext://torch.jit", a
    "class" or "()" path): in a child it resolves only logging's own names, the
    submission's own modules' (``own``: a formatter class of its own) and sys.stdout
    and sys.stderr, so that a configuration, however it is written, hands a
    submission no other module or function. Its importers import nothing else."""
    config = logging.config
    resolve, importer, module_resolve = config.BaseConfigurator.resolve, config.BaseConfigurator.importer, \
        config._resolve

    def allowed(s: Any) -> bool:
        if type(s) is not str:
            return False
        root, _, rest = s.partition(".")
        return s in ("sys.stdout", "sys.stderr") or bool(_LOGGING_NAME.match(s)) \
            or root in own and rest.isidentifier() and not rest.startswith("_")

    def checked(s: Any, found: Any) -> Any:
        if isinstance(found, types.ModuleType):  # logging.sys, logging.handlers.socket
            raise ValueError(f"Cannot resolve {s!r}: a module")
        root = s.partition(".")[0]
        if root in own and not (issubclass(type(found), type) and _defined_in(found, root)
                                or type(found) is types.FunctionType and type(found.__module__) is str
                                and found.__module__ == root):
            # a class or a factory function the exercise module defines itself, not
            # anything it holds
            raise ValueError(f"Cannot resolve {s!r}: not a class or function defined in {root}.py")
        return found

    def refused(s: Any) -> ValueError:
        return ValueError(f"Cannot resolve {_text(s)[:80]!r}: a logging configuration may name only logging's "
                          "own classes, the exercise modules' own and sys.stdout or sys.stderr here")

    def restricted_resolve(self: Any, s: Any) -> Any:
        if not allowed(s):
            raise refused(s)
        return checked(s, resolve(self, s))

    def restricted_module_resolve(s: Any) -> Any:
        if not allowed(s):
            raise refused(s)
        return checked(s, module_resolve(s))

    def restricted_import(name: Any, *args: Any, **kwargs: Any) -> Any:
        if type(name) is not str or name.split(".")[0] not in ("logging", "sys", *own):
            raise ImportError(f"a logging configuration may import only logging here, not {_text(name)[:80]!r}")
        return importer(name, *args, **kwargs)

    config.BaseConfigurator.resolve = restricted_resolve
    config.BaseConfigurator.importer = staticmethod(restricted_import)
    config._resolve = restricted_module_resolve


def _defined_in(cls: type, module_name: str) -> bool:
    where = _CLASS_DICT.__get__(cls).get("__module__")
    return type(where) is str and where == module_name


def _not_own_functions(module: types.ModuleType, source: str, given: str = "") -> str:
    """Why a given function cannot test the module's custom autograd Functions: every
    class it may test (``_function_classes``) must still be a torch.autograd.Function,
    keep torch's ``apply`` and have a ``backward`` written in the module. Read
    statically: nothing of the student's runs here."""
    import inspect

    names = _function_classes(module, source, given)
    function = torch.autograd.Function
    for name in names:
        cls = inspect.getattr_static(module, name, None)
        if not (isinstance(cls, type) and any(c is function for c in _MRO.__get__(cls))):
            return f"{name} must be a torch.autograd.Function"
        # A metaclass of its own could answer SmoothReLU.apply (a property on it) with
        # anything, past what getattr_static reads below.
        if type(cls) is not type(function):
            return f"{name} must keep torch.autograd.Function's metaclass"
        if inspect.getattr_static(cls, "apply") is not inspect.getattr_static(function, "apply"):
            return f"{name}.apply must be torch.autograd.Function's own"
        backward = inspect.getattr_static(cls, "backward")
        backward = getattr(backward, "__func__", backward)
        own = False
        for _ in range(16):  # through decorators (once_differentiable, torch.no_grad()) to the code
            code = getattr(backward, "__code__", None) if type(backward) is types.FunctionType else None
            if code is not None and code.co_filename == f"{module.__name__}.py":
                own = True
                break
            try:
                backward = backward.__wrapped__
            except Exception:  # noqa: BLE001 - no further wrapper: not the module's own
                break
        if not own:
            return f"{name}.backward must be written in {module.__name__}.py"
    return ""


def _class_name(cls: Any) -> str:
    """A class's qualified name, read through type's own slots; "" if not a class."""
    if not issubclass(type(cls), type):
        return ""
    try:
        name = type.__dict__["__qualname__"].__get__(cls)
    except Exception:  # noqa: BLE001 - evidence only
        return ""
    return name if type(name) is str else ""


def _function_class(node: Any) -> str:
    """The name of the custom Function whose backward node ``node`` is, read through
    type's own slots (a student's metaclass cannot run code here); "" if unknown."""
    return _class_name(_CLASS_DICT.__get__(type(node)).get("_forward_cls"))


class _SubmissionFinder(MetaPathFinder, Loader):
    """Serves the submission's own modules from the source text the grader sent."""

    def __init__(self, sources: dict[str, str], withheld: dict[str, str] | None = None) -> None:
        self.sources = sources
        self.withheld = withheld or {}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname in self.sources:
            return ModuleSpec(fullname, self, origin=f"{fullname}.py")
        if fullname in self.withheld:  # a module of the submission's that is not run: say why
            raise ImportError(f"cannot import {fullname}: {self.withheld[fullname]}", name=fullname)
        return None

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        filename = f"{name}.py"
        source = self.sources[name]
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        module.__file__ = filename
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)


def _text(value: object) -> str:
    """``str(value)`` as an exact str (a str subclass's own code would run when it is
    read later), cut to MAX_TEXT."""
    try:
        text = str(value)
    except Exception:  # a hostile __str__ must not take the reply down
        text = "<unprintable>"
    if type(text) is not str:
        return "<unprintable>"
    return str.__getitem__(text, slice(0, MAX_TEXT))


_TYPE_NAME = type.__dict__["__name__"]


def _type_name(value: object) -> str:
    """The name of ``value``'s class, read through type's own slot: a metaclass's
    ``__name__`` property is the student's code."""
    return _TYPE_NAME.__get__(type(value))


def _describe_exception(exc: BaseException, sources: dict[str, str]) -> dict[str, Any]:
    files = {f"{name}.py" for name in sources}
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename in files:
            frames.append([frame.filename, frame.lineno or 0, frame.name, (frame.line or "")[:200]])
    message = _text(exc)
    cause = exc.__cause__
    if isinstance(cause, BaseException) and cause is not exc:  # dictConfig's "Unable to configure ..."
        message = f"{message} (because {_type_name(cause)}: {_text(cause)})"
    return {"type": _type_name(exc), "message": message, "frames": frames[-8:]}


def _tensors_in(value: Any, out: list[torch.Tensor]) -> list[torch.Tensor]:
    if type(value) is torch.Tensor:
        out.append(value)
    elif type(value) in (list, tuple):
        for item in value:
            _tensors_in(item, out)
    return out


def _materialise(value: Any) -> Any:
    if isinstance(value, wire.Received):
        return value.tensor
    if isinstance(value, wire.FnSpec):
        return catalogue.build(value.name, value.params)
    if type(value) in (list, tuple):
        return type(value)(_materialise(v) for v in value)
    return value


# Bound before any submission runs: a submission that replaces torch.equal (patching,
# which the scan flags) cannot blind the evidence of an argument changed in place.
_EQUAL, _ISNAN = torch.equal, torch.isnan


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if _EQUAL(a, b):  # the usual case, in one kernel; NaNs (never equal) need the slow way
        return True
    both_nan = _ISNAN(a) & _ISNAN(b) if a.is_floating_point() else torch.zeros_like(a, dtype=torch.bool)
    return bool(((a == b) | both_nan).all())


def _drift(a: torch.Tensor, b: torch.Tensor) -> float | None:
    """How far a changed floating tensor moved, relative to its largest entry (a
    perturbation put back up to rounding moves it about one ulp); None if unmeasurable."""
    if a.shape != b.shape or a.dtype != b.dtype or not a.is_floating_point() or a.numel() == 0:
        return None
    diff = (a - b).abs().max()
    scale = b.abs().max()
    if not bool(torch.isfinite(diff)) or not bool(torch.isfinite(scale)):
        return None
    return float(diff) / max(float(scale), 1e-300)


def _argument_evidence(tensors: list[torch.Tensor], snapshots: list[torch.Tensor]) -> list[dict[str, Any]]:
    out = []
    for position, (t, before) in enumerate(zip(tensors, snapshots)):
        with torch.no_grad():
            changed = not _same(t.detach(), before)
            drift = _drift(t.detach(), before) if changed else 0.0
        out.append({
            "index": position,
            "changed": changed,
            "drift": drift,
            "requires_grad": bool(t.requires_grad),
            "grad": t.grad is not None,
        })
    return out


class _CappedOutput(io.TextIOBase):
    """Stands in for sys.stdout and sys.stderr during a call: keeps the first
    ``limit`` characters of what the student's code prints, and whether there was more."""

    def __init__(self, limit: int = MAX_OUTPUT) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, text: object) -> int:
        if type(text) is not str:
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        room = self.limit - self.size
        if len(text) > room:
            self.truncated = True
            text = text[:max(room, 0)]
        if text:
            self.parts.append(text)
            self.size += len(text)
        return len(text)

    def text(self) -> str:
        return "".join(self.parts)


class _Child:
    def __init__(self, sock: socket.socket, config: dict[str, Any]) -> None:
        self.sock = sock
        # The key that seals each reply (``channel.seal``): kept here only, out of the
        # config, so that nothing a submission can reach by name holds it.
        key = config.pop("key", None)
        self._key = bytes.fromhex(key) if type(key) is str else b""
        self._sent = 0
        self.config = config
        self.sources: dict[str, str] = config["sources"]
        withheld = config.get("withheld")
        self.withheld: dict[str, str] = {str(k): str(v) for k, v in withheld.items()} if isinstance(withheld, dict) else {}
        self.recorder = _Recorder({f"{name}.py" for name in self.sources})
        # The tasks ("module.function") that have run-time rules: only their calls are
        # watched, since the profile hook costs every Python and C call while it is on.
        # Without the list (an older grader) every call is watched.
        record = config.get("record")
        self.record: frozenset[str] | None = frozenset(record) if isinstance(record, list) else None
        # The tasks whose backward passes are counted without the hook: those that ask
        # for autograd (whether it ran is evidence) or whose hints depend on the passes.
        counted = config.get("counted")
        self.counted = frozenset(counted) if isinstance(counted, list) else frozenset()
        # The tasks that may build no autograd graph at all (their calls' saved tensors
        # are recorded too).
        graphless = config.get("graphless")
        self.graphless = frozenset(graphless) if isinstance(graphless, list) else frozenset()
        # The tasks that may run no autograd at all, anywhere in the call (no scope):
        # their calls run under torch's own record of operations too.
        engine_free = config.get("engine_free")
        self.engine_free = frozenset(engine_free) if isinstance(engine_free, list) else frozenset()
        self.modules: dict[str, types.ModuleType] = {}
        self.import_errors: dict[str, dict[str, Any]] = {}
        self.given: dict[tuple[str, str, str], Any] = {}
        self.scripted: dict[str, bool] = {}
        self.transforms_named: dict[str, bool] = {}

    def load(self) -> None:
        _restrict_logging_config(frozenset(self.sources))
        self.recorder.install()
        self.recorder.count_passes()
        sys.meta_path.append(_SubmissionFinder(self.sources, self.withheld))

    def module(self, name: str) -> types.ModuleType | None:
        """The student's module, imported on first use; None if its import failed."""
        if name not in self.modules and name not in self.import_errors:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.modules[name] = importlib.import_module(name)
            # Student code may raise anything, SystemExit and KeyboardInterrupt included:
            # each is reported as data about the submission.
            except BaseException as exc:  # noqa: B036
                sys.modules.pop(name, None)
                self.import_errors[name] = _describe_exception(exc, self.sources)
        return self.modules.get(name)

    def _scripted(self, module: types.ModuleType) -> bool:
        """Whether the module holds TorchScript that can run autograd (read once)."""
        if module.__name__ not in self.scripted:
            self.scripted[module.__name__] = any(_hides_autograd(v) for v in list(vars(module).values()))
        return self.scripted[module.__name__]

    def _names_transforms(self, name: str) -> bool:
        """Whether the module's code (not its comments or texts) names torch.func's
        transforms (``_TRANSFORMS_NAMED``); read once."""
        if name not in self.transforms_named:
            code: list[str] = []
            try:
                for token in tokenize.generate_tokens(io.StringIO(self.sources[name]).readline):
                    if token.type not in (tokenize.COMMENT, tokenize.STRING):
                        code.append(token.string)
            except (tokenize.TokenError, SyntaxError, ValueError):
                code = [self.sources[name]]
            self.transforms_named[name] = bool(_TRANSFORMS_NAMED.search(" ".join(code)))
        return self.transforms_named[name]

    def _given(self, module: types.ModuleType, name: str, source: str) -> Any:
        """The exercise's own code of a given function, defined over the module's globals
        (its classes, the student's), the submission's function of that name aside."""
        key = (module.__name__, name, source)
        if key not in self.given:
            defined: dict[str, Any] = {}
            exec(compile(source, f"<given {module.__name__}.{name}>", "exec", dont_inherit=True), vars(module), defined)
            self.given[key] = defined.get(name)
        return self.given[key]

    def serve(self) -> None:
        while True:
            try:
                request = wire.decode(channel.recv(self.sock, max_bytes=MAX_REQUEST_BYTES))
            except channel.ChannelClosed:
                return
            reply = self.call(request)
            try:
                payload = wire.encode(reply)
            except BaseException as exc:  # noqa: B036 - a reply that cannot be encoded is the student's
                payload = wire.encode(_unencodable(_type_name(exc), _text(exc)))
            channel.send(self.sock, channel.seal(self._key, self._sent, payload))
            self._sent += 1

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("module")
        if type(name) is not str or name not in self.sources:
            return {"status": "missing"}
        module = self.module(name)
        if module is None:
            return {"status": "import_error", "exception": self.import_errors[name]}
        given = request.get("given")
        function = self._given(module, request["function"], given) if type(given) is str and given \
            else getattr(module, request["function"], None)
        if not callable(function):
            return {"status": "missing"}
        if type(given) is str and given:
            problem = _not_own_functions(module, self.sources[name], given)
            if problem:
                return {"status": "raised", "exception": {"type": "TypeError", "message": problem, "frames": []}}
        args = _materialise(request["args"])
        inputs = _tensors_in(args, [])
        snapshots = [t.detach().clone() for t in inputs]
        torch.set_grad_enabled(True)
        printed = _CappedOutput()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = printed
        task = f"{name}.{request['function']}"
        watched = self.record is None or task in self.record
        counted = watched or task in self.counted
        self.recorder.reset()
        engine = None if not watched or task not in self.graphless else _EngineWatch(task not in self.engine_free)
        # Saved tensors are recorded where no graph may be built, and where TorchScript
        # may run autograd in C++ (its graph's saved tensors read back show that it
        # ran): then a counted call is watched too.
        graphs = task in self.graphless or self._scripted(module) and not self._names_transforms(name)
        watched = watched or counted and graphs
        with warnings.catch_warnings(record=True) as caught, \
                (self.recorder.watching(graphs) if watched else contextlib.nullcontext()), \
                (engine if engine is not None else contextlib.nullcontext()):
            warnings.simplefilter("always")
            try:
                try:
                    value = function(*args)
                finally:
                    sys.stdout, sys.stderr = saved
                reply: dict[str, Any] = {"status": "returned", "value": _encoded(value)}
            except Unencodable as exc:
                reply = _unencodable(exc.kind, str(exc))
            except NotImplementedError as exc:
                reply = {"status": "not_implemented", "exception": _describe_exception(exc, self.sources)}
            except BaseException as exc:  # noqa: B036 - student failures are data
                reply = {"status": "raised", "exception": _describe_exception(exc, self.sources)}
            # Everything that reads the submission's objects is done here, while the
            # recorder still watches: a warning's __str__, a tuple subclass's __iter__, a
            # tensor subclass's dispatch, an argument's class swapped for the student's.
            # Code that ran only after the watch could fill in the answer unseen. (Even
            # exact tensors run code of the student's there: a kernel registered for an
            # operator, a collector's callback.)
            try:
                warned, arguments = _read_after(caught, inputs, snapshots)
            except BaseException as exc:  # noqa: B036 - what the student's code raised
                reply = {"status": "raised", "exception": _describe_exception(exc, self.sources)}
                warned, arguments = [], []
        reply["output"] = {"text": printed.text(), "truncated": printed.truncated}
        if type(self.recorder.used) is not set or type(self.recorder.places) is not dict \
                or type(self.recorder.passes) is not int or type(self.recorder.duals) is not int:
            # the call replaced the recorder's own record: nothing in it can be trusted
            self.recorder.used, self.recorder.places = {TAMPERED}, {}
            self.recorder.passes = self.recorder.duals = 0
        if engine is not None and engine.found:
            self.recorder.used.add(engine.found)
        # Seen running, autograd ran: a backward pass from a root ran to the end, a dual
        # was made, or a backward pass read back saved tensors (even in TorchScript: the
        # graph's own hooks saw it). Not seen is only known for a counted call during
        # which the profile hook, if it watched, was not replaced (a profiler of the
        # student's own, recursion at the limit turn it off: whatever ran after that is
        # unseen) and whose module holds no TorchScript that can run autograd: else
        # unknown, and "unseen" says why.
        seen = counted and (self.recorder.ran_autograd or self.recorder.graph_used)
        unseen = None if seen or not counted else "hook" if watched and TAMPERED in self.recorder.used \
            else "torchscript" if self._scripted(module) else None
        reply["evidence"] = {
            "used": sorted(self.recorder.used),
            "places": {api: sorted(where)[:50] for api, where in sorted(self.recorder.places.items())},
            "autograd": True if seen else None if not counted or unseen else False,
            "unseen": unseen,
            "passes": self.recorder.passes if counted else None,
            # the default floating dtype, which the submission's own module may have set
            "default_dtype": wire.DTYPE_NAMES.get(torch.get_default_dtype()),
            "arguments": arguments,
            "warnings": warned,
        }
        return reply


def _read_after(caught: list[Any], inputs: list[torch.Tensor],
                snapshots: list[torch.Tensor]) -> tuple[list[str], list[dict[str, Any]]]:
    """The warnings' texts and the arguments' evidence, read once the call returned."""
    return ([str.__getitem__(_text(w.message), slice(0, 300)) for w in caught[:5]],
            _argument_evidence(inputs, snapshots))


def _encoded(value: Any) -> Any:
    """``value`` read into the wire's form now (``wire.Encoded``); a value that cannot be
    read is the student's (``Unencodable``)."""
    try:
        return wire.Encoded(value)
    except Exception as exc:  # noqa: BLE001 - whatever its own code raised
        raise Unencodable(_type_name(exc), _text(exc)) from None


def _unencodable(kind: str, message: str) -> dict[str, Any]:
    return {"status": "unencodable", "exception": {"type": kind, "message": message, "frames": []}}


class Unencodable(Exception):
    """A returned value the wire cannot carry (its own code raised while it was read)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _lock_down(config: dict[str, Any], keep_fd: int, backend: jail.Backend) -> None:
    import resource  # POSIX only: imported here so that the spawned (portable) child can reuse this module

    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    low = 3
    for fd in sorted({keep_fd, *backend.keep_fds()}):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 65536)
    vm_bytes = _vm_size()
    memory = vm_bytes + int(config["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(math.ceil(config["cpu_seconds"]))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (MAX_OPEN_FILES, MAX_OPEN_FILES))
    if config.get("workdir"):
        os.chdir(config["workdir"])
    backend.apply()  # raises if any promised layer fails: no student code runs then
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    # Lazy imports (torch._dynamo, torch.optim, ...) read from these; the jail lets
    # them read nothing else.
    sys.path[:] = backend.sys_path
    torch.set_num_threads(1)


def _unlist_the_grader() -> None:
    """The grader's modules stay loaded (this code runs from them) but can no longer be
    looked up by name: sys.modules["grader.sandbox.child"] would hand the submission
    the recorder and its evidence."""
    for name in [n for n in sys.modules if n == "grader" or n.startswith("grader.")]:
        del sys.modules[name]


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def run(fd: int, backend: jail.Backend) -> None:
    """Entry point in the forked child; never returns."""
    code = 0
    try:
        os.setsid()
        sock = socket.socket(fileno=fd)
        config = json.loads(channel.recv(sock, max_bytes=MAX_REQUEST_BYTES))
        _lock_down(config, fd, backend)
        _refuse_signal_handlers()
        child = _Child(sock, config)
        child.load()
        _unlist_the_grader()
        child.serve()
    except BaseException:  # noqa: B036 - the child must end through os._exit only
        code = 70
    os._exit(code)
