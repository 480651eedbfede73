"""What is decided about a submission before any of it runs: from its text alone."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from .status import Status
from .submission import MAX_MODULE_BYTES, Submission
from .tasks import Task
from .untrusted import escape

# Code using these needs torch.func / vmap machinery (about a second to load) in
# the sandbox; other submissions start without it.
NEEDS_FUNC_WARM_UP = {"func", "vmap", "jacrev", "jacfwd", "forward_ad", "functional_call", "linearize",
                      "is_grads_batched", "vectorize", "make_dual", "dual_level"}


@dataclass
class Verdict:
    """A task's fate decided without running it."""

    status: Status  # missing, error, forbidden, or not implemented (an untouched stub)
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def static_verdict(sub: Submission, task: Task) -> Verdict | None:
    scan = sub.scans[task.module]
    if not scan.present:
        return Verdict(Status.MISSING, "missing_module", {"module": task.module})
    if task.module in sub.oversized:
        return Verdict(Status.ERROR, "too_large", {"module": task.module, "limit": MAX_MODULE_BYTES})
    if scan.syntax_error is not None:
        f = scan.syntax_error
        return Verdict(Status.ERROR, "syntax_error", {"module": task.module, "line": f.line, "detail": escape(f.detail, 200)})
    escapes = scan.escapes_for(task)
    if escapes:
        f = escapes[0]
        return Verdict(Status.FORBIDDEN, "escape", {"module": task.module, "line": f.line, "detail": escape(f.detail, 200),
                                                "kind": f.code, "count": len(escapes)})
    if task.name not in scan.defined:
        return Verdict(Status.MISSING, "missing_function", {"function": task.name})
    uses = scan.forbidden_uses(task)
    if uses:
        return Verdict(Status.FORBIDDEN, "forbidden_api", {"line": uses[0].line, "detail": escape(uses[0].detail, 200)})
    if untouched_stub(sub, task):
        # What running it would give, without a sandbox child: every check "not implemented".
        return Verdict(Status.NOT_IMPLEMENTED, "not_implemented")
    return None


# Names through which code can rebind a module's function, or change what a name
# or an exception means, without a binding the scan sees. A submission that uses
# any of them anywhere is never judged a stub from its text: its checks run.
_DYNAMIC = {"globals", "vars", "locals", "setattr", "delattr", "exec", "eval", "compile", "__import__",
            "importlib", "__dict__", "__setattr__", "__code__", "__globals__", "__builtins__", "builtins",
            "modules", "ctypes", "gc", "inspect", "types", "__class__", "__getattr__", "reload"}
_STUB_EXCEPTION = "NotImplementedError"


def untouched_stub(sub: Submission, task: Task) -> bool:
    """Whether the task's function is certainly still the exercise's stub: its body
    only raises NotImplementedError, so every check would end "not implemented".

    Said only when the text leaves no doubt: a plain function with no decorator,
    whose body is a docstring and ``raise NotImplementedError`` (with constant
    arguments, or none); the only binding of its name in its module; nothing in the
    submission that assigns an attribute of that name, or to that function, or
    rebinds NotImplementedError; and no dynamic access to namespaces anywhere. In
    any other case the checks run, as they always may.
    """
    if "." in task.name:
        return False
    scans = [scan for scan in sub.scans.values() if scan.tree is not None and scan.index is not None]
    if any(scan.identifiers & _DYNAMIC for scan in scans):
        return False
    own = sub.scans[task.module]
    if own.tree is None or own.index is None:
        return False
    defs = [node for node in own.tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name == task.name]
    if len(defs) != 1 or not isinstance(defs[0], ast.FunctionDef) or defs[0].decorator_list:
        return False
    if not _only_raises_not_implemented(defs[0].body):
        return False
    for scan in scans:
        rebound = _bindings(scan, {_STUB_EXCEPTION} | ({task.name} if scan is own else set()))
        if rebound - ({id(defs[0])} if scan is own else set()):
            return False
        if any(_assigns_attribute(node, task.name) for node in scan.index.of(ast.Attribute)):
            return False
    return True


def _only_raises_not_implemented(body: list[ast.stmt]) -> bool:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].cause is not None:
        return False
    exc = body[0].exc
    if isinstance(exc, ast.Call) and not exc.keywords and all(isinstance(a, ast.Constant) for a in exc.args):
        exc = exc.func
    return isinstance(exc, ast.Name) and exc.id == _STUB_EXCEPTION


def _bindings(scan: Any, names: set[str]) -> set[int]:
    """The nodes (by id) that bind or delete one of ``names`` anywhere in a module."""
    found: set[int] = set()
    for node in scan.index.of(ast.Name, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.alias,
                              ast.Global, ast.Nonlocal, ast.ExceptHandler, ast.MatchAs, ast.MatchStar,
                              ast.MatchMapping, ast.arg):
        if isinstance(node, ast.Name):
            bound = node.id in names and not isinstance(node.ctx, ast.Load)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = node.name in names
        elif isinstance(node, ast.alias):
            bound = node.name == "*" or (node.asname or node.name.split(".")[0]) in names
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound = bool(set(node.names) & names)
        elif isinstance(node, ast.MatchMapping):
            bound = node.rest in names
        else:  # a handler's, a pattern's or a parameter's name
            bound = getattr(node, "name", None) in names or getattr(node, "arg", None) in names
        if bound:
            found.add(id(node))
    return found


def _assigns_attribute(node: ast.Attribute, name: str) -> bool:
    """``anything.name = ...`` (another module's function replaced), or ``name.x = ...``
    (the function's own code or defaults replaced)."""
    if isinstance(node.ctx, ast.Load):
        return False
    return node.attr == name or (isinstance(node.value, ast.Name) and node.value.id == name)


def not_a_submission(problem: str, tasks: list[Task]) -> dict[str, Verdict]:
    """Every task missing: what was given is not a submission at all."""
    return {t.id: Verdict(Status.MISSING, "not_a_submission", {"problem": problem}) for t in tasks}


def warm_up_for(sub: Submission) -> tuple[str, ...]:
    return ("func",) if any(scan.identifiers & NEEDS_FUNC_WARM_UP for scan in sub.scans.values()) else ()


def runnable_sources(sub: Submission) -> dict[str, str]:
    """The modules that may reach the sandbox, even as imports of another module:
    those that parse and escape nothing at module level."""
    return {m: text for m, text in sub.sources.items()
            if sub.scans[m].syntax_error is None and not sub.scans[m].module_level_escapes}
