"""Names in Python source, read without running it: what a name was imported as,
the dotted path an attribute chain spells, where the main guard is."""
from __future__ import annotations

import ast
from dataclasses import dataclass

GRADER_PACKAGES = {"grader", "solutions", "tests"}
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Finding:
    line: int
    code: str
    detail: str


def names_used(nodes: list[ast.AST]) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}


def imported_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    return {(a.asname or a.name).split(".")[0] for a in node.names}


def is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``: a student's own experiments, never run when graded."""
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"
            and len(node.test.comparators) == 1 and isinstance(node.test.comparators[0], ast.Constant)
            and node.test.comparators[0].value == "__main__")


def import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted path, from imports and plain alias assignments."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    root = a.name.split(".")[0]
                    aliases[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    assigns = [node for node in ast.walk(tree)
               if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)]
    # Until nothing changes: ``a = torch.autograd`` then ``g = a.grad`` in any order.
    # A name assigned two different paths (``f = torch.sin`` ... ``f = torch.cos``)
    # takes the last one; paths that feed each other (``a = b.x``, ``b = a.y``) would
    # grow for ever, so the passes stop where every honest chain has long settled.
    for _ in range(len(assigns) + 2):
        before = dict(aliases)
        for node in assigns:
            dotted = dotted_path(node.value, aliases)
            name = node.targets[0].id
            if dotted and aliases.get(name) != dotted and name not in dotted.split("."):
                aliases[name] = dotted
        if aliases == before:
            break
    return aliases


def dotted_path(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``torch.autograd.grad`` for an attribute chain rooted at an imported name;
    ``getattr(x, "name")`` reads as ``x.name``."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif (constant := getattr_constant(node)) is not None:
            parts.append(constant[1])
            node = constant[0]
        else:
            break
    if isinstance(node, ast.Name) and node.id in aliases:
        parts.append(aliases[node.id])
        return ".".join(reversed(parts))
    return None


def getattr_constant(node: ast.AST) -> tuple[ast.AST, str] | None:
    """(object, name) of ``getattr(object, "name")`` (a default may follow)."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and type(node.args[1].value) is str):
        return node.args[0], node.args[1].value
    return None
