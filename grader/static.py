"""What is decided about a submission before any of it runs: from its text alone."""
from __future__ import annotations

import ast
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .status import Status
from .pyast import Finding, bound_names, is_main_guard
from .scan import ModuleScan, scan_module
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


def bounded_verdict(sub: Submission, task: Task) -> Verdict | None:
    """``static_verdict`` within what is left of the module's reading time
    (``submission.SCAN_SECONDS``); past it, the task's module is "too complex"."""
    verdict = sub.bounded(task.module, lambda: static_verdict(sub, task))
    return static_verdict(sub, task) if isinstance(verdict, ModuleScan) else verdict


def static_verdict(sub: Submission, task: Task) -> Verdict | None:
    scan = sub.scans[task.module]
    if not scan.present:
        return Verdict(Status.MISSING, "missing_module", {"module": task.module})
    if task.module in sub.linked:
        return Verdict(Status.ERROR, "linked_module", {"module": task.module})
    if task.module in sub.unreadable:
        return Verdict(Status.ERROR, "unreadable_module", {"module": task.module, "reason": sub.unreadable[task.module]})
    if task.module in sub.oversized:
        return Verdict(Status.ERROR, "too_large", {"module": task.module, "limit": MAX_MODULE_BYTES})
    if scan.syntax_error is not None:
        f = scan.syntax_error
        if f.code == "too_complex":
            return Verdict(Status.ERROR, "too_complex", {"module": task.module, "seconds": float(f.detail)})
        return Verdict(Status.ERROR, "syntax_error", {"module": task.module, "line": f.line, "detail": escape(f.detail, 200)})
    escapes = scan.escapes_for(task) or taken_from_a_sibling(sub, task.module)
    if escapes:
        f = escapes[0]
        return Verdict(Status.FORBIDDEN, "escape", {"module": task.module, "line": f.line, "detail": escape(f.detail, 200),
                                                "kind": f.code, "count": len(escapes)})
    if task.name not in scan.defined:
        return Verdict(Status.MISSING, "missing_function", {"function": task.name})
    uses = scan.forbidden_uses(task, sub.scans)
    if uses:
        return Verdict(Status.FORBIDDEN, "forbidden_api", {"line": uses[0].line, "detail": escape(uses[0].detail, 200)})
    if untouched_stub(sub, task):
        # What running it would give, without a sandbox child: every check "not implemented".
        return Verdict(Status.NOT_IMPLEMENTED, "not_implemented")
    return None


def _powerful(dotted: str) -> bool:
    """A module with powers over Python (``inspect``, ``sys``) or one of torch's parts
    that run autograd, compile text or trace (``torch.jit``, ``torch._C``): taken from
    another module, what it is used for cannot be read (libraries are honest values)."""
    from .evasion import TABLE_POWERS, _is_power_module

    parts = dotted.split(".")
    return _is_power_module(dotted) or parts[0] == "functorch" \
        or parts[0] == "torch" and len(parts) > 1 and (parts[1] in TABLE_POWERS or parts[1].startswith("_"))


def _modules_held(tree: ast.Module) -> dict[str, str]:
    """The names a module binds outside functions to a powerful module (see
    ``_powerful``), each with that module: by an import (``import inspect``, ``from
    torch import jit``), or under another name (``_tools = inspect``, a function that
    returns it, a class that holds it)."""
    from .evasion import _is_module_path

    held: dict[str, str] = {}
    todo: list[ast.AST] = list(tree.body)
    aliases: list[tuple[set[str], set[str]]] = []  # (names given, names they may be given)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Name):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            aliases.append(({t.id for t in targets if isinstance(t, ast.Name)}, {node.value.id}))
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            values = {n.value.id for n in ast.walk(node) if isinstance(n, ast.Return) and isinstance(n.value, ast.Name)} \
                if isinstance(node, ast.FunctionDef) else \
                {s.value.id for s in node.body if isinstance(s, (ast.Assign, ast.AnnAssign)) and isinstance(s.value, ast.Name)}
            aliases.append(({node.name}, values))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                dotted = alias.name if alias.asname else alias.name.split(".")[0]
                if _powerful(dotted):
                    held[alias.asname or dotted] = dotted
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                if alias.name != "*" and _powerful(dotted) and _is_module_path(dotted):
                    held[alias.asname or alias.name] = dotted
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    grew = True
    while grew:  # another name for one of them
        grew = False
        for names, values in aliases:
            given = next((held[v] for v in sorted(values) if v in held), None)
            if given is not None and not names <= held.keys():
                held.update(dict.fromkeys(names - held.keys(), given))
                grew = True
    return held


# Used through a star import, a sibling's module counts only if it is one of these:
# functools.reduce or os.path there is honest, as the module's own import of it would be.
def _star_power(dotted: str) -> bool:
    return _powerful(dotted) and dotted.split(".")[0] not in _HONEST_THROUGH_A_STAR


_HONEST_THROUGH_A_STAR = {"functools", "operator", "string", "threading", "weakref", "io", "os", "posix", "nt"}


def _names_bound_anywhere(tree: ast.Module) -> set[str]:
    """Every name the module binds anywhere: imports (in functions and except blocks
    too), assignments, parameters, definitions."""
    return {name for node in ast.walk(tree) for name in bound_names(node)}


def _held_by(sub: Submission, module: str) -> dict[str, str]:
    """``_modules_held`` of one module of a submission, worked out once."""
    cache = sub.__dict__.setdefault("_modules_held", {})
    if module not in cache:
        cache[module] = _modules_held(sub.scans[module].tree)
    return cache[module]


def taken_from_a_sibling(sub: Submission, module: str) -> list[Finding]:
    """A module that another exercise module imported, taken from it (``from
    ex01_backward import inspect``, ``ex01_backward.sys``): a module reached through
    another, whose use the scan of this one cannot read, as ``random._os`` is.
    (Worked out once per module of a submission.)"""
    cache = sub.__dict__.setdefault("_taken_from_a_sibling", {})
    if module not in cache:
        cache[module] = _taken_from_a_sibling(sub, module)
    return cache[module]


def _taken_from_a_sibling(sub: Submission, module: str) -> list[Finding]:
    scan = sub.scans[module]
    if scan.tree is None or scan.index is None:
        return []
    siblings = {m for m, other in sub.scans.items() if m != module and other.tree is not None}
    imports = [node for node in scan.index.of(ast.Import, ast.ImportFrom)
               if isinstance(node, ast.Import) and any(alias.name in siblings for alias in node.names)
               or isinstance(node, ast.ImportFrom) and node.module in siblings and not node.level]
    if not imports:  # no sibling imported: nothing taken from one (most modules)
        return []
    held = {m: _held_by(sub, m) for m in siblings}
    as_modules = {alias.asname or alias.name: alias.name for node in imports if isinstance(node, ast.Import)
                  for alias in node.names if alias.name in held}
    found: list[Finding] = []
    starred: dict[str, str] = {}  # a module's name a star import brings, and from where
    for node in imports:
        if isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            if "*" in names:
                own = _names_bound_anywhere(scan.tree)
                starred.update({n: node.module for n, dotted in held[node.module].items()
                                if n not in own and _star_power(dotted)})
                continue
            found += [Finding(node.lineno, "module_internals", f"{node.module}.{n}")
                      for n in names if n in held[node.module]]
    if as_modules:
        for node in scan.index.of(ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in as_modules:
                other = as_modules[node.value.id]
                if node.attr in held[other]:
                    found.append(Finding(node.lineno, "module_internals", f"{other}.{node.attr}"))
    if starred:  # used here without an import of its own: ``inspect.stack()`` after ``import *``
        graded = [n for n in scan.tree.body if not is_main_guard(n)]
        found += [Finding(node.lineno, "module_internals", f"{starred[node.id]}.{node.id}")
                  for top in graded for node in ast.walk(top)
                  if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in starred]
    return sorted(found, key=lambda f: f.line)


# Names through which code in another module can rebind a module's function, or
# change what an exception means, without an assignment the scan sees. A
# submission that uses any of them anywhere is never judged a stub from its text.
_DYNAMIC = {"globals", "vars", "locals", "setattr", "delattr", "exec", "eval", "compile", "__import__",
            "importlib", "__dict__", "__setattr__", "__code__", "__globals__", "__builtins__", "builtins",
            "modules", "ctypes", "gc", "inspect", "types", "__class__", "__getattr__", "reload",
            "update_wrapper", "wraps", "_getframe", "f_globals", "f_locals", "f_back", "parse_args",
            "parse_known_args", "namespace"}
_STUB_EXCEPTION = "NotImplementedError"
# The digest of each exercise module as shipped, one file a module beside its task
# records (``grader/checks/<module>.stub.json``, written by ``python -m grader.static``).
STUBS_DIR = Path(__file__).parent / "checks"


def module_digest(text: str, module: str) -> str | None:
    """The digest ``untouched_stub`` compares (``ModuleScan.digest``) of a module's text."""
    return scan_module(module, text).digest


@functools.cache
def _shipped() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in STUBS_DIR.glob("*.stub.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("digest"), str):
            found[path.name.removesuffix(".stub.json")] = record["digest"]
    return found


def is_shipped(module: str, text: str) -> bool:
    """Whether ``text`` is the exercise module ``module`` as shipped (its stub digest)."""
    shipped = _shipped().get(module)
    return shipped is not None and module_digest(text, module) == shipped


def untouched_stub(sub: Submission, task: Task) -> bool:
    """Whether the task's function is certainly the exercise's stub, whose body only
    raises NotImplementedError: every check would end "not implemented".

    Said only when the task's whole module is the exercise module as shipped (the
    same code, so it imports as the exercise does: at once, without error or side
    effect, with the stub's own signature), the function is a stub there, and no
    module of the submission assigns an attribute of that name or uses dynamic
    access to namespaces. In any other case the checks run, as they always may.
    """
    own = sub.scans[task.module]
    if "." in task.name or own.tree is None:
        return False
    defs = [node for node in own.tree.body if isinstance(node, ast.FunctionDef) and node.name == task.name]
    if len(defs) != 1 or defs[0].decorator_list or not _only_raises_not_implemented(defs[0].body):
        return False
    if _shipped().get(task.module) != own.digest:
        return False
    for scan in sub.scans.values():
        if scan.tree is None or scan.index is None:
            continue
        if scan.identifiers & _DYNAMIC:
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


def _assigns_attribute(node: ast.Attribute, name: str) -> bool:
    """``anything.name = ...``: another module's function replaced from outside."""
    return not isinstance(node.ctx, ast.Load) and node.attr == name


def write_stub_digests(exercises: Path) -> list[Path]:
    """Record the digest of each exercise module that changed (run after changing one);
    the files written."""
    from .tasks import MODULES

    written = []
    for module in MODULES:
        digest = module_digest((exercises / f"{module}.py").read_text(encoding="utf-8"), module)
        path = STUBS_DIR / f"{module}.stub.json"
        text = json.dumps({"module": module, "digest": digest}, indent=1) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    _shipped.cache_clear()
    return written


def not_a_submission(problem: str, tasks: list[Task]) -> dict[str, Verdict]:
    """Every task missing: what was given is not a submission at all."""
    return {t.id: Verdict(Status.MISSING, "not_a_submission", {"problem": problem}) for t in tasks}


def warm_up_for(sub: Submission) -> tuple[str, ...]:
    return ("func",) if any(scan.identifiers & NEEDS_FUNC_WARM_UP for scan in sub.scans.values()) else ()


def runnable_sources(sub: Submission) -> dict[str, str]:
    """The modules that may reach the sandbox, even as imports of another module:
    those that parse and escape nothing at module level."""
    def escapes(m: str) -> bool:
        found = sub.bounded(m, lambda: sub.scans[m].module_level_escapes)
        return isinstance(found, ModuleScan) or bool(found)

    return {m: text for m, text in sub.sources.items() if sub.scans[m].syntax_error is None and not escapes(m)}


def withheld(sub: Submission, runnable: dict[str, str]) -> dict[str, str]:
    """The submission's modules kept from the sandbox, each with why: another module
    that imports one is told that, not that no such module exists."""
    def why(m: str) -> str:
        error = sub.scans[m].syntax_error
        if error is not None:
            return f"{m}.py has a syntax error" + (f" on line {error.line}" if error.line else "")
        return f"{m}.py is not run: what it does at import is not allowed (its own tasks say what)"

    return {m: why(m) for m in sub.sources if m not in runnable}


if __name__ == "__main__":
    changed = write_stub_digests(Path(__file__).resolve().parent.parent / "exercises")
    print("\n".join(f"wrote {path}" for path in changed) or "every stub digest is up to date")
