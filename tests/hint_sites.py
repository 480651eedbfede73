"""Where a check module gives hint codes, read from its source (for tests/test_tasks.py).

A check names a hint by a string: ``hint="code"`` (or ``none_hint=``, or a dict's
``"hint"`` entry), ``return "code"`` from a diagnosis, ``hint_with("code", ...)``, the
first argument of a helper that returns it (``_matches("code", ...)``), the values of
a ``task.hinting({...})`` map, and the entries of a table a diagnosis loops over and
returns from (``for hint, index in candidates: ... return hint``). ``given_by_task``
follows each task's checks through the module-level names they use, so a hint counts
only for the tasks whose checks can reach it.
"""
from __future__ import annotations

import ast
from pathlib import Path


def _constants(node: ast.AST | None) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _constants(node.body) | _constants(node.orelse)
    return set()


def _dict_values(node: ast.AST | None, names: dict[str, ast.AST]) -> set[str]:
    if isinstance(node, ast.Name):
        node = names.get(node.id)
    if isinstance(node, ast.Dict):
        return {v for value in node.values for v in _constants(value)}
    return set()


def _returns_first_param(fn: ast.FunctionDef) -> bool:
    if not fn.args.args:
        return False
    first = fn.args.args[0].arg
    return any(isinstance(n, ast.Return) and isinstance(n.value, ast.Name) and n.value.id == first
               for n in ast.walk(fn))


def _table_entries(loop: ast.For, scope: list[ast.AST]) -> set[str]:
    """``for a, b in TABLE: ... return a``: the entries of TABLE in a's place."""
    if not (isinstance(loop.target, ast.Tuple) and isinstance(loop.iter, ast.Name)):
        return set()
    returned = {n.value.id for n in ast.walk(loop) if isinstance(n, ast.Return) and isinstance(n.value, ast.Name)}
    places = [i for i, t in enumerate(loop.target.elts) if isinstance(t, ast.Name) and t.id in returned]
    found: set[str] = set()
    for node in scope:
        for n in ast.walk(node):
            if (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == loop.iter.id for t in n.targets)
                    and isinstance(n.value, (ast.Tuple, ast.List))):
                for row in n.value.elts:
                    if isinstance(row, ast.Tuple):
                        found |= {c for i in places if i < len(row.elts) for c in _constants(row.elts[i])}
    return found


def hint_sites(nodes: list[ast.AST], module: ast.Module) -> set[str]:
    """Every string the code in ``nodes`` gives as a hint code."""
    names = {t.id: n.value for n in module.body if isinstance(n, ast.Assign) for t in n.targets
             if isinstance(t, ast.Name)}
    helpers = {n.name for n in module.body if isinstance(n, ast.FunctionDef) and _returns_first_param(n)}
    found: set[str] = set()
    for root in nodes:
        for n in ast.walk(root):
            if isinstance(n, ast.keyword) and n.arg and n.arg.endswith("hint"):
                found |= _constants(n.value)
            elif isinstance(n, ast.Dict):
                found |= {c for k, v in zip(n.keys, n.values)
                          if isinstance(k, ast.Constant) and k.value == "hint" for c in _constants(v)}
            elif isinstance(n, ast.Return):
                found |= _constants(n.value)
            elif isinstance(n, ast.Call) and n.args:
                callee = n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "")
                if callee == "hint_with" or callee in helpers:
                    found |= _constants(n.args[0])
                elif callee == "hinting":
                    found |= _dict_values(n.args[0], names)
            elif isinstance(n, ast.For):
                found |= _table_entries(n, [root])
    return found


def _check_task(fn: ast.FunctionDef, names: dict[str, ast.AST]) -> str | None:
    for deco in fn.decorator_list:
        if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "check" and deco.args:
            arg = deco.args[0]
            arg = names.get(arg.id, arg) if isinstance(arg, ast.Name) else arg
            return arg.value if isinstance(arg, ast.Constant) else None
    return None


def given_by_task(source: str) -> dict[str, set[str]]:
    """task id -> the hint codes its checks in this module can give."""
    module = ast.parse(source)
    defs: dict[str, ast.AST] = {}
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defs[node.name] = node
        elif isinstance(node, ast.Assign):
            defs.update({t.id: node for t in node.targets if isinstance(t, ast.Name)})
    names = {k: v.value for k, v in defs.items() if isinstance(v, ast.Assign)}
    out: dict[str, set[str]] = {}
    for node in module.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        task = _check_task(node, names)
        if task is None:
            continue
        reached, todo = [], [node]
        while todo:  # the module-level functions and values this check uses, transitively
            current = todo.pop()
            if any(current is r for r in reached):
                continue
            reached.append(current)
            todo += [defs[n.id] for n in ast.walk(current) if isinstance(n, ast.Name) and n.id in defs]
        out.setdefault(task, set()).update(hint_sites(reached, module))
    return out


def given_anywhere(source: str) -> set[str]:
    module = ast.parse(source)
    return hint_sites([module], module)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
