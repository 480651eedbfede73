"""Static reading of a submission: the grader never imports student code.

For each module: does it parse; for each task, does the code the task runs use
an API the task does not allow; and does that code evade the rules on purpose
(reach attributes through strings, look into frames, closures or a module's
internals, run code from text, patch torch, import the grader). Nothing else is
the scan's business: imports, prints, names that shadow built-ins are honest,
and what student code must not do (read files, signal, connect) the sandbox
stops. Code under ``if __name__ == "__main__":`` never runs when graded and is
never read.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from . import evasion
from .pyast import (DEFS, GRADER_PACKAGES, Finding, dotted_path, getattr_constant, import_aliases,
                    imported_names, is_main_guard, names_used)
from .tasks import TASKS, Task

__all__ = ["Finding", "ModuleScan", "scan_module"]


@dataclass
class ModuleScan:
    module: str
    present: bool
    syntax_error: Finding | None = None
    escapes: list[Finding] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)
    tree: ast.Module | None = None
    aliases: dict[str, str] = field(default_factory=dict)

    def escapes_for(self, task: Task) -> list[Finding]:
        """Deliberate evasion in the code this task runs: the module's top-level
        code, the functions it reaches, and the imports those use.

        Evasion used only inside one task costs that task; code at module level
        that evades costs every task of the module.
        """
        if self.tree is None:
            return []
        return evasion.find(_task_code(self.tree, task.name, self.task_names), self.tree, self.aliases)

    @property
    def module_level_escapes(self) -> list[Finding]:
        """Deliberate evasion in the code that runs when the module is imported."""
        if self.tree is None:
            return []
        return evasion.find(_task_code(self.tree, None, self.task_names), self.tree, self.aliases)

    @property
    def task_names(self) -> set[str]:
        return {task.name for task in TASKS if task.module == self.module}

    @property
    def identifiers(self) -> set[str]:
        """Every name the code uses (names, attributes, keywords, imports), not its text."""
        if self.tree is None:
            return set()
        found: set[str] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, ast.keyword) and node.arg:
                found.add(node.arg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(part for a in node.names for part in a.name.split("."))
                found.update((getattr(node, "module", None) or "").split("."))
        return found

    def forbidden_uses(self, task: Task) -> list[Finding]:
        """Uses of the task's not-allowed APIs in the code the task runs."""
        if self.tree is None or not task.forbidden_scan:
            return []
        return _forbidden_in(_in_scope(self.tree, task), task, self.aliases)


def scan_module(module: str, source: str | None) -> ModuleScan:
    if source is None:
        return ModuleScan(module, present=False)
    try:
        tree = ast.parse(source, filename=f"{module}.py")
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        msg = getattr(exc, "msg", str(exc))
        return ModuleScan(module, True, syntax_error=Finding(line, "syntax_error", msg))
    except RecursionError:  # Python cannot compile it either
        return ModuleScan(module, True, syntax_error=Finding(0, "syntax_error", "too deeply nested"))
    result = ModuleScan(module, True, tree=tree)
    result.defined = _top_level_names(tree)
    result.aliases = import_aliases(tree)
    result.escapes = evasion.find([n for n in tree.body if not is_main_guard(n)], tree, result.aliases)
    return result


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _postponed_annotations(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
               and any(a.name == "annotations" for a in node.names) for node in tree.body)


def _runs_at_import(node: ast.AST, postponed: bool) -> list[ast.AST]:
    """The parts of a definition that run when the module is imported, whoever calls
    it: decorators, defaults, annotations (unless postponed), and a class's body."""
    parts: list[ast.AST] = list(getattr(node, "decorator_list", []))
    if isinstance(node, ast.ClassDef):
        parts += node.bases + [k.value for k in node.keywords]
        for statement in node.body:
            parts += _runs_at_import(statement, postponed) if isinstance(statement, DEFS) else [statement]
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = node.args
        parts += a.defaults + [d for d in a.kw_defaults if d is not None]
        if not postponed:
            parts += [arg.annotation for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
                      if arg is not None and arg.annotation is not None]
            parts += [node.returns] if node.returns is not None else []
    return parts


def _task_code(tree: ast.Module, start: str | None, tasks: set[str]) -> list[ast.AST]:
    """Top-level statements a task runs: module-level code (never the main guard),
    the definitions reachable from ``start`` (None: none), and the imports whose
    names those use."""
    defs = {node.name: node for node in tree.body if isinstance(node, DEFS)}
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    module_code = [node for node in tree.body
                   if not isinstance(node, DEFS) and node not in imports and not is_main_guard(node)]
    postponed = _postponed_annotations(tree)
    module_code += [part for node in defs.values() for part in _runs_at_import(node, postponed)]
    reached: list[ast.AST] = []
    todo = ([start] if start else []) + sorted(names_used(module_code))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        reached.append(defs[name])
        todo.extend(names_used([defs[name]]))
    used = names_used(module_code + reached)

    def runs_for_everyone(node: ast.Import | ast.ImportFrom) -> bool:
        # A relative import, an import of the grader's own code, one that rebinds a
        # function of the module, or a star import (names unknown) changes what every task is.
        roots = {a.name.split(".")[0] for a in node.names} if isinstance(node, ast.Import) \
            else {(node.module or "").split(".")[0]}
        return (bool(getattr(node, "level", 0)) or bool(roots & GRADER_PACKAGES)
                or bool(imported_names(node) & (set(defs) | tasks | {"*"})))

    return module_code + reached + [node for node in imports if imported_names(node) & used or runs_for_everyone(node)]


# "Not allowed" APIs -------------------------------------------------------------


def _in_scope(tree: ast.Module, task: Task) -> list[ast.AST]:
    """The code a task's "not allowed" rules apply to: what the task's own code runs
    when it is called (its function, or for a scope ``"Class.method"`` that method,
    and every top-level definition they name). Module-level code runs at import, not
    when the task runs; an alias it binds is still followed (``J = jacobian``)."""
    if task.scope:
        cls, _, method = task.scope.partition(".")
        # Every class and method of that name: the one defined last is the one that runs.
        start = [node for owner in tree.body if isinstance(owner, ast.ClassDef) and owner.name == cls
                 for node in owner.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and node.name == method]
    else:
        start = [node for node in tree.body if isinstance(node, DEFS) and node.name == task.name]
    # What a name means at module level: a definition, or the statement that assigns it
    # (``jac = lambda x: ...`` runs the lambda's body when the task calls ``jac``).
    # Any statement that binds a name counts, however it binds it: an assignment, a
    # for loop's target, a with's "as", a walrus, inside an if or a try.
    defs: dict[str, list[ast.AST]] = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or is_main_guard(node):
            continue
        for name in evasion.module_bindings(node):
            defs.setdefault(name, []).append(node)
    out, todo, seen = list(start), sorted(set().union(*map(_free_names, start)) if start else set()), set()
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        out.extend(defs[name])
        for node in defs[name]:
            todo.extend(_free_names(node))
    return out


def _free_names(node: ast.AST) -> set[str]:
    """The names a definition reads from outside itself: a function's parameters and
    locals are its own, not the module's (a parameter ``x`` is no module-level ``x``)."""
    used = names_used([node])
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return used - evasion.local_names(node)
    return used


# Under a not-allowed prefix, yet honest where autograd is not allowed: it marks a
# hand-written backward as one that is itself never differentiated.
HONEST_UNDER_RULES = ("torch.autograd.function.once_differentiable",)


def _forbidden_in(statements: list[ast.AST], task: Task, aliases: dict[str, str]) -> list[Finding]:
    prefixes = [p for p in task.forbidden_scan if p.startswith("torch")]
    attributes = {p[1:] for p in task.forbidden_scan if p.startswith(".")}
    keywords = {p[:-1] for p in task.forbidden_scan if p.endswith("=")}
    found: set[Finding] = set()
    for root in statements:
        honest: set[int] = set()  # the parts of an honest path (torch.autograd.function...)
        for node in ast.walk(root):
            line = getattr(node, "lineno", 0)
            if id(node) in honest:
                continue
            if isinstance(node, (ast.Attribute, ast.Name, ast.Call)):
                dotted = dotted_path(node, aliases) if not isinstance(node, ast.Call) or getattr_constant(node) else None
                if dotted in HONEST_UNDER_RULES:
                    honest.update(id(part) for part in ast.walk(node))
                    continue
                if dotted and any(dotted == p or dotted.startswith(p + ".") for p in prefixes):
                    found.add(Finding(line, "forbidden_api", dotted))
                    continue
            attr = node.attr if isinstance(node, ast.Attribute) else (getattr_constant(node) or (None, None))[1]
            if attr in attributes:
                found.add(Finding(line, "forbidden_api", "." + attr))
            elif isinstance(node, ast.keyword) and node.arg in keywords:
                found.add(Finding(line, "forbidden_api", node.arg + "="))
    # Report each use once: an alias chain such as torch.autograd.functional.jacobian
    # also matches its parents.
    unique: dict[int, Finding] = {}
    for f in sorted(found, key=lambda f: (f.line, -len(f.detail))):
        unique.setdefault(f.line, f)
    return sorted(unique.values(), key=lambda f: f.line)
