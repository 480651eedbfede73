"""Static reading of a submission: the grader never imports student code.

For each module: does it parse, does it reach outside what an exercise needs
(escape hatches: file and process access, introspection, dynamic imports), and
for each task, does the code it can reach use an API the task does not allow.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .tasks import MODULES, TASKS, Task

ALLOWED_IMPORTS = {
    "torch", "numpy", "math", "cmath", "typing", "typing_extensions", "functools",
    "itertools", "collections", "dataclasses", "operator", "numbers", "fractions",
    "decimal", "random", "statistics", "copy", "abc", "enum", "warnings", "time",
    "string", "re", "textwrap", "__future__",
}
TORCH_DENIED = (
    "torch.utils.cpp_extension", "torch.hub", "torch.multiprocessing", "torch.distributed",
    "torch.package", "torch.library", "torch.ops", "torch.load", "torch.save",
    "torch.from_file", "torch.classes", "torch.jit", "torch.compile", "torch.cuda",
    "torch.backends", "torch.testing",
)
GRADER_PACKAGES = {"solutions", "grader", "exercises", "tests"}
DENIED_BUILTINS = {
    "__import__", "exec", "eval", "compile", "open", "globals", "locals", "vars",
    "breakpoint", "input", "exit", "quit", "help", "__builtins__", "__loader__", "__spec__",
    "memoryview", "delattr",
}
DENIED_ATTRIBUTES = {
    "os", "sys", "ctypes", "subprocess", "builtins", "importlib", "signal", "shutil",
    "pathlib", "io", "socket", "inspect", "gc", "_C", "f_locals", "f_globals", "f_back",
    "f_code", "gi_frame", "cr_frame", "tb_frame", "tb_next", "_getframe", "load", "save",
    "from_file", "fromfile", "loadtxt", "genfromtxt", "memmap", "tofile", "hub",
    "multiprocessing", "cpp_extension", "ops", "library", "_dynamo", "_inductor",
}
ALLOWED_DUNDERS = {"__name__", "__doc__", "__init__", "__future__", "__all__"}


@dataclass(frozen=True)
class Finding:
    line: int
    code: str
    detail: str


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
        """Escape hatches in the code this task runs: the module's top-level code,
        the functions it reaches, and the imports those use.

        ``import os`` used only inside one task costs that task; code at module
        level that reaches outside costs every task of the module.
        """
        if self.tree is None:
            return []
        return _escapes(_task_code(self.tree, task.name, self.task_names), self.aliases)

    @property
    def module_level_escapes(self) -> list[Finding]:
        """Escape hatches that run when the module is imported."""
        if self.tree is None:
            return []
        return _escapes(_task_code(self.tree, None, self.task_names), self.aliases)

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
        """Uses of the task's not-allowed APIs in the code the task can reach."""
        if self.tree is None or not task.forbidden_scan:
            return []
        return _forbidden_in(self.tree, task, self.aliases)


def scan_module(module: str, source: str | None) -> ModuleScan:
    if source is None:
        return ModuleScan(module, present=False)
    try:
        tree = ast.parse(source, filename=f"{module}.py")
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        msg = getattr(exc, "msg", str(exc))
        return ModuleScan(module, True, syntax_error=Finding(line, "syntax_error", msg))
    result = ModuleScan(module, True, tree=tree)
    result.defined = _top_level_names(tree)
    result.aliases = _aliases(tree)
    result.escapes = _escapes(tree.body, result.aliases)
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


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _names(nodes: list[ast.AST]) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}


def _bound(node: ast.Import | ast.ImportFrom) -> set[str]:
    return {(a.asname or a.name).split(".")[0] for a in node.names}


def _is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``: a student's own experiments, never run when graded."""
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"
            and len(node.test.comparators) == 1 and isinstance(node.test.comparators[0], ast.Constant)
            and node.test.comparators[0].value == "__main__")


def _task_code(tree: ast.Module, start: str | None, tasks: set[str]) -> list[ast.AST]:
    """Top-level statements a task runs: module-level code, the definitions reachable
    from ``start`` (None: none), and the imports whose names those use."""
    defs = {node.name: node for node in tree.body if isinstance(node, _DEFS)}
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    module_code = [node for node in tree.body
                   if not isinstance(node, _DEFS) and node not in imports and not _is_main_guard(node)]
    reached: list[ast.AST] = []
    todo = ([start] if start else []) + sorted(_names(module_code))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        reached.append(defs[name])
        todo.extend(_names([defs[name]]))
    used = _names(module_code + reached)

    def runs_for_everyone(node: ast.Import | ast.ImportFrom) -> bool:
        # A relative import, an import of the grader's own code, or one that rebinds a
        # function of the module changes what every task is.
        roots = {a.name.split(".")[0] for a in node.names} if isinstance(node, ast.Import) \
            else {(node.module or "").split(".")[0]}
        return bool(getattr(node, "level", 0)) or bool(roots & GRADER_PACKAGES) or bool(_bound(node) & (set(defs) | tasks))

    return module_code + reached + [node for node in imports if _bound(node) & used or runs_for_everyone(node)]


def _escapes(statements: list[ast.AST], aliases: dict[str, str]) -> list[Finding]:
    found: list[Finding] = []

    def add(node: ast.AST, code: str, detail: str) -> None:
        found.append(Finding(getattr(node, "lineno", 0), code, detail))

    for node in (n for statement in statements for n in ast.walk(statement)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                _check_import(alias.name, node, add)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                add(node, "import_denied", "from . import")
                continue
            base = node.module or ""
            _check_import(base, node, add)
            for alias in node.names:
                _check_import(f"{base}.{alias.name}", node, add, submodule=True)
        elif isinstance(node, ast.Name) and node.id in DENIED_BUILTINS:
            add(node, "builtin_denied", node.id)
        elif isinstance(node, ast.Attribute):
            _check_attribute(node.attr, node, add)
            dotted = _dotted(node, aliases)
            if dotted and _denied_torch(dotted):
                add(node, "api_denied", dotted)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
            "getattr", "setattr", "hasattr"
        ):
            if len(node.args) < 2 or not (
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
            ):
                add(node, "dynamic_attribute", f"{node.func.id}()")
            else:
                _check_attribute(node.args[1].value, node, add)
    return sorted(set(found), key=lambda f: (f.line, f.code, f.detail))


def _check_import(name: str, node: ast.AST, add, submodule: bool = False) -> None:
    root = name.split(".")[0]
    if root in GRADER_PACKAGES:
        add(node, "import_grader", name)
    elif root in MODULES and name.count(".") <= 1:
        return  # another exercise module of the submission
    elif root not in ALLOWED_IMPORTS:
        if not submodule:
            add(node, "import_denied", name)
    elif _denied_torch(name) or any(part.startswith("_") and part != "__future__" for part in name.split(".")[1:]):
        add(node, "import_denied", name)


def _check_attribute(attr: str, node: ast.AST, add) -> None:
    if attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDERS:
        add(node, "introspection", attr)
    elif attr in DENIED_ATTRIBUTES:
        add(node, "attribute_denied", attr)


def _denied_torch(dotted: str) -> bool:
    if not dotted.startswith("torch."):
        return False
    parts = dotted.split(".")
    if any(p.startswith("_") for p in parts[1:]):
        return True
    return any(dotted == d or dotted.startswith(d + ".") for d in TORCH_DENIED)


# Names and "not allowed" APIs ------------------------------------------------


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted module path, from imports and plain alias assignments."""
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
    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                dotted = _dotted(node.value, aliases)
                name = node.targets[0].id
                if dotted and aliases.get(name) != dotted and dotted.startswith(("torch", "numpy")):
                    aliases[name] = dotted
                    changed = True
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        parts.append(aliases[node.id])
        return ".".join(reversed(parts))
    return None


def _reachable(tree: ast.Module, start: str) -> list[ast.AST]:
    """The task's function, the module-level code, and every top-level def it names."""
    defs = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    top_level = [node for node in tree.body if node.__class__.__name__ not in (
        "FunctionDef", "AsyncFunctionDef", "ClassDef")]
    seen: set[str] = set()
    todo = [start] + [n.id for stmt in top_level for n in ast.walk(stmt) if isinstance(n, ast.Name)]
    out: list[ast.AST] = list(top_level)
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        out.append(defs[name])
        todo.extend(n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name))
    return out


def _in_scope(tree: ast.Module, task: Task) -> list[ast.AST]:
    """The code a task's "not allowed" rules apply to: all the task reaches, or, for a
    scope ``"Class.method"``, that method and the top-level definitions it names."""
    if not task.scope:
        return _reachable(tree, task.name)
    cls, _, method = task.scope.partition(".")
    # Every class and method of that name: the one defined last is the one that runs.
    start = [node for owner in tree.body if isinstance(owner, ast.ClassDef) and owner.name == cls
             for node in owner.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
             and node.name == method]
    defs = {node.name: node for node in tree.body if isinstance(node, _DEFS)}
    out, todo, seen = list(start), sorted(_names(start)), set()
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        out.append(defs[name])
        todo.extend(_names([defs[name]]))
    return out


def _forbidden_in(tree: ast.Module, task: Task, aliases: dict[str, str]) -> list[Finding]:
    prefixes = [p for p in task.forbidden_scan if p.startswith("torch")]
    attributes = {p[1:] for p in task.forbidden_scan if p.startswith(".")}
    keywords = {p[:-1] for p in task.forbidden_scan if p.endswith("=")}
    found: set[Finding] = set()
    for root in _in_scope(tree, task):
        for node in ast.walk(root):
            line = getattr(node, "lineno", 0)
            if isinstance(node, (ast.Attribute, ast.Name)):
                dotted = _dotted(node, aliases)
                if dotted and any(dotted == p or dotted.startswith(p + ".") for p in prefixes):
                    found.add(Finding(line, "forbidden_api", dotted))
                    continue
            if isinstance(node, ast.Attribute) and node.attr in attributes:
                found.add(Finding(line, "forbidden_api", "." + node.attr))
            elif isinstance(node, ast.keyword) and node.arg in keywords:
                found.add(Finding(line, "forbidden_api", node.arg + "="))
    # Report each use once: an alias chain such as torch.autograd.functional.jacobian
    # also matches its parents.
    unique: dict[int, Finding] = {}
    for f in sorted(found, key=lambda f: (f.line, -len(f.detail))):
        unique.setdefault(f.line, f)
    return sorted(unique.values(), key=lambda f: f.line)
