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
import importlib
import string
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable

from .tasks import TASKS, Task

GRADER_PACKAGES = {"grader", "solutions", "tests"}
PATCHED_LIBRARIES = {"torch", "numpy"}

# Dotted APIs whose only use in an exercise is to reach what the source does not
# name (a prefix covers everything under it): the kind of evasion each one is.
EVASION_APIS: dict[str, str] = {
    **dict.fromkeys(("operator.attrgetter", "operator.methodcaller", "string.Formatter", "_string",
                     "builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.hasattr"),
                    "dynamic_attribute"),
    **dict.fromkeys(("typing.get_type_hints", "typing_extensions.get_type_hints", "typing.ForwardRef",
                     "typing_extensions.ForwardRef", "inspect.get_annotations", "annotationlib",
                     "inspect.currentframe", "inspect.stack", "inspect.trace", "inspect.getouterframes",
                     "inspect.getinnerframes", "inspect.getframeinfo", "inspect.getclosurevars", "inspect.unwrap",
                     "inspect.getmembers", "inspect.getmembers_static", "inspect.getattr_static",
                     "inspect.getgeneratorlocals", "inspect.getcoroutinelocals",
                     "gc.get_referrers", "gc.get_referents", "gc.get_objects",
                     "sys.modules", "sys.settrace", "sys.setprofile", "sys.gettrace", "sys.getprofile",
                     "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache",
                     "threading.settrace", "threading.setprofile", "threading.settrace_all_threads",
                     "threading.setprofile_all_threads", "traceback.walk_stack", "traceback.walk_tb",
                     "ctypes.cast", "ctypes.py_object", "sys._current_frames",
                     "builtins.vars", "builtins.globals", "builtins.locals"), "introspection"),
    **dict.fromkeys(("importlib", "runpy", "marshal", "code", "codeop", "zipimport", "pickle.loads", "pickle.load",
                     "pickle.Unpickler", "_pickle", "builtins.exec", "builtins.eval", "builtins.compile",
                     "builtins.__import__", "pydoc.locate", "pkgutil.resolve_name", "unittest.mock", "logging.config",
                     "doctest", "pdb", "bdb", "trace", "cProfile.run", "cProfile.runctx", "profile.run",
                     "profile.runctx", "ctypes.pythonapi", "ctypes.PyDLL", "ctypes.pydll", "ctypes.CDLL",
                     "ctypes.cdll", "ctypes.LibraryLoader", "_ctypes", "torch.utils.cpp_extension"),
                    "dynamic_code"),
}
# Functions that run code given as text, unless what they are given is a function.
RUNS_TEXT = {"timeit.timeit", "timeit.repeat", "timeit.Timer"}
# Built-in functions with the same powers, when the name is not the student's own.
EVASION_BUILTINS: dict[str, str] = {
    "exec": "dynamic_code", "eval": "dynamic_code", "compile": "dynamic_code", "__import__": "dynamic_code",
    "vars": "introspection", "globals": "introspection", "locals": "introspection",
}
ATTRIBUTE_BUILTINS = {"getattr", "setattr", "hasattr", "delattr"}
_EVASION_NAMES = set(EVASION_BUILTINS) | ATTRIBUTE_BUILTINS
# Attributes that lead into frames, code objects and closures.
FRAME_ATTRIBUTES = {
    "f_back", "f_locals", "f_globals", "f_builtins", "f_code", "f_trace", "tb_frame", "tb_next",
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "cell_contents", "co_consts", "co_code", "get_field",
}
ALLOWED_DUNDERS = {
    "__name__", "__qualname__", "__module__", "__doc__", "__version__", "__file__", "__init__", "__post_init__",
    "__all__", "__future__", "__len__", "__iter__", "__next__", "__call__", "__enter__", "__exit__",
    "__repr__", "__str__", "__eq__", "__hash__", "__getitem__", "__setitem__", "__contains__", "__debug__",
    "__package__", "__slots__",
}
# Modules that may be imported to answer "what is this attribute?" while scanning
# (the standard library's, torch and numpy); never one whose import acts.
_NOT_IMPORTED = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "webbrowser", "pydoc",
                 "readline", "rlcompleter"}
# A module re-exporting a module of another package is an internal, except these.
_PUBLIC_REEXPORTS = {"os.path"}


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
        """Deliberate evasion in the code this task runs: the module's top-level
        code, the functions it reaches, and the imports those use.

        Evasion used only inside one task costs that task; code at module level
        that evades costs every task of the module.
        """
        if self.tree is None:
            return []
        return _evasion(_task_code(self.tree, task.name, self.task_names), self.tree, self.aliases)

    @property
    def module_level_escapes(self) -> list[Finding]:
        """Deliberate evasion in the code that runs when the module is imported."""
        if self.tree is None:
            return []
        return _evasion(_task_code(self.tree, None, self.task_names), self.tree, self.aliases)

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
        return _forbidden_in(_task_code(self.tree, task.name, self.task_names), task, self.aliases)


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
    result.escapes = _evasion([n for n in tree.body if not _is_main_guard(n)], tree, result.aliases)
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
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


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
            parts += _runs_at_import(statement, postponed) if isinstance(statement, _DEFS) else [statement]
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
    defs = {node.name: node for node in tree.body if isinstance(node, _DEFS)}
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    module_code = [node for node in tree.body
                   if not isinstance(node, _DEFS) and node not in imports and not _is_main_guard(node)]
    postponed = _postponed_annotations(tree)
    module_code += [part for node in defs.values() for part in _runs_at_import(node, postponed)]
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
        # A relative import, an import of the grader's own code, one that rebinds a
        # function of the module, or a star import (names unknown) changes what every task is.
        roots = {a.name.split(".")[0] for a in node.names} if isinstance(node, ast.Import) \
            else {(node.module or "").split(".")[0]}
        return (bool(getattr(node, "level", 0)) or bool(roots & GRADER_PACKAGES)
                or bool(_bound(node) & (set(defs) | tasks | {"*"})))

    return module_code + reached + [node for node in imports if _bound(node) & used or runs_for_everyone(node)]


# Names, modules and what they resolve to ----------------------------------------


def _aliases(tree: ast.AST) -> dict[str, str]:
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
    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                dotted = _dotted(node.value, aliases)
                name = node.targets[0].id
                if dotted and aliases.get(name) != dotted and name not in dotted.split("."):
                    aliases[name] = dotted
                    changed = True
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``torch.autograd.grad`` for an attribute chain rooted at an imported name;
    ``getattr(x, "name")`` reads as ``x.name``."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif (constant := _getattr_constant(node)) is not None:
            parts.append(constant[1])
            node = constant[0]
        else:
            break
    if isinstance(node, ast.Name) and node.id in aliases:
        parts.append(aliases[node.id])
        return ".".join(reversed(parts))
    return None


def _getattr_constant(node: ast.AST) -> tuple[ast.AST, str] | None:
    """(object, name) of ``getattr(object, "name")`` (a default may follow)."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and type(node.args[1].value) is str):
        return node.args[0], node.args[1].value
    return None


def _module(dotted: str) -> Any:
    """The module object at ``dotted`` if it is (or can safely be) loaded, else None."""
    root = dotted.split(".")[0]
    if root not in sys.modules and (root in ("torch", "numpy") or
                                    root in sys.stdlib_module_names and root not in _NOT_IMPORTED):
        try:
            importlib.import_module(root)
        except Exception:  # noqa: BLE001 - a module that does not import resolves to nothing
            return None
    obj: Any = sys.modules.get(root)
    for part in dotted.split(".")[1:]:
        if obj is None or not _is_module_object(obj):
            return None
        obj = vars(obj).get(part)
    return obj


def _is_module_object(obj: Any) -> bool:
    return type(obj).__name__ == "module" or isinstance(obj, type(sys))


def _module_internal(dotted: str, imported: set[str]) -> str | None:
    """The first step of ``dotted`` that enters a module's internals: a private name
    (``random._os``, ``torch._C``) or a module it imported from elsewhere
    (``enum.bltns``, ``torch.serialization.pickle``)."""
    parts = dotted.split(".")
    if parts[0] not in imported:
        return None
    for i in range(1, len(parts)):
        head, part = ".".join(parts[:i]), parts[i]
        owner = _module(head)
        if owner is not None and not _is_module_object(owner):
            return None  # past the modules: attributes of a class or function
        if part.startswith("_") and part not in ALLOWED_DUNDERS:
            return ".".join(parts[: i + 1])
        if owner is None:
            return None
        value = vars(owner).get(part)
        if _is_module_object(value) and f"{head}.{part}" not in _PUBLIC_REEXPORTS:
            name = getattr(value, "__name__", "")
            if type(name) is not str or name.split(".")[0] != owner.__name__.split(".")[0]:
                return ".".join(parts[: i + 1])
    return None


def _evasion_api(dotted: str) -> str | None:
    for prefix, code in EVASION_APIS.items():
        if dotted == prefix or dotted.startswith(prefix + "."):
            return code
    return None


# Scopes: is a built-in's name the student's own? --------------------------------


def _binds(node: ast.AST) -> set[str]:
    """Names a statement or expression binds in its own scope (not nested functions).

    An assignment from an evasion built-in (``e = eval``) binds nothing: the
    name still means the built-in.
    """
    names: set[str] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(current.name)
            todo.extend(current.decorator_list)
            continue
        # A lambda and a comprehension are scopes of their own; ``global eval`` binds
        # nothing (the name still falls back to the built-in).
        if isinstance(current, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
                                ast.Global, ast.Nonlocal)):
            continue
        if isinstance(current, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            value = current.value
            if value is not None and any(isinstance(n, ast.Name) and n.id in _EVASION_NAMES
                                         for n in ast.walk(value)):
                continue
        if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Store):
            names.add(current.id)
        elif isinstance(current, (ast.Import, ast.ImportFrom)):
            names.update(_bound(current))
        elif isinstance(current, ast.ExceptHandler) and current.name:
            names.add(current.name)
        elif isinstance(current, (ast.MatchAs, ast.MatchStar)) and current.name:
            names.add(current.name)
        elif isinstance(current, ast.MatchMapping) and current.rest:
            names.add(current.rest)
        todo.extend(ast.iter_child_nodes(current))
    return names


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    a = node.args
    names = {arg.arg for arg in a.posonlyargs + a.args + a.kwonlyargs}
    names.update(arg.arg for arg in (a.vararg, a.kwarg) if arg is not None)
    return names


# The evasion scan ---------------------------------------------------------------


class _Evasion:
    def __init__(self, tree: ast.Module, aliases: dict[str, str]) -> None:
        self.aliases = aliases
        self.imported = {dotted.split(".")[0] for dotted in aliases.values()}
        self.module_names = {name for name, dotted in aliases.items()
                             if _is_import_alias(tree, name) or _is_module_object(_module(dotted))}
        self.classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        self.module_scope = set().union(*(_binds(n) for n in tree.body if not _is_main_guard(n))) \
            if tree.body else set()
        self.found: set[Finding] = set()

    def add(self, node: ast.AST, code: str, detail: str) -> None:
        self.found.add(Finding(getattr(node, "lineno", 0), code, detail))

    def scan(self, statement: ast.AST) -> None:
        self._walk(statement, [self.module_scope])

    def _walk(self, node: ast.AST, scopes: list[set[str]]) -> None:
        if isinstance(node, _FUNCTIONS):
            body = node.body if isinstance(node.body, list) else [node.body]
            local = _parameters(node).union(*(_binds(s) for s in body))
            a = node.args
            annotations = [arg.annotation for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
                           if arg is not None and arg.annotation is not None]
            for outer in a.defaults + [d for d in a.kw_defaults if d is not None] + annotations \
                    + [getattr(node, "returns", None) or ast.Constant(None)]:
                self._walk(outer, scopes)
            for decorator in getattr(node, "decorator_list", []):
                self._walk(decorator, scopes)
            for statement in body:
                self._walk(statement, scopes + [local])
            return
        self._check(node, scopes)
        for child in ast.iter_child_nodes(node):
            self._walk(child, scopes)

    def _own(self, name: str, scopes: list[set[str]]) -> bool:
        return any(name in scope for scope in scopes)

    def _check(self, node: ast.AST, scopes: list[set[str]]) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:  # using an evasive module is found where it is used
                self._import(node, alias.name, evasive=False)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                self.add(node, "import_grader", "from " + "." * node.level + (node.module or "") + " import")
                return
            self._import(node, node.module or "")
            for alias in node.names:
                if alias.name == "*" and any(api.startswith(f"{node.module}.") for api in EVASION_APIS):
                    self.add(node, "dynamic_attribute", f"from {node.module} import *")
                self._import(node, f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Name):
            self._name(node, scopes)
        elif isinstance(node, ast.Attribute):
            self._attribute(node, node.attr)
        elif isinstance(node, ast.Call):
            self._call(node, scopes)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                self._patch(target)
        elif isinstance(node, ast.MatchClass) and node.kwd_attrs:
            if not (isinstance(node.cls, ast.Name) and node.cls.id in self.classes):
                self.add(node, "introspection", "case " + ast.unparse(node.cls) + "(" + ", ".join(node.kwd_attrs) + "=...)")

    def _import(self, node: ast.AST, name: str, evasive: bool = True) -> None:
        root = name.split(".")[0]
        if root in GRADER_PACKAGES:
            self.add(node, "import_grader", name)
        elif evasive and (code := _evasion_api(name)):
            self.add(node, code, name)
        elif internal := _module_internal(name, {root}):
            self.add(node, "module_internals", internal)

    def _name(self, node: ast.Name, scopes: list[set[str]]) -> None:
        if not isinstance(node.ctx, ast.Load) or self._own(node.id, scopes):
            return
        if node.id in EVASION_BUILTINS:
            self.add(node, EVASION_BUILTINS[node.id], node.id)
        elif node.id.startswith("__") and node.id.endswith("__") and node.id not in ALLOWED_DUNDERS:
            self.add(node, "introspection", node.id)
        elif node.id in ATTRIBUTE_BUILTINS and not getattr(node, "_called", False):
            self.add(node, "dynamic_attribute", node.id)
        dotted = self.aliases.get(node.id)
        if dotted and (code := _evasion_api(dotted)):
            self.add(node, code, dotted)

    def _attribute(self, node: ast.AST, attr: str) -> None:
        if attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDERS:
            self.add(node, "introspection", attr)
        elif attr in FRAME_ATTRIBUTES:
            self.add(node, "introspection", attr)
        dotted = _dotted(node, self.aliases)
        if dotted is None:
            return
        if code := _evasion_api(dotted):
            self.add(node, code, dotted)
        elif internal := _module_internal(dotted, self.imported):
            self.add(node, "module_internals", internal)

    def _call(self, node: ast.Call, scopes: list[set[str]]) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ATTRIBUTE_BUILTINS and not self._own(func.id, scopes):
            func._called = True  # type: ignore[attr-defined]
            name = node.args[1] if len(node.args) >= 2 else None
            if not (isinstance(name, ast.Constant) and type(name.value) is str):
                self.add(node, "dynamic_attribute", f"{func.id}()")
                return
            if func.id == "getattr":
                self._attribute(node, name.value)
            else:
                self._attribute(ast.Attribute(value=node.args[0], attr=name.value, lineno=node.lineno), name.value)
                if func.id in ("setattr", "delattr"):
                    self._patch(ast.Attribute(value=node.args[0], attr=name.value, lineno=node.lineno))
        elif isinstance(func, ast.Attribute) and func.attr in ("format", "format_map", "vformat"):
            self._format(node)
        if (dotted := _dotted(func, self.aliases)) in RUNS_TEXT:
            given = list(node.args[:2]) + [k.value for k in node.keywords if k.arg in ("stmt", "setup")]
            if any(not isinstance(arg, (ast.Lambda, ast.Name, ast.Attribute)) for arg in given):
                self.add(node, "dynamic_code", f"{dotted}() of text")

    def _format(self, node: ast.Call) -> None:
        """``"{0.__class__}".format(x)`` and the like look attributes up by name."""
        func = node.func
        assert isinstance(func, ast.Attribute)
        arguments = list(node.args) + [k.value for k in node.keywords]
        template = func.value if isinstance(func.value, ast.Constant) else (node.args[0] if node.args else None)
        fields: list[str] = []
        known = isinstance(template, ast.Constant) and type(template.value) is str
        if known:
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(template.value) if f]
            except ValueError:
                fields = []
        for f in fields:
            for part in f.replace("[", ".").replace("]", "").split(".")[1:]:
                if part.startswith("_") or part in FRAME_ATTRIBUTES:
                    self.add(node, "dynamic_attribute", "{" + f + "}")
        lookups = not known or any("." in f or "[" in f for f in fields)
        if lookups and any(self._holds_module(a) for a in arguments):
            self.add(node, "dynamic_attribute", f".{func.attr}() of a module")

    def _holds_module(self, node: ast.AST) -> bool:
        """A module, or a literal list, dict or unpacking that directly holds one."""
        if isinstance(node, ast.Name):
            return node.id in self.module_names
        if isinstance(node, ast.Starred):
            return self._holds_module(node.value)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return any(self._holds_module(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return any(self._holds_module(v) for v in node.values)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "dict":
            return any(self._holds_module(k.value) for k in node.keywords)
        return False

    def _patch(self, target: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._patch(item)
            return
        if isinstance(target, ast.Subscript):
            target = target.value
        if isinstance(target, ast.Attribute):
            dotted = _dotted(target, self.aliases)
            if dotted and dotted.split(".")[0] in PATCHED_LIBRARIES:
                self.add(target, "patching", dotted)


def _is_import_alias(tree: ast.Module, name: str) -> bool:
    """Whether ``name`` is bound by ``import x`` / ``import x as name`` (always a module),
    or by ``from x import name`` where ``x.name`` is a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and name in _bound(node):
            return True
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if (a.asname or a.name) == name and _is_module_object(_module(f"{node.module}.{a.name}")):
                    return True
    return False


def _evasion(statements: Iterable[ast.AST], tree: ast.Module, aliases: dict[str, str]) -> list[Finding]:
    reader = _Evasion(tree, aliases)
    for statement in statements:
        reader.scan(statement)
    return sorted(reader.found, key=lambda f: (f.line, f.code, f.detail))


# "Not allowed" APIs -------------------------------------------------------------


def _forbidden_in(statements: list[ast.AST], task: Task, aliases: dict[str, str]) -> list[Finding]:
    prefixes = [p for p in task.forbidden_scan if p.startswith("torch")]
    attributes = {p[1:] for p in task.forbidden_scan if p.startswith(".")}
    keywords = {p[:-1] for p in task.forbidden_scan if p.endswith("=")}
    found: set[Finding] = set()
    for root in statements:
        for node in ast.walk(root):
            line = getattr(node, "lineno", 0)
            if isinstance(node, (ast.Attribute, ast.Name, ast.Call)):
                dotted = _dotted(node, aliases) if not isinstance(node, ast.Call) or _getattr_constant(node) else None
                if dotted and any(dotted == p or dotted.startswith(p + ".") for p in prefixes):
                    found.add(Finding(line, "forbidden_api", dotted))
                    continue
            attr = node.attr if isinstance(node, ast.Attribute) else (_getattr_constant(node) or (None, None))[1]
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

