"""The grading session: the trusted side's link between checks and the sandbox.

One sandbox child holds the submission (each module is imported there on first
use); every check calls into it, each task within its own time budget. A child
that times out or dies is replaced for the next task. A task decided before
running (missing, syntax error, forbidden) never reaches the sandbox.
"""
from __future__ import annotations

import ast
import functools
from typing import Any

from .checking import Answer, Fail, StudentFailed
from .messages import phrase
from .pyast import branches, is_main_guard
from .report import MAX_TASK_OUTPUT
from .sandbox import client
from .sandbox.wire import Received
from .messages import FIRST_PASS
from .taskrecord import ENGINE_RAN, ENGINE_STOPPED, RECORDED, TAMPERED
from .tasks import BY_ID, Task


def runtime_forbidden(task: Task, used: list[str], places: dict[str, list[str]] | None = None) -> list[str]:
    """The recorded calls that break the task's runtime rules.

    The child records only calls made from the submission's own code; what it
    sends is evidence the submission's process could forge, which can only cost
    the submission itself. A task scoped to methods (``"Class.method"``) counts only
    the calls made while one of them, or code it called, was running.
    """
    hits = []
    for api in used:
        if type(api) is not str:
            continue
        if api == TAMPERED and task.forbidden_runtime:
            hits.append(api)  # the recorder was switched off: what followed is unknown
            continue
        if api in (ENGINE_RAN, ENGINE_STOPPED) and "torch.autograd" in task.forbidden_runtime:
            hits.append(api)  # (reported only where it is the submission's: no place to check)
            continue
        if task.scope and not any(_in_scope(scope, (places or {}).get(api, [])) for scope in task.scope):
            continue
        for rule in task.forbidden_runtime:
            if rule.startswith(RECORDED) and (api == rule or api.startswith(rule + ".") or api.startswith(rule + "(")):
                hits.append(api)
                break
    return hits


def _in_scope(scope: str, places: list[str]) -> bool:
    """Whether a call was made inside ``scope``, ``"Class.method"`` (or what it defines)."""
    return any(type(p) is str and (p == scope or p.startswith(scope + ".<locals>.")) for p in places)


class Printed:
    """What one check's calls printed, in order, capped at ``MAX_TASK_OUTPUT`` characters."""

    def __init__(self) -> None:
        self.text = ""
        self.truncated = False

    def add(self, text: str, truncated: bool) -> None:
        room = MAX_TASK_OUTPUT - len(self.text)
        if len(text) > room:
            truncated = True
            text = text[:max(room, 0)]
        self.text += text
        self.truncated = self.truncated or truncated


class CheckEvidence:
    """What one check saw of the submission besides its answers: what its calls
    printed and the calls the task's run-time rules do not allow."""

    def __init__(self) -> None:
        self.printed = Printed()
        self.forbidden: list[str] = []
        # A call of a task that asks for autograd returned a nonzero answer without
        # autograd running ("no_autograd"), or without the recorder able to see whether
        # it ran ("autograd_unseen": its profile hook switched off;
        # "autograd_in_torchscript"):
        # the check cannot pass, whatever it finds of the values (when it finds them
        # wrong, that is what it says). "" when neither happened.
        self.no_autograd = ""


# What a child is told to watch, the same for every submission. ``record``: the tasks
# with run-time rules, whose calls run under the profile hook (it costs every Python and
# C call). ``counted``: those whose backward passes are counted, without the hook: the
# tasks that ask for autograd, and those whose hints for an error depend on the passes
# the call ran. ``graphless``: those that may build no graph (their saved tensors are
# recorded too). ``engine_free``: of those, the ones that may run no autograd anywhere
# in the call (no scope), under torch's record of operations.
_GRAPHLESS = sorted(t.id for t in BY_ID.values() if "torch.autograd" in t.forbidden_runtime)
_WATCHING = {
    "record": sorted(t.id for t in BY_ID.values() if t.forbidden_runtime),
    "counted": sorted(t.id for t in BY_ID.values() if t.needs_autograd
                      or any(drawn.endswith(FIRST_PASS) for drawn, _ in t.exception_hints)),
    "graphless": _GRAPHLESS,
    "engine_free": [t for t in _GRAPHLESS if not BY_ID[t].scope],
}


class Session:
    """The sandbox child of one submission, replaced whenever one dies.

    Each task has its own wall-clock budget (``limits.timeout``) across all its
    calls; a task that timed out is not called again. One child for all modules
    costs one fork per submission instead of one per module.
    """

    def __init__(self, sources: dict[str, str], server: client.Server, limits: client.Limits,
                 withheld: dict[str, str] | None = None) -> None:
        self.sources = sources
        self.withheld = withheld or {}  # the submission's modules not sent, and why
        self.server = server
        self.limits = limits
        self.child: client.Child | None = None
        self.served: set[str] = set()  # the tasks the current child has run
        self.spent: dict[str, float] = {}
        self.timed_out: dict[str, client.CallResult] = {}
        self.evidence = CheckEvidence()  # of the check running now

    def begin_check(self) -> CheckEvidence:
        self.evidence = CheckEvidence()
        return self.evidence

    def call(self, task: Task, *args: Any) -> client.CallResult:
        if task.id in self.timed_out:
            return self.timed_out[task.id]
        result = self._call(task, args)
        if result.kind in ("crashed", "garbled") and self.served - {task.id}:
            # The child had run other tasks' code, which may have left it dying (a
            # timer, a thread, a reply followed by SIGKILL): a crash is charged to a
            # task only when it happens in a child that ran nothing else since.
            result = self._call(task, args)
        return result

    def _call(self, task: Task, args: tuple[Any, ...]) -> client.CallResult:
        child = self.child
        if child is None or child.dead is not None:
            if child is not None:
                child.close()
            limits = client.Limits(timeout=self.limits.timeout * len(BY_ID), memory_mb=self.limits.memory_mb)
            child = self.child = self.server.open({"sources": self.sources, **_WATCHING,
                                                   "withheld": self.withheld}, limits)
            self.served = set()
        # The first call into a module in this child is also its import: one whose top
        # level runs a loop or a function of its own may be what never ends.
        first = not any(BY_ID[served].module == task.module for served in self.served) \
            and _busy_top_level(self.sources.get(task.module, ""))
        self.served.add(task.id)
        left = self.limits.timeout - self.spent.get(task.id, 0.0)
        result = child.call(task.module, task.name, *args, seconds=left, given=task.given)
        self.spent[task.id] = self.spent.get(task.id, 0.0) + result.seconds
        if result.output or result.output_truncated:
            self.evidence.printed.add(result.output, result.output_truncated)
        if result.kind == "timeout":
            result.detail = phrase("time limit {seconds:g} s", seconds=self.limits.timeout) if not first else phrase(
                "time limit {seconds:g} s, on the first call into {module}.py, which imports it: code at its top "
                "level (outside functions and if __name__ == \"__main__\":) runs then, and may be what never ends",
                seconds=self.limits.timeout, module=task.module)
            self.timed_out[task.id] = result
        return result

    def close(self) -> None:
        if self.child is not None:
            self.child.close()
            self.child = None


@functools.lru_cache(maxsize=256)
def _busy_top_level(source: str) -> bool:
    """Whether a module's top level (not its main guard) runs a loop, or calls a function
    the module defines: work that runs when it is imported."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    todo = [n for n in tree.body if not is_main_guard(n)]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.While, ast.For, ast.AsyncFor)):
            return True
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            todo += branches(node) if not isinstance(node, ast.With) else node.body
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
            if any(isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in defined
                   for c in ast.walk(node)):
                return True
    return False


class StudentFunction:
    """The student's function as a check sees it: call it, get an ``Answer``."""

    def __init__(self, session: Session, task_id: str, hints: dict[str, str] | None = None) -> None:
        self.session = session
        self.task = BY_ID[task_id]
        self.hints = hints or {}

    def hinting(self, hints: dict[str, str]) -> "StudentFunction":
        """The same function, with the hints of its errors re-read: {drawn hint: better hint}."""
        return StudentFunction(self.session, self.task.id, {**self.hints, **hints})

    def __call__(self, *args: Any) -> Answer:
        result = self.session.call(self.task, *args)
        used = result.evidence.get("used", []) if type(result.evidence.get("used")) is list else []
        places = result.evidence.get("places") if type(result.evidence.get("places")) is dict else {}
        hits = runtime_forbidden(self.task, used, places)
        if hits:
            self.session.evidence.forbidden.extend(hits)
            raise Fail("forbidden_runtime", api=", ".join(sorted(set(hits))))
        if result.kind != "returned":
            raise StudentFailed(result, self.hints)
        seen = result.evidence.get("autograd")
        # Not seen is not shown: unknown because the recorder's hook was switched off (a
        # profiler of the student's own, recursion at Python's limit), or because
        # TorchScript in the module can run autograd in C++, where no hook sees it.
        # Either would hide a formula beside it as well as autograd.
        unseen = {"hook": "autograd_unseen", "torchscript": "autograd_in_torchscript"}.get(
            result.evidence.get("unseen") or "", "autograd_unseen") if seen is None else ""
        if self.task.needs_autograd and (seen is False or unseen) and _nonzero(result.value):
            if seen is False or not self.session.evidence.no_autograd:
                self.session.evidence.no_autograd = "no_autograd" if seen is False else unseen
        return Answer(result.value, result.evidence)


def _nonzero(value: Any) -> bool:
    """Whether a returned value holds a tensor with an entry other than zero: a gradient
    that took differentiating. (A function that ignores x honestly gets zeros without
    running autograd.)"""
    if isinstance(value, Received):
        return bool((value.tensor != 0).any())
    if type(value) in (list, tuple):
        return any(_nonzero(v) for v in value[:1000])
    return False
