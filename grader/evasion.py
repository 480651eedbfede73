"""Deliberate evasion: code that reaches around the rules instead of breaking them openly.

Attributes reached by computed names or format fields, frames, closures and hidden
attributes, a module's internals, code run from text, torch or numpy patched, the
grader's code imported. Each finding names the line and the kind of evasion.
"""
from __future__ import annotations

import ast
import functools
import importlib
import os
import string
import sys
from typing import Any, Iterable, Iterator

from . import shapes
from .pyast import (BINDERS, GRADER_PACKAGES, Finding, Index, bound_names, dotted_path, imported_names,
                    is_main_guard, only_looked_at)
from .tasks import MODULES as EXERCISE_MODULES

PATCHED_LIBRARIES = {"torch", "numpy"}
# The modules the sandbox's own code runs on once a submission is loaded (its wire
# format, its seal, its recorder, its capture of warnings and prints): an attribute
# stored into one changes what the child does on the grader's behalf. The exercise
# modules are added where the scan runs (``EXERCISE_MODULES``). Other modules'
# settings (logging's, IPython's, pandas' options) are the student's business. A
# private module (``_hashlib``, ``_json``: the C parts these call) is never one.
RUNTIME_MODULES = {"json", "hmac", "hashlib", "socket", "struct", "builtins", "sys", "warnings", "types",
                   "functools", "itertools", "contextlib", "threading", "traceback", "linecache", "inspect",
                   "importlib", "io", "os", "math", "gc", "weakref", "abc", "operator", "pickle", "copyreg",
                   "select", "signal", "time", "_thread"}
# Documented hooks and settings of those modules that a student may set: where prints
# and warnings go, the command line a script sees, the import path.
HONEST_STORES = {"sys.stdout", "sys.stderr", "sys.argv", "sys.path", "sys.dont_write_bytecode", "sys.excepthook",
                 "sys.tracebacklimit", "warnings.showwarning", "warnings.formatwarning", "builtins.print"}
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

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
                     "threading.setprofile_all_threads", "threading.gettrace", "threading.getprofile",
                     "traceback.walk_stack", "traceback.walk_tb",
                     "ctypes.cast", "ctypes.py_object", "sys._current_frames",
                     # code Python runs on its own, inside the grader's hook or after the
                     # call: an audit hook, a collector's callback or its threshold
                     "sys.addaudithook", "sys.audit", "gc.callbacks", "gc.set_threshold",
                     "builtins.vars", "builtins.globals", "builtins.locals"), "introspection"),
    **dict.fromkeys(("importlib", "runpy", "marshal", "code", "codeop", "zipimport", "pickle.loads", "pickle.load",
                     "pickle.Unpickler", "_pickle", "builtins.exec", "builtins.eval", "builtins.compile",
                     "builtins.__import__", "pydoc", "pkgutil.resolve_name", "unittest.mock",
                     # TorchScript compiled from text: code the scan cannot read, run in C++
                     "torch.jit.CompilationUnit", "torch.jit.frontend", "torch.jit.annotations", "logging.config",
                     "doctest", "pdb", "bdb", "trace", "cProfile.run", "cProfile.runctx", "profile.run",
                     "profile.runctx", "ctypes.pythonapi", "ctypes.PyDLL", "ctypes.pydll", "ctypes.CDLL",
                     "ctypes.cdll", "ctypes.LibraryLoader", "_ctypes", "torch.utils.cpp_extension",
                     # kernels of one's own for torch's operators, run by the dispatcher
                     "torch.library",
                     # compiled code loaded from bytes: a TorchScript archive, a package, an
                     # exported program, compiled artifacts
                     "torch.jit.load", "torch.package", "torch.export.load", "torch.compiler.load_cache_artifacts",
                     # loaders that unpickle (a function named by its module and name) or
                     # hand a TorchScript archive on to torch.jit.load; a sandboxed task has
                     # no file to load them from
                     "torch.load", "torch.serialization.load", "numpy.load", "numpy.lib.format", "numpy.lib.npyio",
                     "multiprocessing.reduction", "torch.multiprocessing.reductions"),
                    "dynamic_code"),
}
# Names of evasive modules with an honest use, and where that use is honest: asking
# whether an optional package is there (``find_spec("matplotlib") is None``, ``"google.colab"
# in sys.modules``) or which version is installed, configuring logging. Used any other way (a spec's loader,
# sys.modules read), they are what the module's entry says.
HONEST_PROBES = {"importlib.util.find_spec": "tested", "sys.modules": "membership",
                 "importlib.metadata.version": "anywhere", "importlib.metadata.PackageNotFoundError": "anywhere",
                 # dictConfig resolves dotted names; in the sandbox only logging's own
                 # (``child._restrict_logging_config``), however the configuration is written
                 "logging.config.dictConfig": "anywhere"}
# Functions that run code given as text, unless what they are given is a function.
RUNS_TEXT = {"timeit.timeit", "timeit.repeat", "timeit.Timer"}
# Built-in functions with the same powers, when the name is not the student's own.
EVASION_BUILTINS: dict[str, str] = {
    "exec": "dynamic_code", "eval": "dynamic_code", "compile": "dynamic_code", "__import__": "dynamic_code",
    "vars": "introspection", "globals": "introspection", "locals": "introspection",
}
ATTRIBUTE_BUILTINS = {"getattr", "setattr", "hasattr", "delattr"}
# What a plain settings class may define of Python's protocol (``_own_instance``).
_PLAIN_CLASS_DUNDERS = {"__init__", "__post_init__", "__repr__", "__str__", "__eq__", "__hash__"}
# Of those, the namespaces that only printing them leaves honest (``print(vars(cfg))``).
SHOWN_NAMESPACES = {"vars", "locals", "globals"}
_EVASION_NAMES = frozenset(EVASION_BUILTINS) | ATTRIBUTE_BUILTINS
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
    # type(x) tells the same; what leads further (__mro__, __subclasses__, __globals__) is not here
    "__class__",
}
# Modules that may be imported to answer "what is this attribute?" while scanning
# (the standard library's, torch and numpy); never one whose import acts.
_NOT_IMPORTED = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "webbrowser", "pydoc",
                 "readline", "rlcompleter"}
# A module re-exporting a module of another package is an internal, except these.
_PUBLIC_REEXPORTS = {"os.path"}


def _module(dotted: str) -> Any:
    """The module object at ``dotted`` if it is (or can safely be) loaded, else None.

    Besides torch and numpy (the grader's own dependencies), only the standard
    library's own files are ever imported here: a name the import path would find
    elsewhere first (a folder of the same name in the working directory, a
    submission's own module) is never loaded into the grader."""
    root = dotted.split(".")[0]
    if root not in sys.modules and (root in ("torch", "numpy") or
                                    root in sys.stdlib_module_names and root not in _NOT_IMPORTED):
        if root not in ("torch", "numpy") and not _from_the_standard_library(root):
            return None
        try:
            importlib.import_module(root)
        except Exception:  # noqa: BLE001 - a module that does not import resolves to nothing
            return None
    obj: Any = sys.modules.get(root)
    for part in dotted.split(".")[1:]:
        if obj is None or not _is_module_object(obj):
            return None
        obj = shapes.resolved(vars(obj).get(part))
    return obj


@functools.lru_cache(maxsize=512)
def _from_the_standard_library(name: str) -> bool:
    """Whether importing top-level ``name`` would load the standard library's module
    (found without running anything: a spec, not an import)."""
    import importlib.util
    import sysconfig

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    if spec.origin in ("built-in", "frozen"):
        return True
    homes = {os.path.realpath(sysconfig.get_paths()[key]) + os.sep for key in ("stdlib", "platstdlib")}
    origin = os.path.realpath(spec.origin or "")
    return any(origin.startswith(home) for home in homes) and "site-packages" not in origin


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
        if i == 1 and parts[0] in EXERCISE_MODULES and not part.startswith("__"):
            continue  # a helper of the student's own other module (``ex01_backward._leaf``)
        # A private name reached from a module, on the module or past it on one of its
        # classes (``torch.autograd.Variable._execution_engine``), is an internal.
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")) \
                or part.startswith("_") and part not in ALLOWED_DUNDERS and _is_module_object(_module(head)):
            return ".".join(parts[: i + 1])
        owner = _module(head)
        if owner is None or not _is_module_object(owner):
            continue  # past the modules: only private names lead further in
        value = vars(owner).get(part)
        if _is_module_object(value) and f"{head}.{part}" not in _PUBLIC_REEXPORTS:
            # A module is public where it is a submodule of its owner; reached from
            # any other module (``torch.nn.modules.module.torch``) it is a re-export.
            name = getattr(value, "__name__", "")
            if type(name) is not str or not name.startswith(owner.__name__ + "."):
                return ".".join(parts[: i + 1])
    return None


_EVASION_ORDER = {prefix: i for i, prefix in enumerate(EVASION_APIS)}


@functools.lru_cache(maxsize=4096)
def _evasion_api(dotted: str) -> str | None:
    """The kind of the first entry of EVASION_APIS that is ``dotted`` or a prefix of it."""
    parts = dotted.split(".")
    prefixes = [p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if p in EVASION_APIS]
    return EVASION_APIS[min(prefixes, key=_EVASION_ORDER.__getitem__)] if prefixes else None


# Scopes: is a built-in's name the student's own? --------------------------------

_DEFINITIONS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
_OWN_SCOPES = frozenset({ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Global,
                         ast.Nonlocal})
_ASSIGNMENTS = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr})


def _binds(node: ast.AST, index: Index | None = None) -> set[str]:
    """Names a statement or expression binds in its own scope (not nested functions).

    An assignment from an evasion built-in (``e = eval``) binds nothing: the
    name still means the built-in.
    """
    index = index or Index(node)
    children_of = index.children_by_id
    names: set[str] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        kind = type(current)
        if kind is ast.Name:  # the commonest node, and a leaf
            if isinstance(current.ctx, ast.Store):
                names.add(current.id)
            continue
        if kind in _DEFINITIONS:
            names.add(current.name)
            todo.extend(current.decorator_list)
            continue
        # A lambda and a comprehension are scopes of their own; ``global eval`` binds
        # nothing (the name still falls back to the built-in).
        if kind in _OWN_SCOPES:
            continue
        if kind in _ASSIGNMENTS:
            value = current.value
            if value is not None and index.holds_name(value, _EVASION_NAMES):
                continue
        if kind is ast.Import or kind is ast.ImportFrom:
            names.update(imported_names(current))
        elif isinstance(current, ast.ExceptHandler) and current.name:
            names.add(current.name)
        elif isinstance(current, (ast.MatchAs, ast.MatchStar)) and current.name:
            names.add(current.name)
        elif isinstance(current, ast.MatchMapping) and current.rest:
            names.add(current.rest)
        found = children_of.get(id(current))
        todo.extend(found if found is not None else index.children(current))
    return names


def module_bindings(node: ast.AST, index: Index | None = None) -> set[str]:
    """Names a module-level statement binds in the module's scope, however it binds
    them: a definition, an assignment, a for loop's target, a with's "as", a walrus,
    inside an if or a try (never inside a function, class or comprehension body)."""
    index = index or Index(node)
    names: set[str] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(current.name)
            continue
        if isinstance(current, ast.Lambda):
            continue
        if isinstance(current, ast.Name) and isinstance(current.ctx, (ast.Store, ast.Del)):
            names.add(current.id)
        elif isinstance(current, ast.NamedExpr) and isinstance(current.target, ast.Name):
            names.add(current.target.id)  # a walrus binds in the enclosing scope, even in a comprehension
        todo.extend(index.children(current))
    return names


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    a = node.args
    names = {arg.arg for arg in a.posonlyargs + a.args + a.kwonlyargs}
    names.update(arg.arg for arg in (a.vararg, a.kwarg) if arg is not None)
    return names


# The evasion scan ---------------------------------------------------------------


class Reader:
    """The evasion scan of one module.

    What a statement evades does not depend on which other statements are read
    with it, so each statement is read once and its findings kept: every task of
    the module asks about its own set of statements, most of them shared.
    """

    def __init__(self, tree: ast.Module, aliases: dict[str, str], index: Index | None = None) -> None:
        self.index = index or Index(tree)
        self.aliases = aliases  # with what readable star imports bind (``scan_module``)
        self._findings: dict[int, frozenset[Finding]] = {}
        self._bound: dict[int, set[str]] = {}
        self._called: set[int] = set()  # getattr & co. seen as the function of a call
        self._probes = self._honest_probes()  # the nodes of honest uses of HONEST_PROBES
        self._suspect: dict[str, bool] = {}
        self.found: set[Finding] = set()
        self.imported = {dotted.split(".")[0] for dotted in aliases.values()}
        imports = self.index.of(ast.Import, ast.ImportFrom)
        self.module_names = {name for name, dotted in aliases.items()
                             if _is_import_alias(imports, name) or _is_module_object(_module(dotted))}
        self.classes = {n.name for n in self.index.of(ast.ClassDef)}
        self.imported_in_functions = {name for node in imports if self._in_function(node)
                                      for name in imported_names(node)}
        makers = list(_instance_makers(self.index))  # walked once for both
        self.own_dicts = _own_instance_dicts(makers)
        self.own_attributes = _own_instance_attributes(makers, self.index, aliases)
        self._own_namespaces: dict[str, bool] = {}
        self._own_class_targets = _own_class_targets(self.index, self.classes)
        self.module_scope = set().union(*(self._binds(n) for n in tree.body if not is_main_guard(n))) \
            if tree.body else set()

    def _honest_probes(self) -> set[int]:
        found: set[int] = set()
        for node in self.index.of(ast.Attribute, ast.Name):
            how = HONEST_PROBES.get(dotted_path(node, self.aliases) or "")
            if how is None or not isinstance(node.ctx, ast.Load):
                continue
            parent = self.index.parent(node)
            if how == "membership":
                # one comparison only: in a chain (``a in sys.modules in box``) the module
                # is handed to the next operand's __contains__
                honest = isinstance(parent, ast.Compare) and parent.comparators == [node] \
                    and len(parent.ops) == 1 and isinstance(parent.ops[0], (ast.In, ast.NotIn))
            elif how == "tested":
                honest = isinstance(parent, ast.Call) and parent.func is node and only_looked_at(parent, self.index)
            else:
                honest = True
            if honest:
                found.update(id(n) for n in ast.walk(node))
        return found

    def _honest_import(self, node: ast.ImportFrom, alias: ast.alias) -> bool:
        """``from importlib.util import find_spec`` whose every use is an honest probe."""
        name = alias.asname or alias.name
        return f"{node.module}.{alias.name}" in HONEST_PROBES and all(
            id(use) in self._probes for use in self.index.of(ast.Name) if use.id == name)

    def _in_function(self, node: ast.AST) -> bool:
        parent = self.index.parent(node)
        while parent is not None:
            if isinstance(parent, _FUNCTIONS):
                return True
            parent = self.index.parent(parent)
        return False

    def find(self, statements: Iterable[ast.AST]) -> list[Finding]:
        """Every evasion in ``statements`` (top-level nodes of the tree, or parts of them)."""
        found: set[Finding] = set()
        for statement in statements:
            found |= self.findings(statement)
        return sorted(found, key=lambda f: (f.line, f.code, f.detail))

    def findings(self, statement: ast.AST) -> frozenset[Finding]:
        known = self._findings.get(id(statement))
        if known is None:
            self.found = set()
            self.scan(statement)
            known = self._findings[id(statement)] = frozenset(self.found)
        return known

    def _binds(self, node: ast.AST) -> set[str]:
        known = self._bound.get(id(node))
        if known is None:
            known = self._bound[id(node)] = _binds(node, self.index)
        return known

    def local_names(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
        """A function's parameters and the names its body binds (unless declared global)."""
        declared = {name for n in self.index.walk(node) if isinstance(n, ast.Global) for name in n.names}
        return (_parameters(node) | set().union(*(self._binds(s) for s in node.body))) - declared

    def add(self, node: ast.AST, code: str, detail: str) -> None:
        self.found.add(Finding(getattr(node, "lineno", 0), code, detail))

    def scan(self, statement: ast.AST) -> None:
        # Iterative, not recursive: a long expression (a + b + ... over a thousand
        # terms) is a deep tree, and honest.
        todo: list[tuple[ast.AST, list[set[str]]]] = [(statement, [self.module_scope])]
        children_of = self.index.children_by_id
        while todo:
            node, scopes = todo.pop()
            if isinstance(node, _FUNCTIONS):
                if getattr(node, "name", "") in MATCHES_ANYTHING:
                    # A metaclass answering isinstance() for any object lets a class pattern
                    # read any subject's attributes by name (its __match_args__, keywords).
                    self.add(node, "introspection", f"{node.name} (a class every object is an instance of)")
                body = node.body if isinstance(node.body, list) else [node.body]
                local = _parameters(node).union(*(self._binds(s) for s in body))
                a = node.args
                annotations = [arg.annotation for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
                               if arg is not None and arg.annotation is not None]
                returns = [node.returns] if getattr(node, "returns", None) is not None else []
                outer = a.defaults + [d for d in a.kw_defaults if d is not None] + annotations + returns \
                    + list(getattr(node, "decorator_list", []))
                todo.extend((n, scopes) for n in outer)
                todo.extend((statement, scopes + [local]) for statement in body)
                continue
            self._check(node, scopes)
            children = children_of.get(id(node))
            for child in children if children is not None else self.index.children(node):
                todo.append((child, scopes))

    def _own(self, name: str, scopes: list[set[str]]) -> bool:
        return any(name in scope for scope in scopes)

    def _check(self, node: ast.AST, scopes: list[set[str]]) -> None:
        if type(node) not in _CHECKED:
            return
        if isinstance(node, ast.Import):
            for alias in node.names:  # using an evasive module is found where it is used
                self._import(node, alias.name, evasive=False)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # A submission is the exercise modules and nothing else: a relative import
                # reaches no module of the student's own that is graded.
                self.add(node, "relative_import", "from " + "." * node.level + (node.module or "") + " import")
                return
            if not all(self._honest_import(node, alias) for alias in node.names):
                self._import(node, node.module or "")
            for alias in node.names:
                # A star import the scan can read binds aliases, found where they are used
                # (``star_bindings``); one it cannot read is judged by what it might bind.
                if alias.name == "*" and not _is_module_object(_module(node.module or "")) \
                        and any(api.startswith(f"{node.module}.") for api in EVASION_APIS):
                    self.add(node, "dynamic_attribute", f"from {node.module} import *")
                dotted = f"{node.module}.{alias.name}"
                if self._honest_import(node, alias):
                    continue
                self._import(node, dotted)
        elif isinstance(node, ast.Name):
            self._name(node, scopes)
        elif isinstance(node, ast.Attribute):
            self._attribute(node, node.attr)
        elif isinstance(node, ast.Call):
            self._call(node, scopes)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            # (stores as other statements' targets: ``for``, ``with ... as``, comprehensions,
            # are read in ``_attribute``)
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__match_args__" for t in targets) \
                    and isinstance(getattr(node, "value", None), (ast.Tuple, ast.List)):
                # what a class pattern's positional sub-patterns read, by name
                for item in node.value.elts:
                    if isinstance(item, ast.Constant) and type(item.value) is str:
                        self._read_by_name(node, item.value)
            setting = isinstance(node, (ast.Assign, ast.AnnAssign)) and _a_flag(node.value)
            for target in targets:
                value = getattr(node, "value", None)
                if isinstance(node, ast.Assign) and isinstance(target, (ast.Tuple, ast.List)) \
                        and isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                    # a, b = False, True: each switch set to its own flag
                    for one, its in zip(target.elts, value.elts):
                        self._patch(one, _a_flag(its), its)
                    continue
                self._patch(target, setting, value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None)
        elif isinstance(node, ast.Match) and dotted_path(node.subject, self.aliases) is not None:
            # Matched against a module (``match torch: case object(autograd=a)``), a class
            # pattern's keywords reach into it by name, past every path the scan reads.
            # Positional sub-patterns read the attributes the class's __match_args__ names.
            for pattern in ast.walk(ast.Module(body=[c.pattern for c in node.cases], type_ignores=[])):
                if isinstance(pattern, ast.MatchClass) and (pattern.kwd_attrs or pattern.patterns):
                    self.add(pattern, "introspection", "case " + ast.unparse(pattern.cls) + "(...) on "
                             + ast.unparse(node.subject))
        elif isinstance(node, ast.MatchClass) and node.kwd_attrs:
            # ``case Cls(attr=...)`` reads the subject's attributes by name, whatever the
            # class (its metaclass's __instancecheck__ may let any subject through): each
            # is read as ``subject.attr`` would be.
            for attr in node.kwd_attrs:
                self._read_by_name(node, attr)

    def _read_by_name(self, node: ast.AST, attr: str) -> None:
        """An attribute a class pattern reads of an unknown subject, checked as
        ``subject.attr`` would be."""
        self._attribute(ast.Attribute(value=ast.Name(id="_", ctx=ast.Load()), attr=attr, lineno=node.lineno), attr)

    def _import(self, node: ast.AST, name: str, evasive: bool = True) -> None:
        root = name.split(".")[0]
        if root in GRADER_PACKAGES:
            self.add(node, "import_grader", name)
        elif evasive and name != "logging.config" and (code := _evasion_api(name)):
            # (importing logging.config is not yet running text: what it is used for is read
            # where it is used)
            self.add(node, code, name)
        elif internal := _module_internal(name, {root}):
            self.add(node, "module_internals", internal)

    def _name(self, node: ast.Name, scopes: list[set[str]]) -> None:
        dotted = self.aliases.get(node.id)
        if dotted and node.id in self.module_names and isinstance(node.ctx, ast.Load) \
                and (_is_power_module(dotted) and not self._in_plain_view(node) or self._taken_out_of_a_literal(node)) \
                and not (node.id not in self.imported_in_functions and self._own(node.id, scopes[1:])):
            # (a function's own name, ``def log(string):``, is not the module, unless
            # some function imports it: ``import builtins`` inside a function is the module)
            self.add(node, "dynamic_attribute", f"the module {dotted} as a value")
        if not self._may_evade(node.id) or not isinstance(node.ctx, ast.Load) or self._own(node.id, scopes):
            return
        if node.id in EVASION_BUILTINS:
            if not (node.id in SHOWN_NAMESPACES and self._only_shown_call(node)):
                self.add(node, EVASION_BUILTINS[node.id], node.id)
        elif node.id.startswith("__") and node.id.endswith("__") and node.id not in ALLOWED_DUNDERS:
            self.add(node, "introspection", node.id)
        elif node.id in ATTRIBUTE_BUILTINS and id(node) not in self._called:
            self.add(node, "dynamic_attribute", node.id)
        dotted = self.aliases.get(node.id)
        if dotted and id(node) not in self._probes \
                and (code := _evasion_api(dotted)):
            self.add(node, code, dotted)

    @functools.cached_property
    def _displays(self) -> set[str]:
        """Names given a display that holds a module (``_TAB = {"torch": torch, ...}``)."""
        return {t.id for n in self.index.walk(self.index.tree) if isinstance(n, ast.Assign)
                and isinstance(n.value, (ast.Dict, ast.List, ast.Tuple))
                and any(dotted_path(v, self.aliases) for v in
                        (n.value.values if isinstance(n.value, ast.Dict) else n.value.elts))
                for t in n.targets if isinstance(t, ast.Name)}

    @functools.cached_property
    def _library_tables(self) -> set[str]:
        """Names given a library chosen from a table (``xp = {...}[BACKEND]``,
        ``_lib = _TAB[KEY]``), and functions that return one (``def _pick(): return
        {...}[KEY]``)."""
        found: set[str] = set()
        for n in self.index.walk(self.index.tree):
            if isinstance(n, ast.Assign) and self._from_a_library_table(n.value, names=False):
                found |= {t.id for t in n.targets if isinstance(t, ast.Name)}
            elif isinstance(n, ast.FunctionDef) and any(
                    isinstance(r, ast.Return) and r.value is not None and self._from_a_library_table(r.value, names=False)
                    for r in self.index.walk(n)):
                found.add(n.name)
        return found

    def _from_a_library_table(self, value: ast.AST, names: bool = True) -> bool:
        if isinstance(value, ast.Subscript) and (isinstance(value.value, (ast.Dict, ast.List, ast.Tuple))
                                                 or isinstance(value.value, ast.Name) and value.value.id in self._displays):
            return True
        if names and isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            return value.func.id in self._library_tables
        return names and isinstance(value, ast.Name) and value.id in self._library_tables

    def _taken_out_of_a_literal(self, node: ast.AST) -> bool:
        """Any module put in a list, tuple, set or dict display and taken out again in
        the same expression (``[torch.jit][0]``, ``{0: torch}[0]``): no honest code
        does that, and what it reaches through the module has no path to read."""
        parent = self.index.parent(node)
        if isinstance(parent, ast.Starred):
            parent = self.index.parent(parent)
        if not isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            return False
        if isinstance(parent, ast.Dict) and node not in parent.values:
            return False
        outer = self.index.parent(parent)
        if not (isinstance(outer, ast.Subscript) and outer.value is parent):
            return False
        # An array library chosen by a setting, ``{"torch": torch, "numpy": np}[BACKEND]``,
        # ``(math, torch)[is_tensor]``, ``{..: torch.linalg, ..: np.linalg}[BACKEND]``:
        # libraries (none of torch's autograd parts), looked up by a key not written there.
        if not isinstance(outer.slice, ast.Constant):
            paths = [dotted_path(v, self.aliases) for v in (parent.values if isinstance(parent, ast.Dict) else parent.elts)]
            if all(p and not _is_power_module(p) and _is_module_path(p)
                   and not any(part in TABLE_POWERS or part.startswith("_") for part in p.split(".")[1:])
                   for p in paths):
                return False
        return True

    def _in_plain_view(self, node: ast.AST) -> bool:
        """Whether a module named here stays where the scan can read what is reached
        through it: the start of an attribute path, an alias (``np = numpy``), printed,
        compared or tested (``if plt is not None``). Put in a list, passed to a
        function, returned or chosen by an expression (``[torch][0].autograd``,
        ``(lambda: sys)()``), it becomes a value whose attributes no path names."""
        parent = self.index.parent(node)
        if isinstance(parent, ast.Attribute):
            return parent.value is node
        if isinstance(parent, (ast.Assign, ast.AnnAssign)):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            # (in a class body the name is a class attribute: ``Lib.m.stack()`` has no path)
            return parent.value is node and all(isinstance(t, ast.Name) for t in targets) \
                and not isinstance(self.index.parent(parent), ast.ClassDef)
        if isinstance(parent, ast.Call):
            if isinstance(parent.func, ast.Attribute) and parent.func.attr in ("format", "format_map", "vformat"):
                return True  # what a template reaches through it is read by ``_format``
            return isinstance(parent.func, ast.Name) and parent.func.id in _SHOWS_A_MODULE and node in parent.args
        if isinstance(parent, ast.Match):
            return parent.subject is node  # what a case pattern reaches is read where it is
        if isinstance(parent, ast.BinOp):  # '%s' % torch
            return isinstance(parent.op, ast.Mod) and parent.right is node
        if isinstance(parent, (ast.Compare, ast.FormattedValue, ast.Expr)):
            return True
        return self._is_a_test(node)

    def _is_a_test(self, node: ast.AST) -> bool:
        """Whether ``node`` is only tested: an if's, while's or assert's test, under
        ``not``, or part of an and/or that is itself a test (``if np and torch:``)."""
        parent = self.index.parent(node)
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)):
            return parent.test is node
        if isinstance(parent, ast.UnaryOp):
            return isinstance(parent.op, ast.Not)
        return isinstance(parent, ast.BoolOp) and self._is_a_test(parent)

    def _may_evade(self, name: str) -> bool:
        """Whether a name could be a finding at all, before asking whose it is: most
        names (locals, parameters, plain functions) cannot."""
        known = self._suspect.get(name)
        if known is None:
            dotted = self.aliases.get(name)
            known = self._suspect[name] = (
                name in _EVASION_NAMES or name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS
                or bool(dotted and _evasion_api(dotted)))
        return known

    def _attribute(self, node: ast.AST, attr: str) -> None:
        if id(node) in self._probes:
            return
        if isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)) and not self._assignment_target(node):
            self._patch(node)  # a for loop's, a with's or a comprehension's target
        if attr in ("__init__", "__post_init__") and isinstance(node, ast.Attribute) \
                and isinstance(node.ctx, ast.Load) and id(node) in self.index.children_by_id:
            parent = self.index.parent(node)
            if not (isinstance(parent, ast.Call) and parent.func is node):
                # taken as a value (``C.__init__.__call__(obj)``): run on whatever it is given
                self.add(node, "patching", f"{attr} taken as a value")
        if attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDERS:
            if id(node) not in self.own_dicts and not (
                    isinstance(node, ast.Attribute) and id(node) in self.index.children_by_id
                    and isinstance(node.ctx, ast.Load)
                    and (self._only_shown(node) or attr == "__dict__" and self._own_instance(node.value))):
                # (``print(cfg.__dict__)``: a value only printed hands nothing on; the
                # namespace of a settings object of the module's own holds its own values)
                self.add(node, "introspection", attr)
        elif attr in FRAME_ATTRIBUTES:
            self.add(node, "introspection", attr)
        dotted = dotted_path(node, self.aliases)
        if dotted is None:
            # Reached through a value the scan cannot follow: torch's internals by name,
            # and torch's autograd parts through a table of libraries (``xp.func``).
            if attr in TORCH_INTERNALS:
                self.add(node, "module_internals", f"torch's {attr}")
            elif attr in TABLE_POWERS and isinstance(node, ast.Attribute) and isinstance(getattr(node, "ctx", None),
                                                                                      ast.Load) \
                    and self._from_a_library_table(node.value):
                self.add(node, "dynamic_attribute", f"torch.{attr} through a table of libraries")
            return
        if isinstance(node, ast.Attribute) and isinstance(getattr(node, "ctx", None), ast.Load) \
                and (_is_power_module(dotted) and not self._in_plain_view(node) or self._taken_out_of_a_literal(node)) \
                and _is_module_path(dotted):
            self.add(node, "dynamic_attribute", f"the module {dotted} as a value")
        if code := _evasion_api(dotted):
            self.add(node, code, dotted)
        elif internal := _module_internal(dotted, self.imported):
            self.add(node, "module_internals", internal)

    def _call(self, node: ast.Call, scopes: list[set[str]]) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("__init__", "__post_init__") \
                and not (node.args and self._own_first_parameter(node, node.args[0])) \
                and not (isinstance(func.value, ast.Name) and func.value.id in ("self", "cls")) \
                and not (isinstance(func.value, ast.Call) and getattr(func.value.func, "id", "") == "super"):
            # ``Base.__init__(self)`` is how a subclass starts; on another object it
            # writes into that object (a module) what the scan never sees written.
            self.add(node, "patching", f"{func.attr} called on another object")
        if isinstance(func, ast.Name) and func.id in ATTRIBUTE_BUILTINS and not self._own(func.id, scopes):
            self._called.add(id(func))
            if id(node) in self.own_attributes:
                return  # an instance's own attributes, in the __init__ that makes it
            if func.id in ("getattr", "hasattr") and node.args and isinstance(node.args[0], ast.Name) \
                    and node.args[0].id not in self.classes and self._own_instance(node.args[0]):
                return  # read from a settings object of the module's own (``getattr(CFG, f.name)``)
            name = node.args[1] if len(node.args) >= 2 else None
            if isinstance(name, ast.Name) and (names := self._looped_constants(node, name.id)):
                # ``for red in ("mean", "sum"): getattr(loss, red)()``: each name, as written
                # (plain names only: on a module too, they reach nothing a rule names)
                for constant in names:
                    attribute = ast.Attribute(value=node.args[0], attr=constant, ctx=ast.Load(), lineno=node.lineno)
                    self._attribute(attribute, constant)
                    if func.id in ("setattr", "delattr"):
                        self._patch(attribute)
                return
            if func.id == "setattr" and _adds_a_function(node) and node.args[0].id in self._own_class_targets:
                return  # d2l's add_to_class on the module's own classes: setattr(Class, obj.__name__, obj)
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
        elif isinstance(func, ast.Attribute) and func.attr == "register" and isinstance(func.value, ast.Name) \
                and func.value.id in self.classes:
            # An abstract class's register() makes any type (a module's) its virtual
            # subclass: its class patterns then read that object's attributes by name.
            self.add(node, "introspection", f"{func.value.id}.register (a class other objects become instances of)")
        if (dotted := dotted_path(func, self.aliases)) in RUNS_TEXT:
            given = list(node.args[:2]) + [k.value for k in node.keywords if k.arg in ("stmt", "setup")]
            if any(not isinstance(arg, (ast.Lambda, ast.Name, ast.Attribute)) for arg in given):
                self.add(node, "dynamic_code", f"{dotted}() of text")

    def _only_shown_call(self, func: ast.Name) -> bool:
        """``print(vars(cfg))``, ``print(locals())``: a namespace built only to be shown;
        or ``vars(CFG)`` of a settings object of the module's own (``_own_instance``)."""
        call = self.index.parent(func)
        if not (isinstance(call, ast.Call) and call.func is func and id(call) in self.index.children_by_id):
            return False
        if func.id == "vars" and len(call.args) == 1 and not call.keywords and self._own_instance(call.args[0]):
            return True
        return self._only_shown(call)

    def _only_shown(self, node: ast.AST) -> bool:
        """A value only shown (``only_looked_at``), or only made into text by pprint or
        json (``pprint(vars(cfg))``, ``json.dumps(vars(cfg), indent=2)``): text reaches
        nothing. (json without a ``default`` or ``cls``: those are handed the values.)"""
        if only_looked_at(node, self.index, shown=True):
            return True
        parent = self.index.parent(node)
        if isinstance(parent, ast.keyword) and parent.arg is None:  # "{x} {y}".format(**locals())
            call = self.index.parent(parent)
            return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                and call.func.attr == "format" and isinstance(call.func.value, ast.Constant) \
                and type(call.func.value.value) is str
        if not (isinstance(parent, ast.Call) and parent.args and parent.args[0] is node):
            return False
        made_text = dotted_path(parent.func, self.aliases)
        if made_text in ("pprint.pprint", "pprint.pp", "pprint.pformat", "pprint.saferepr"):
            return all(k.arg in ("indent", "width", "depth", "compact", "sort_dicts", "underscore_numbers")
                       for k in parent.keywords)
        if made_text == "json.dumps":
            return all(k.arg in ("indent", "sort_keys", "ensure_ascii", "separators", "skipkeys", "allow_nan")
                       for k in parent.keywords)
        return False

    def _own_instance(self, node: ast.AST) -> bool:
        """A settings object of the module's own: a name bound only at the module's top
        level (the main guard's bindings never run when graded), each time to an
        instance of a plain class of its own (``CFG = Config()``, ``CFG: Config =
        Config()``) or to a ``types.SimpleNamespace`` / ``argparse.Namespace`` of its
        own making; or the name of such a plain class itself. Its namespace holds what
        the module's own code put there, as its attributes do."""
        if not isinstance(node, ast.Name):
            return False
        known = self._own_namespaces.get(node.id)
        if known is None:
            known = self._own_namespaces[node.id] = self._an_own_namespace(node.id)
        return known

    def _an_own_namespace(self, name: str) -> bool:
        if name in self.classes:
            return self._plain_class(name)
        if name not in self.module_scope or _bound_elsewhere(self.index, name, allowed_assignments=True):
            return False
        bindings = [n for n in self.index.of(ast.Name) if n.id == name and not isinstance(n.ctx, ast.Load)]
        for binding in bindings:
            assign = self.index.parent(binding)
            if isinstance(assign, ast.Assign) and assign.targets == [binding] \
                    or isinstance(assign, ast.AnnAssign) and assign.target is binding:
                value = assign.value
            else:
                return False
            at_top = self.index.parent(assign)
            if at_top is not self.index.tree and not (isinstance(at_top, ast.If) and is_main_guard(at_top)):
                return False
            if not isinstance(value, ast.Call):
                return False
            made = dotted_path(value.func, self.aliases) if not isinstance(value.func, ast.Name) \
                or value.func.id not in self.classes else None
            if made in ("types.SimpleNamespace", "argparse.Namespace"):
                if isinstance(value.func, ast.Name) and _bound_elsewhere(self.index, value.func.id, imports_ok=True):
                    return False
                continue
            if not (isinstance(value.func, ast.Name) and value.func.id in self.classes
                    and self._plain_class(value.func.id)):
                return False
        # ``CFG.__class__ = Other`` would give it another class's namespace
        return bool(bindings) and not any(isinstance(n, ast.Attribute) and n.attr == "__class__"
                                          and not isinstance(n.ctx, ast.Load) for n in self.index.of(ast.Attribute))

    def _plain_class(self, name: str) -> bool:
        """One of the module's own classes, plain (no base but ``object``, no metaclass,
        no decorator but a dataclass, nothing of Python's protocol that makes its own
        namespace), whose name means the class wherever it is used."""
        classes = [c for c in self.index.of(ast.ClassDef) if c.name == name]
        if len(classes) != 1 or classes[0].keywords \
                or any(not (isinstance(b, ast.Name) and b.id == "object") for b in classes[0].bases) \
                or any(not self._the_dataclass_decorator(d) for d in classes[0].decorator_list):
            return False
        # the class's name means the class when the call runs: nothing else binds it
        # (``def Config(obj): return obj`` after the class would hand vars() anything)
        if _bound_elsewhere(self.index, name, besides=classes[0]):
            return False
        # a plain class: no namespace of its own making (``__dict__`` as a property,
        # ``__getattribute__``), whatever its decorators (a dataclass) add
        defined = {n.name for n in classes[0].body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))} | {
            t.id for n in classes[0].body if isinstance(n, (ast.Assign, ast.AnnAssign))
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
        if not all(not (d.startswith("__") and d.endswith("__")) or d in _PLAIN_CLASS_DUNDERS for d in defined):
            return False
        # nor an attribute set by a computed name, which could be ``__class__`` (an
        # instance given another class, whose __dict__ is what it makes it)
        for n in self.index.walk(classes[0]):
            if isinstance(n, ast.Call) and len(n.args) >= 2 and (
                    isinstance(n.func, ast.Name) and n.func.id == "setattr"
                    or isinstance(n.func, ast.Attribute) and n.func.attr == "__setattr__") \
                    and not (isinstance(n.args[1], ast.Constant) and type(n.args[1].value) is str
                             and n.args[1].value != "__class__"):
                return False
        return True

    def _the_dataclass_decorator(self, node: ast.AST) -> bool:
        """``@dataclass`` or ``@dataclasses.dataclass`` (called with options or not) that
        still means the standard one (``_the_standard``), in a module that sets no
        attribute by a computed name (``setattr(dataclasses, ...)``)."""
        return _the_standard(node.func if isinstance(node, ast.Call) else node, "dataclasses.dataclass", self.index,
                             self.aliases) \
            and not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("setattr", "delattr")
                        for n in self.index.of(ast.Call))

    def _looped_constants(self, node: ast.AST, name: str) -> list[str]:
        """The texts ``name`` takes when a ``for`` loop (or a comprehension) around
        ``node`` binds it from a literal tuple or list of texts, written there or in a
        module constant bound once; and nothing else in that function (or module) binds
        it; and each text is a plain name of torch's (``_plain_name``). Else none."""
        def names_it(loop: ast.AST) -> ast.AST | None:
            """The loop's target that is ``name`` (``for name in ...``, or ``for i, name
            in enumerate(...)``), or None."""
            target, iterated = loop.target, loop.iter  # type: ignore[attr-defined]
            if isinstance(target, ast.Name) and target.id == name:
                return target
            if isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name) \
                    and target.elts[1].id == name and isinstance(iterated, ast.Call) \
                    and isinstance(iterated.func, ast.Name) and iterated.func.id == "enumerate" \
                    and len(iterated.args) == 1 and not iterated.keywords \
                    and not _bound_elsewhere(self.index, "enumerate"):
                return target.elts[1]
            return None

        loop: ast.AST | None = None
        current = self.index.parent(node)
        while current is not None and not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                                               ast.ClassDef, ast.Module)):
            if isinstance(current, ast.For) and names_it(current) is not None:
                loop = current
                break
            if isinstance(current, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                loop = next((g for g in current.generators if names_it(g) is not None), None)
                if loop is not None:
                    break
            current = self.index.parent(current)
        if loop is None:
            return []
        bound = names_it(loop)
        iterated = loop.iter  # type: ignore[attr-defined]
        if isinstance(bound, ast.Name) and bound is not loop.target:  # type: ignore[attr-defined]
            iterated = iterated.args[0]  # enumerate's
        texts = self._literal_texts(iterated)
        if not texts or not all(_plain_name(t) for t in texts):
            return []
        scope = current  # a comprehension's variable is its own; a loop's, its function's
        while scope is not None and not isinstance(loop, ast.comprehension) \
                and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)):
            scope = self.index.parent(scope)
        if any(other is not bound and name in bound_names(other)
               for other in (self.index.walk(scope) if scope is not None else ())):
            return []
        return texts

    def _literal_texts(self, node: ast.AST) -> list[str]:
        """The texts of a literal tuple or list of texts, or of a module constant bound
        to one once and never bound, stored into or changed again."""
        if isinstance(node, ast.Name) and node.id in self.module_scope:
            bindings = [n for n in self.index.of(ast.Name) if n.id == node.id and not isinstance(n.ctx, ast.Load)]
            if len(bindings) != 1:
                return []
            assign = self.index.parent(bindings[0])
            if not (isinstance(assign, ast.Assign) and assign.targets == [bindings[0]]
                    and self.index.parent(assign) is self.index.tree):
                return []
            if any(isinstance(n, (ast.Attribute, ast.Subscript)) and isinstance(n.value, ast.Name)
                   and n.value.id == node.id and not isinstance(self.index.parent(n), (ast.For, ast.comprehension))
                   for n in self.index.of(ast.Attribute, ast.Subscript)):
                return []  # REDUCTIONS.append(...), REDUCTIONS[0] = ...
            node = assign.value
        if isinstance(node, (ast.Tuple, ast.List)) and node.elts \
                and all(isinstance(e, ast.Constant) and type(e.value) is str for e in node.elts):
            return [e.value for e in node.elts]
        return []

    def _own_first_parameter(self, node: ast.AST, value: ast.AST) -> bool:
        """Whether ``value`` is the first parameter of the method ``node`` is in (``self``
        or ``cls``), bound nowhere else in it: ``Base.__init__(self)`` in a subclass."""
        if not (isinstance(value, ast.Name) and value.id in ("self", "cls")):
            return False
        scope = self.index.parent(node)
        while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            scope = self.index.parent(scope)
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        positional = scope.args.posonlyargs + scope.args.args
        if not positional or positional[0].arg != value.id:
            return False
        return not any(n is not positional[0] and value.id in bound_names(n) for n in self.index.walk(scope)
                       if n is not scope)

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

    def _assignment_target(self, node: ast.AST) -> bool:
        """Whether a stored attribute is (part of) an assignment's or a del's target,
        which the statement's own reading passes to ``_patch``."""
        parent = self.index.parent(node)
        while isinstance(parent, (ast.Tuple, ast.List, ast.Starred)):
            parent = self.index.parent(parent)
        return isinstance(parent, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete))

    def _patch(self, target: ast.AST, setting: bool = False, value: ast.AST | None = None) -> None:
        """A store into torch or numpy changes them for everyone; a documented switch
        set to a flag's value (``torch.backends.cudnn.deterministic = True``) does not,
        nor does a constant set on another exercise module (``ex01_backward.VERBOSE =
        False``): ``value`` is what the store assigns, where the statement says."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._patch(item)
            return
        item = isinstance(target, ast.Subscript)
        if item:
            target = target.value
        if isinstance(target, ast.Attribute):
            dotted = dotted_path(target, self.aliases)
            if setting and dotted and dotted.startswith(SWITCHES) and not target.attr.startswith("_") \
                    and _is_switch(dotted):
                return
            root = dotted.split(".")[0] if dotted else None
            if root in EXERCISE_MODULES and not item and value is not None and _a_constant(value):
                return
            # torch and numpy, item stores included; the modules the sandbox runs on
            # and the other exercise modules by their attributes (json.dumps, hmac.digest,
            # ex02_jacobian.helper)
            if root in PATCHED_LIBRARIES or not item and root in self.imported and dotted not in HONEST_STORES \
                    and (root in RUNTIME_MODULES or root in EXERCISE_MODULES or root.startswith("_")):
                self.add(target, "patching", dotted)


MATCHES_ANYTHING = {"__instancecheck__", "__subclasscheck__", "__subclasshook__"}


# Where torch keeps its documented configuration flags (cudnn.deterministic,
# cuda.matmul.allow_tf32, ...): on a CPU none changes a value. A store there may
# set one that exists to a flag's value (a constant, a name such as a helper's
# ``deterministic`` parameter, ``not fast``), nothing else.
SWITCHES = ("torch.backends.",)


def _a_flag(value: ast.AST | None) -> bool:
    if isinstance(value, (ast.Constant, ast.Name)):
        return True
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
        return _a_flag(value.operand)
    if isinstance(value, ast.BoolOp):
        return all(_a_flag(v) for v in value.values)
    if isinstance(value, ast.Compare):
        return _a_flag(value.left) and all(_a_flag(v) for v in value.comparators)
    return False


def _a_constant(value: ast.AST) -> bool:
    """A literal number, bool or None (or a tuple of them): a value that is no API and
    names none, whatever module it is stored into. (A string may: a logging
    configuration's "ext://" path.)"""
    if isinstance(value, ast.Constant):
        return type(value.value) in (int, float, complex, bool, type(None))
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd, ast.Not)):
        return _a_constant(value.operand)
    if isinstance(value, ast.Tuple):
        return all(_a_constant(item) for item in value.elts)
    return False


def _is_switch(dotted: str) -> bool:
    """Whether torch already has the attribute a store under ``torch.backends`` sets."""
    owner, _, attr = dotted.rpartition(".")
    module = _module(owner)
    try:
        return module is not None and hasattr(module, attr)  # (cuda.matmul is an object, not a module)
    except Exception:  # noqa: BLE001 - a flag that cannot be read is no flag
        return False


# The only nodes _check has anything to say about.
_CHECKED = frozenset({ast.Import, ast.ImportFrom, ast.Name, ast.Attribute, ast.Call, ast.Assign, ast.AugAssign,
                      ast.AnnAssign, ast.Delete, ast.Match, ast.MatchClass})


# Modules with powers over Python itself: handed around as a value, what is reached
# through them (getattr by a computed name, a profile hook, a frame) has no path the
# scan can read. Libraries (torch, numpy, matplotlib) are honest values (``lib=np``,
# ``for m in (np, torch)``): what a submission calls through them is the recorder's
# to see, and their internals are found by name (``_C``, ``_execution_engine``).
POWER_MODULES = {"builtins", "sys", "gc", "inspect", "importlib", "operator", "types", "ctypes", "code", "codeop",
                 "marshal", "pickle", "runpy", "string", "threading", "traceback", "weakref", "functools", "os",
                 "posix", "nt", "io", "pydoc", "pkgutil", "zipimport", "dis", "opcode", "_thread"}


# torch's parts that run autograd, compile text or trace: reached through a table of
# libraries (``{"torch": torch, "numpy": np}[BACKEND].func``) no path names them.
TABLE_POWERS = frozenset({"func", "autograd", "jit", "library", "fx", "compiler", "export", "vmap"})


# The names that lead into torch's C core and its autograd engine, which compute
# gradients without any public API; none is a name honest code gives its own
# attributes (``self._tensor`` or ``self._functions`` are, and are not here).
TORCH_INTERNALS = frozenset({"_C", "_VF", "_execution_engine", "_EngineBase", "_ImperativeEngine",
                             "_VariableFunctions", "_VariableFunctionsClass", "_TensorBase", "_functorch"})


@functools.lru_cache(maxsize=None)
def _plain_name(name: str) -> bool:
    """A name that getattr may take from a list the code loops over: a public method
    or attribute of a tensor, or a public function or class of torch's own namespace
    (``mean``, ``sum``, ``sin``, ``relu``), that neither runs nor touches autograd,
    holds no module, and is no evasion API. Looked up on anything (a module handed in
    as an argument too), it reaches nothing the scan would not let it name."""
    import torch

    if not name.isidentifier() or name.startswith("_") or name in TABLE_POWERS \
            or any(part in name.lower() for part in ("grad", "backward", "hook", "vmap", "func", "jit", "compile",
                                                       "export", "library", "dual", "version", "load", "save",
                                                       "storage", "ptr", "apply", "map")):
        return False
    if name in dir(torch.Tensor):
        return True
    if "Parameter" in name or "Buffer" in name:  # a tensor that requires grad by another name
        return False
    for where, dotted in ((torch, "torch"), (torch.nn.functional, "torch.nn.functional"), (torch.nn, "torch.nn")):
        value = getattr(where, name, None)
        if value is not None and not isinstance(value, type(torch)) and callable(value) \
                and _evasion_api(f"{dotted}.{name}") is None:
            return True
    return False


def _is_power_module(dotted: str) -> bool:
    return dotted.split(".")[0] in POWER_MODULES


# Built-ins that only show or test a module handed to them.
_SHOWS_A_MODULE = {"print", "repr", "str", "id", "type", "isinstance", "issubclass", "hasattr", "dir", "help",
                   "bool", "getattr", "setattr", "delattr"}


@functools.lru_cache(maxsize=4096)
def _is_module_path(dotted: str) -> bool:
    return _is_module_object(_module(dotted))


def _adds_a_function(call: ast.Call) -> bool:
    """``setattr(C, obj.__name__, obj)``: a function added to a class under its own name
    (d2l's ``add_to_class``)."""
    if len(call.args) != 3 or call.keywords:
        return False
    target, name, value = call.args
    return (isinstance(target, ast.Name) and isinstance(value, ast.Name) and isinstance(name, ast.Attribute)
            and name.attr == "__name__" and isinstance(name.value, ast.Name) and name.value.id == value.id)


def _own_class_targets(index: Index, classes: set[str]) -> set[str]:
    """Names that only ever stand for the module's own classes: the classes themselves,
    and the parameter of a function (d2l's ``add_to_class(Class)``) every call of which
    in the module passes one of them. A function added to torch instead is patching."""
    targets = set(classes)
    calls = [n for n in index.of(ast.Call) if isinstance(n.func, ast.Name)]
    for function in index.of(ast.FunctionDef):
        params = function.args.posonlyargs + function.args.args
        if len(params) != 1:
            continue
        given = [c.args[0] if c.args else None for c in calls if c.func.id == function.name]
        if given and all(isinstance(a, ast.Name) and a.id in classes for a in given):
            targets.add(params[0].arg)
    return targets


def _instance_makers(index: Index) -> Iterator[tuple[str, list[ast.AST]]]:
    """For each ``__init__`` (or dataclass ``__post_init__``) of the module's classes:
    the name of its first parameter (the instance it makes) and the nodes of its own
    scope, when nothing in that scope binds the name again. Nested functions, lambdas
    and classes are another scope (their own ``self`` may be any object), and are left
    out. Only these two methods: their explicit call on another object is itself
    evasion (``_call``); another method could be called unbound with a module."""
    for cls in index.of(ast.ClassDef):
        for method in cls.body:
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    or method.name not in ("__init__", "__post_init__") or method.decorator_list:
                continue
            positional = method.args.posonlyargs + method.args.args
            if not positional:
                continue
            me = positional[0].arg
            own: list[ast.AST] = []
            todo: list[ast.AST] = [child for child in index.children(method) if child is not method.args]
            rebound = any(arg.arg == me for arg in positional[1:] + method.args.kwonlyargs
                          + [a for a in (method.args.vararg, method.args.kwarg) if a is not None])
            while todo and not rebound:
                node = todo.pop()
                rebound = me in bound_names(node)  # (a nested def's own name binds here)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                    continue  # another scope: its own ``self`` may be any object
                own.append(node)
                todo.extend(index.children(node))
            if not rebound:
                yield me, own


def _own_instance_attributes(makers: list[tuple[str, list[ast.AST]]], index: Index,
                             aliases: dict[str, str]) -> set[int]:
    """The ``setattr`` and ``getattr`` calls that only set or read the instance that
    ``__init__`` (or a dataclass's ``__post_init__``) makes, as ``_own_instance_dicts``
    allows: ``setattr(self, key, value)`` (a settings class filled from keyword
    arguments), and ``getattr(self, f.name)`` over ``dataclasses.fields(self)``."""
    allowed: set[int] = set()
    for me, own in makers:
        fields = {loop.target.id for loop in own if isinstance(loop, (ast.For, ast.comprehension))
                  and isinstance(loop.target, ast.Name) and isinstance(loop.iter, ast.Call)
                  and _the_standard(loop.iter.func, "dataclasses.fields", index, aliases)}
        for node in own:
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) >= 2
                    and isinstance(node.args[0], ast.Name) and node.args[0].id == me):
                continue
            name = node.args[1]
            if node.func.id == "setattr" and len(node.args) == 3 or node.func.id == "hasattr" \
                    or node.func.id == "getattr" and isinstance(name, ast.Attribute) and name.attr == "name" \
                    and isinstance(name.value, ast.Name) and name.value.id in fields:
                allowed.add(id(node))
    return allowed


def _the_standard(func: ast.AST, dotted: str, index: Index, aliases: dict[str, str]) -> bool:
    """Whether ``func`` names the standard ``dotted`` function, its name (or its
    module's) bound by nothing but an import, and nothing stored under its last name
    anywhere (``dataclasses.dataclass = ...``): not the student's own."""
    if dotted_path(func, aliases) != dotted:
        return False
    root = func
    while isinstance(root, ast.Attribute):
        root = root.value
    return isinstance(root, ast.Name) and not _bound_elsewhere(index, root.id, imports_ok=True) \
        and not any(isinstance(n, ast.Attribute) and n.attr == dotted.rsplit(".", 1)[1]
                    and not isinstance(n.ctx, ast.Load) for n in index.of(ast.Attribute))


def _bound_elsewhere(index: Index, name: str, *, besides: ast.AST | None = None, allowed_assignments: bool = False,
                     imports_ok: bool = False) -> bool:
    """Whether anything in the module binds ``name`` but ``besides`` (its class), plain
    assignments when they are ``allowed_assignments`` (judged by the caller), and
    imports when ``imports_ok``."""
    for n in index.of(*BINDERS):
        if n is besides or name not in bound_names(n) or imports_ok and isinstance(n, ast.alias):
            continue
        if allowed_assignments and isinstance(n, ast.Name) and isinstance(index.parent(n), (ast.Assign, ast.AnnAssign)):
            continue
        return True
    return False


def _own_instance_dicts(makers: list[tuple[str, list[ast.AST]]]) -> set[int]:
    """The dunder nodes that only write to the instance ``__init__`` (or a dataclass's
    ``__post_init__``) makes: ``self.__dict__.update(...)`` and ``self.__dict__[key] =
    value`` (a settings class filled from keyword arguments), and a frozen dataclass's
    ``object.__setattr__(self, "name", value)``. Reading through ``__dict__`` stays
    introspection."""
    allowed: set[int] = set()
    for me, own in makers:
        def instance_dict(node: ast.AST) -> bool:
            return (isinstance(node, ast.Attribute) and node.attr == "__dict__"
                    and isinstance(node.value, ast.Name) and node.value.id == me)

        for node in own:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "update" and instance_dict(node.func.value):
                allowed.add(id(node.func.value))
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                    and instance_dict(node.value):
                allowed.add(id(node.value))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "__setattr__" and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == "object" and len(node.args) == 3 \
                    and isinstance(node.args[0], ast.Name) and node.args[0].id == me:
                # a frozen dataclass setting its own fields: object.__setattr__(self, f.name, v)
                allowed.add(id(node.func))
    return allowed


def star_bindings(imports: list[ast.AST]) -> dict[str, str]:
    """Every public name a readable ``from M import *`` binds, as an alias
    (``jacobian`` -> ``torch.autograd.functional.jacobian``): the not-allowed rules then
    find a use of one as they find any other. A module that cannot be read binds none."""
    found: dict[str, str] = {}
    for node in imports:
        if not (isinstance(node, ast.ImportFrom) and node.module and not node.level
                and any(a.name == "*" for a in node.names)) or node.module == "builtins":
            continue
        module = _module(node.module)
        if not _is_module_object(module):
            continue
        public = getattr(module, "__all__", None)
        if not (isinstance(public, (list, tuple)) and all(type(n) is str for n in public)):
            public = [n for n in vars(module) if not n.startswith("_")]
        found.update({name: f"{node.module}.{name}" for name in public})
    return found


def _is_import_alias(imports: list[ast.AST], name: str) -> bool:
    """Whether ``name`` is bound by ``import x`` / ``import x as name`` (always a module),
    or by ``from x import name`` where ``x.name`` is a module."""
    for node in imports:
        if isinstance(node, ast.Import) and name in imported_names(node):
            return True
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if (a.asname or a.name) == name and _is_module_object(_module(f"{node.module}.{a.name}")):
                    return True
    return False
