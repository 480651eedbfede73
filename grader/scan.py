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
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

from . import evasion
from .pyast import (DEFS, GRADER_PACKAGES, Finding, Index, branches, dotted_path, getattr_constant, import_aliases,
                    imported_names, is_main_guard, only_looked_at)
from .taskrecord import RECORDED
from .tasks import MODULES, TASKS, Task

__all__ = ["Finding", "ModuleScan", "scan_module"]


@dataclass
class ModuleScan:
    """One module's scan. The tree is walked once (``index``); what the tasks ask
    of it is worked out when first asked and kept, so a module's 3 to 4 tasks and
    their rules share the work."""

    module: str
    present: bool
    syntax_error: Finding | None = None
    defined: set[str] = field(default_factory=set)
    tree: ast.Module | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    index: Index | None = field(default=None, repr=False, compare=False)

    def escapes_for(self, task: Task) -> list[Finding]:
        """Deliberate evasion in the code this task runs: the module's top-level
        code, the functions it reaches, and the imports those use.

        Evasion used only inside one task costs that task; code at module level
        that evades costs every task of the module.
        """
        if self.tree is None:
            return []
        return self._reader.find(self._task_code(task.name))

    @cached_property
    def escapes(self) -> list[Finding]:
        """Deliberate evasion anywhere in the module but its main guard."""
        if self.tree is None:
            return []
        return self._reader.find([n for n in self.tree.body if not is_main_guard(n)])

    @cached_property
    def module_level_escapes(self) -> list[Finding]:
        """Deliberate evasion in the code that runs when the module is imported."""
        if self.tree is None:
            return []
        return self._reader.find(self._task_code(None))

    @cached_property
    def digest(self) -> str | None:
        """The module's syntax tree without positions, hashed: the same for the same
        code however it is laid out (``static.untouched_stub`` compares it)."""
        if self.tree is None:
            return None
        return hashlib.sha256(ast.dump(self.tree, include_attributes=False).encode()).hexdigest()

    @property
    def task_names(self) -> set[str]:
        return {task.name for task in TASKS if task.module == self.module}

    @cached_property
    def identifiers(self) -> set[str]:
        """Every name the code uses (names, attributes, keywords, imports), not its text."""
        if self.index is None:
            return set()
        found: set[str] = set()
        for node in self.index.of(ast.Name, ast.Attribute, ast.keyword, ast.Import, ast.ImportFrom):
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, ast.keyword):
                if node.arg:
                    found.add(node.arg)
            else:
                found.update(part for a in node.names for part in a.name.split("."))
                found.update((getattr(node, "module", None) or "").split("."))
        return found

    def forbidden_uses(self, task: Task, others: Mapping[str, ModuleScan] | None = None) -> list[Finding]:
        """Uses of the task's not-allowed APIs in the code the task runs, and in what it
        runs of the submission's other modules (``others``, by module name): a name
        imported from one of them brings the code that name reaches there. A use in
        another module names that module in its detail."""
        if self.tree is None or not task.forbidden_scan:
            return []
        scope = self._in_scope(task)
        found = _forbidden_in([self._api_uses(node) for node in scope] + [self._imported_as(task.name)], task)
        if found or not others:
            return found
        todo, seen = sorted(self._foreign(scope)), set()
        while todo:
            module, name = todo.pop()
            other = others.get(module)
            if (module, name) in seen or other is None or other.tree is None:
                continue
            seen.add((module, name))
            reached = other._reach_name(name)
            there = _forbidden_in([other._api_uses(node) for node in reached] + [other._imported_as(name)], task)
            if there:
                return [Finding(f.line, f.code, f"{f.detail} ({module}.py)") for f in there]
            todo += sorted(other._foreign(reached))
        return []

    def _foreign(self, nodes: list[ast.AST]) -> set[tuple[str, str]]:
        """(module, name) for each name of another of the exercise modules that
        ``nodes`` use: ``from ex01_backward import helper``, ``ex01_backward.helper``."""
        assert self.tree is not None and self.index is not None
        found: set[tuple[str, str]] = set()
        for node in nodes:
            for _, dotted, _, _ in self._api_uses(node):
                if dotted and dotted.count(".") >= 1:
                    module, name = dotted.split(".")[:2]
                    if module in MODULES and module != self.module:
                        found.add((module, name))
        # ``from ex01_backward import *``: any name not bound here may come from there
        starred = [n.module for n in self.tree.body if isinstance(n, ast.ImportFrom) and not n.level
                   and n.module in MODULES and n.module != self.module and any(a.name == "*" for a in n.names)]
        if starred:
            free = {name for node in nodes for name in self._free_names(node)} - self.defined - set(self.aliases)
            found |= {(module, name) for module in starred for name in free}
        return found

    def _imported_as(self, name: str) -> list[_Use]:
        """An import that binds the task's own name makes the task that API
        (``from torch.autograd.functional import jacobian as jacobian_from_vjps``)."""
        assert self.tree is not None
        uses: list[_Use] = []
        for node in self.tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                uses += [(node.lineno, f"{node.module}.{a.name}", None, None) for a in node.names if a.asname == name
                         or a.asname is None and a.name == name]
            elif isinstance(node, ast.Import):
                uses += [(node.lineno, a.name, None, None) for a in node.names if a.asname == name]
        return uses

    # What the tasks share, worked out once ------------------------------------

    @cached_property
    def _reader(self) -> evasion.Reader:
        assert self.tree is not None and self.index is not None
        return evasion.Reader(self.tree, self.aliases, self.index)

    @cached_property
    def _layout(self) -> _Layout:
        assert self.tree is not None and self.index is not None
        return _Layout(self.tree, self.index, self.task_names)

    def _task_code(self, start: str | None) -> list[ast.AST]:
        """Top-level statements a task runs: module-level code (never the main guard),
        the definitions reachable from ``start`` (None: none), and the imports whose
        names those use."""
        assert self.index is not None
        layout = self._layout
        own = layout.reach([start], set(layout.reached_names)) if start else []
        used = layout.used | self.index.names_in(own)
        return layout.module_code + layout.reached + own + [
            node for node in layout.imports if layout.always[id(node)] or imported_names(node) & used]

    # "Not allowed" APIs -------------------------------------------------------------

    @cached_property
    def _bindings(self) -> dict[str, list[ast.AST]]:
        """What a name means at module level: a definition, or the statement that
        assigns it (``jac = lambda x: ...`` runs the lambda's body when the task calls
        ``jac``). Any statement that binds a name counts, however it binds it: an
        assignment, a for loop's target, a with's "as", a walrus, inside an if or a try."""
        assert self.tree is not None
        defs: dict[str, list[ast.AST]] = {}
        for node in self.tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) or is_main_guard(node):
                continue
            pairs = _pairs(node)
            if pairs:  # a, b = f, g: each name means its own value
                for name, value in pairs:
                    defs.setdefault(name, []).append(value)
                continue
            for name in evasion.module_bindings(node, self.index):
                defs.setdefault(name, []).append(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in self._at_import:
                # ``global _tools; _tools = {...}`` in a function run at import binds it
                for name in {n for g in self.index.walk(node) if isinstance(g, ast.Global) for n in g.names}:
                    defs.setdefault(name, []).append(node)
        return defs

    @cached_property
    def _at_import(self) -> set[str]:
        """The module's functions run at import: called by module-level code (class bodies,
        decorators and defaults included), or by one of these."""
        assert self.tree is not None
        functions = self._functions
        at_import, todo = set(), self._called(self._layout.module_code)
        while todo:
            name = todo.pop()
            if name not in at_import:
                at_import.add(name)
                todo |= self._called([functions[name]])
        return at_import

    @cached_property
    def _functions(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        assert self.tree is not None
        return {node.name: node for node in self.tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def _called(self, nodes: list[ast.AST]) -> set[str]:
        """The module's functions called by name in ``nodes``, or handed by name to a
        call there that may run them at once (``weakref.finalize(token, _fill)``,
        ``map``, ``sorted(key=)``); not to one that only keeps them (``dict(f=f)``,
        ``atexit.register``, which runs them after every task)."""
        found = set()
        for node in nodes:
            for n in self.index.walk(node):
                if not isinstance(n, ast.Call):
                    continue
                if isinstance(n.func, ast.Name) and n.func.id in self._functions:
                    found.add(n.func.id)
                callee = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", None)
                if callee in _RUNS_WHAT_IT_IS_HANDED:
                    found |= {a.id for a in list(n.args) + [k.value for k in n.keywords]
                              if isinstance(a, ast.Name) and a.id in self._functions}
        return found

    @cached_property
    def _changes(self) -> dict[str, list[ast.AST]]:
        """The module-level statements and functions that change a name's object without
        rebinding it (``box.forward = api``, ``_register()`` filling a dict): what they
        put there is what the task finds when it uses the name. They are read for the
        APIs they name, not followed further (a self-check at import,
        ``checker.compare(f, x)``, is not the task's code)."""
        assert self.tree is not None
        modules = {name for node in self.tree.body if isinstance(node, ast.Import) for name in imported_names(node)}
        functions, at_import, called = self._functions, self._at_import, self._called

        def stores(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
            """The module-level objects a function stores into or adds to."""
            return _changed_objects(function.body, self.index, modules, calls=False) - self._reader.local_names(function)

        changes: dict[str, list[ast.AST]] = {}
        for node in self.tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) or is_main_guard(node):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # A function run at import (``_register()``), by what it stores or adds (a
                # function calling log.debug() changes nothing; a task counting its
                # calls in a dict does so when it runs, not before the task does).
                if node.name not in at_import:
                    continue
                changed = stores(node)
            elif isinstance(node, ast.ClassDef):
                # its body runs at import like module-level code: _tools.update(...) there
                body = [statement for statement in node.body if not isinstance(statement, DEFS)]
                changed = _changed_objects(body, self.index, modules)
            else:
                changed = _changed_objects([node], self.index, modules)
                # what a call of such a function is given goes where it stores it:
                # _put("j", api) with _put storing into a registry
                for name in called([node]) & at_import:
                    changed |= stores(functions[name])
            for name in changed:
                changes.setdefault(name, []).append(node)
        return changes

    @cached_property
    def _plain_classes(self) -> set[str]:
        """The module's classes that derive only from ``object``, abstract bases and
        protocols (``abc.ABC``, ``typing.Protocol``, ``Generic[T]``) or others of these."""
        assert self.tree is not None
        plain: set[str] = set()
        classes = [n for n in self.tree.body if isinstance(n, ast.ClassDef)]
        grew = True
        while grew:
            grew = False
            for c in classes:
                if c.name not in plain \
                        and all(k.arg == "metaclass" and _plain_base(k.value, self.aliases) for k in c.keywords) \
                        and all(isinstance(b, ast.Name) and (b.id in plain or b.id in PLAIN_BUILTIN_BASES
                                                             and b.id not in self._bindings)
                                or _plain_base(b, self.aliases) for b in c.bases):
                    plain.add(c.name)
                    grew = True
        return plain

    def _in_scope(self, task: Task) -> list[ast.AST]:
        """The code a task's "not allowed" rules apply to: what the task's own code runs
        when it is called (its function, or for a scope of ``"Class.method"`` places
        those methods, and every top-level definition they name). Module-level code runs at import, not
        when the task runs; an alias it binds is still followed (``J = jacobian``)."""
        assert self.tree is not None
        if task.scope:
            scoped = {tuple(place.split(".", 1)) for place in task.scope}
            # Every class and method of those names: the one defined last is the one that runs.
            # ... or a statement of the class that binds such a name (forward =
            # staticmethod(_forward)): what it names runs as that method.
            owners = [owner for owner in self.tree.body if isinstance(owner, ast.ClassDef)]
            for name in {owner.name for owner in owners}:
                same = [owner for owner in owners if owner.name == name]
                if len(same) > 1 and not self._read_between(name, same[0], same[-1]):
                    owners = [owner for owner in owners if owner.name != name or owner is same[-1]]
            def last_of_each(body: list[ast.stmt]) -> list[ast.stmt]:
                """A class body's statements, a method defined twice only as its last (unless
                the body reads the name: ``_first = backward`` keeps the earlier one)."""
                last = {node.name: node for node in body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
                read = {n.id for node in body if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                        for n in self.index.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                return [node for node in body if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                        or last[node.name] is node or node.name in read]

            start = [node for owner in owners
                     for node in last_of_each(owner.body) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and (owner.name, node.name) in scoped
                     or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and any((owner.name, name) in scoped for name in evasion.module_bindings(node, self.index))]
            return self._reach(start, {owner for owner, _ in scoped})
        return self._reach_name(task.name)

    def _reach_name(self, name: str) -> list[ast.AST]:
        """What using a module-level name runs: its definition, and whatever else binds
        it at module level (the last binding is the one that runs:
        ``jacobian_by_hand = partial(api, f)``), with all they reach."""
        assert self.tree is not None
        start = [node for node in self.tree.body if isinstance(node, DEFS) and node.name == name]
        if len(start) > 1 and not self._read_between(name, start[0], start[-1]):
            # Defined again further down, and nothing read the earlier one in between
            # (``_v1 = f``, a decorator that registers it): only the last one is there.
            start = start[-1:]
        start += [node for node in self._bindings.get(name, []) if node not in start
                  and not (isinstance(node, DEFS) and node.name == name)]
        return self._reach(start)

    def _keeps_nothing(self, decorator: ast.AST) -> bool:
        """A decorator of torch's, functools', dataclasses' or a builtin one (not one of
        the module's own of the same name) only wraps what it is given."""
        name = _last_name(decorator)
        if name not in _KEEPS_NOTHING or name in self._functions:
            return False
        dotted = dotted_path(decorator, self._reader.aliases) or ""
        return dotted.split(".")[0] in ("torch", "functools", "dataclasses") or dotted == name \
            and name in ("staticmethod", "classmethod", "property")

    def _read_between(self, name: str, first: ast.AST, last: ast.AST) -> bool:
        """Whether module-level code between two definitions of ``name`` reads it (what
        the definitions themselves run included: decorators, defaults, bases;
        ``def f(x, _old=f)`` keeps the earlier one)."""
        assert self.tree is not None
        body = self.tree.body
        between = [node for node in body[body.index(first):body.index(last) + 1] if not is_main_guard(node)]
        for node in between:
            if isinstance(node, ast.ClassDef):
                parts = list(node.decorator_list) + list(node.bases) + [k.value for k in node.keywords]
            elif isinstance(node, DEFS):
                parts = list(node.decorator_list) + list(node.args.defaults) + \
                    [d for d in node.args.kw_defaults if d is not None]
            else:
                parts = [node]
            for part in parts:
                for n in self.index.walk(part):
                    # read as a value (not only called: a try-out's result is thrown away)
                    if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) \
                            and not (isinstance(self.index.parent(n), ast.Call) and self.index.parent(n).func is n):
                        return True
                    # the module importing its own earlier definition (or itself)
                    if isinstance(n, ast.ImportFrom) and n.module == self.module and not n.level \
                            and any(a.name in (name, "*") for a in n.names) \
                            or isinstance(n, ast.Import) and any(a.name == self.module for a in n.names):
                        return True
            if isinstance(node, DEFS) and node.name == name and node is not last and any(
                    not self._keeps_nothing(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list):
                return True  # a decorator that may keep the earlier definition (a registry)
        return False

    def _reach(self, start: list[ast.AST], scope_classes: set[str] | frozenset[str] = frozenset()) -> list[ast.AST]:
        """``start`` and what it reaches. ``scope_classes``: the classes whose methods a
        task's scope names; reached from those methods (``SmoothReLU.helper(x)`` in
        its backward), such a class is read as a plain class is, its other methods
        only where something reached names them."""
        defs, changes = self._bindings, self._changes
        out, todo, seen = list(start), sorted(set().union(*map(self._free_names, start)) if start else set()), set()
        changed: list[ast.AST] = []
        methods: list[ast.AST] = []  # of plain classes reached, not yet known to run
        while True:
            while todo:
                name = todo.pop()
                if name in seen:
                    continue
                seen.add(name)
                for node in changes.get(name, []):
                    if node not in changed:
                        changed.append(node)
                        # What was put in it; for a function run at import that fills it,
                        # all it uses: the helpers that made what it stores
                        # (``_built["j"] = _trace()``, whose _trace built the object).
                        todo.extend(self._free_names(node) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                                    else _stored_names(node, self.index))
                for node in defs.get(name, []):
                    parts = _class_parts(node, self._plain_classes | scope_classes)
                    if parts is None:
                        out.append(node)
                        todo.extend(self._free_names(node))
                        continue
                    head, own_methods = parts
                    out.extend(head)
                    todo.extend(set().union(*(self.index.names(part) for part in head)) if head else ())
                    methods.extend(own_methods)
            # A method of a plain class runs when something reached names it (an attribute
            # of that name anywhere, or a statement of its class: ``jac = property(_get)``)
            # or Python calls it itself (a dunder, an Enum's sunder such as _missing_, or a
            # method a protocol calls by name: print(file=obj) calls obj.write).
            called = set()
            for n in (n for node in out for n in self.index.walk(node)):
                if isinstance(n, (ast.Attribute, ast.Name)):
                    called.add(n.attr if isinstance(n, ast.Attribute) else n.id)
                elif found := getattr_constant(n):
                    called.add(found[1])
            runs = [m for m in methods if m.name in called or m.name.startswith("_") and m.name.endswith("_")
                    or m.name in CALLED_BY_PROTOCOL]
            if not runs:
                return out + [node for node in changed if node not in out]
            methods = [m for m in methods if m not in runs]
            out.extend(runs)
            for method in runs:
                todo.extend(self._free_names(method))

    def _free_names(self, node: ast.AST) -> set[str]:
        """The names a definition reads from outside itself: a function's parameters and
        locals are its own, not the module's (a parameter ``x`` is no module-level ``x``)."""
        assert self.index is not None
        used = self.index.names(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return used - self._reader.local_names(node)
        return set(used)

    def _api_uses(self, root: ast.AST) -> list[_Use]:
        assert self.index is not None
        known = self._uses.get(id(root))
        if known is None:
            own = isinstance(root, ast.ClassDef) and root.name in self._plain_classes or id(root) in self._own_methods
            known = self._uses[id(root)] = _api_uses(root, self.index, self.aliases, own)
        return known

    @cached_property
    def _own_methods(self) -> set[int]:
        """The methods of the module's own plain classes, by node id."""
        assert self.tree is not None
        return {id(m) for c in self.tree.body if isinstance(c, ast.ClassDef) and c.name in self._plain_classes
                for m in c.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}

    @cached_property
    def _uses(self) -> dict[int, list[_Use]]:
        return {}


class _Layout:
    """How a module's top level splits for the evasion scan, the same for every task:
    the code that runs at import, the definitions it reaches, the imports."""

    def __init__(self, tree: ast.Module, index: Index, tasks: set[str]) -> None:
        self.index = index
        self.defs = {node.name: node for node in tree.body if isinstance(node, DEFS)}
        self.imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        module_code = [node for node in tree.body
                       if not isinstance(node, DEFS + (ast.Import, ast.ImportFrom)) and not is_main_guard(node)]
        postponed = _postponed_annotations(tree)
        self.module_code = module_code + [part for node in self.defs.values()
                                          for part in _runs_at_import(node, postponed)]
        self.reached_names: set[str] = set()
        self.reached = self.reach(sorted(index.names_in(self.module_code)), self.reached_names)
        self.used = index.names_in(self.module_code + self.reached)
        self.always = {id(node): self._runs_for_everyone(node, tasks) for node in self.imports}

    def reach(self, todo: list[str], seen: set[str]) -> list[ast.AST]:
        """The definitions reachable from the names in ``todo`` that are not in ``seen``
        (which gains them)."""
        reached: list[ast.AST] = []
        todo = list(todo)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.defs:
                continue
            seen.add(name)
            reached.append(self.defs[name])
            todo.extend(self.index.names(self.defs[name]))
        return reached

    def _runs_for_everyone(self, node: ast.Import | ast.ImportFrom, tasks: set[str]) -> bool:
        # A relative import, an import of the grader's own code, one that rebinds a
        # function of the module, or a star import (names unknown) changes what every task is.
        roots = {a.name.split(".")[0] for a in node.names} if isinstance(node, ast.Import) \
            else {(node.module or "").split(".")[0]}
        return (bool(getattr(node, "level", 0)) or bool(roots & GRADER_PACKAGES)
                or bool(imported_names(node) & (set(self.defs) | tasks | {"*"})))


def scan_module(module: str, source: str | None) -> ModuleScan:
    if source is None:
        return ModuleScan(module, present=False)
    try:
        tree = ast.parse(source, filename=f"{module}.py")
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        msg = getattr(exc, "msg", str(exc))
        return ModuleScan(module, True, syntax_error=Finding(line, "syntax_error", msg))
    except (RecursionError, MemoryError):  # Python cannot compile it either
        return ModuleScan(module, True, syntax_error=Finding(0, "syntax_error", "too deeply nested"))
    index = Index(tree)
    aliases = import_aliases(tree, index)
    stars = evasion.star_bindings(index.of(ast.ImportFrom))
    if stars:
        # A name the module binds itself anywhere (``grad = torch.zeros_like(x)``, a
        # parameter, a function) is its own, not the star import's; an explicit import
        # or assignment wins too.
        own = {n.id for n in index.of(ast.Name) if not isinstance(n.ctx, ast.Load)}
        own |= {a.arg for n in index.of(ast.arguments) for a in n.posonlyargs + n.args + n.kwonlyargs
                + [n.vararg, n.kwarg] if a is not None}
        own |= {n.name for n in index.of(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)}
        aliases = {**{k: v for k, v in stars.items() if k not in own}, **aliases}
    return ModuleScan(module, True, defined=_top_level_names(tree, index), tree=tree, aliases=aliases, index=index)


# Bases that add no behaviour of their own to a class's methods.
PLAIN_BASES = {"object", "abc.ABC", "abc.ABCMeta", "typing.Protocol", "typing.Generic", "typing_extensions.Protocol",
               # records and enumerations: Python calls only their dunder and sunder
               # methods (an Enum's _missing_) of its own accord
               "typing.NamedTuple", "typing_extensions.NamedTuple", "enum.Enum", "enum.IntEnum", "enum.StrEnum",
               "enum.Flag", "enum.IntFlag"}
# Methods that Python or the standard library call by name on an object handed to them:
# a file's (print, json.dump), a mapping's (** and dict()), a record's own (namedtuple's
# _replace calls _make), a logging handler's, a codec's.
CALLED_BY_PROTOCOL = frozenset({
    "write", "writelines", "flush", "read", "readline", "readlines", "readinto", "seek", "tell", "close",
    "fileno", "isatty", "readable", "writable", "seekable", "truncate",
    "keys", "items", "values", "get", "copy", "update", "setdefault", "pop", "popitem",
    "append", "extend", "insert", "remove", "index", "count", "sort", "reverse",
    "send", "throw", "recv", "encode", "decode", "format", "emit", "handle", "filter", "acquire", "release",
    "_make", "_replace", "_asdict", "_missing_", "_generate_next_value_", "_fields",
})
# Built-in types a helper class may extend (class Mode(str, Enum)). Python calls their
# dunder methods of its own accord, and the standard library some ordinary ones by name
# (os.path.join calls a str's startswith): what those run is recorded at run time, and
# a graph built there counts where no autograd is allowed.
PLAIN_BUILTIN_BASES = frozenset({"str", "int", "float", "complex", "bytes", "tuple", "list", "dict", "set",
                                 "frozenset"})
# A record made by a call (``class P(namedtuple("P", "r theta"))``): plain when given
# only literals.
PLAIN_BASE_FACTORIES = {"collections.namedtuple", "typing.NamedTuple"}


def _plain_base(base: ast.AST, aliases: dict[str, str]) -> bool:
    if isinstance(base, ast.Subscript):  # Generic[T], Protocol[T]
        base = base.value
    if isinstance(base, ast.Name) and base.id == "object":
        return True
    if isinstance(base, ast.Call):
        return dotted_path(base.func, aliases) in PLAIN_BASE_FACTORIES \
            and all(_literal(arg) for arg in base.args + [k.value for k in base.keywords])
    return dotted_path(base, aliases) in PLAIN_BASES


def _literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, (ast.List, ast.Tuple)) and all(_literal(item) for item in node.elts)


def _pairs(node: ast.AST) -> list[tuple[str, ast.AST]]:
    """``a, b = f, g`` as [("a", f), ("b", g)]; [] for any other statement."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
        return []
    target, value = node.targets[0], node.value
    if not (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
            and len(target.elts) == len(value.elts) and all(isinstance(t, ast.Name) for t in target.elts)
            and not any(isinstance(v, ast.Starred) for v in value.elts)):
        return []
    return [(t.id, v) for t, v in zip(target.elts, value.elts)]


def _last_name(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


# Decorators that only wrap a definition (no registry keeps the earlier one of a name).
_KEEPS_NOTHING = frozenset({"no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "lru_cache", "cache",
                            "wraps", "staticmethod", "classmethod", "property", "once_differentiable",
                            "cached_property", "total_ordering", "dataclass"})


# Calls that may run a function they are handed while the module is imported: a
# finalizer or weak reference's callback (on the object's death), the builtins that
# call what they are given.
_RUNS_WHAT_IT_IS_HANDED = frozenset({"finalize", "ref", "proxy", "WeakMethod", "map", "filter", "reduce", "sorted",
                                     "min", "max", "starmap", "accumulate", "call", "apply", "run"})


def _stored_names(node: ast.AST, index: Index) -> set[str]:
    """The names a module-level statement puts into an object: the value of an
    attribute or item store, the arguments of a method call (not the object itself);
    none for a function (``_reach`` follows what it uses)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return set()
    names: set[str] = set()
    for n in index.walk(node):
        if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and n.value is not None:
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            if any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets):
                names |= index.names(n.value)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
            for arg in list(n.args) + [k.value for k in n.keywords]:
                names |= index.names(arg)
    return names


def _class_parts(node: ast.AST, plain: set[str]) -> tuple[list[ast.AST], list[ast.FunctionDef | ast.AsyncFunctionDef]] | None:
    """A plain class (one of ``plain``: see ``ModuleScan._plain_classes``) as what runs
    whenever it is used (decorators, its body's statements, its bases) and its methods,
    each of which runs only when called; None for anything else (a subclass of torch's
    runs methods of its own accord: an nn.Module's forward, a Function's backward)."""
    if not isinstance(node, ast.ClassDef) or node.name not in plain:
        return None
    head: list[ast.AST] = list(node.decorator_list) + list(node.bases)
    methods = []
    for statement in node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.append(statement)
            # What defining it runs, when the class is made: decorators and defaults.
            head += statement.decorator_list + statement.args.defaults
            head += [d for d in statement.args.kw_defaults if d is not None]
        else:
            head.append(statement)
    return head, methods


# Methods that put what they are given into their object (a registry's update, a
# list's append, a module's register_forward_hook).
MUTATORS = ("append", "extend", "insert", "update", "setdefault", "add", "register", "__setitem__", "put")


def _changed_objects(statements: list[ast.stmt], index: Index, modules: set[str], calls: bool = True) -> set[str]:
    """The names whose objects statements change without rebinding them: an attribute or
    item stored (``box.forward = api``, ``table["f"] = api``), a method called on them
    anywhere (``hooks.append(api)``, ``_ = box.register_forward_hook(api)``), or
    ``setattr(box, ...)``. What the object does later, when a task uses it, may be what
    the statement put in it. Imported modules are not such objects
    (``torch.manual_seed(0)``); nested function and class bodies are their own.
    ``calls``: every method call counts (module-level statements), or only stores and
    the calls of ``MUTATORS`` do."""
    def root(expr: ast.AST) -> str | None:
        while isinstance(expr, (ast.Attribute, ast.Subscript, ast.Call)):
            expr = expr.func if isinstance(expr, ast.Call) else expr.value
        return expr.id if isinstance(expr, ast.Name) else None

    names: set[str] = set()
    todo: list[ast.AST] = list(statements)
    while todo:
        current = todo.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(current, (ast.Attribute, ast.Subscript)) and isinstance(current.ctx, (ast.Store, ast.Del)):
            names.add(root(current.value) or "")
        elif isinstance(current, ast.Call) and (calls or isinstance(current.func, ast.Attribute)
                                                and current.func.attr.startswith(MUTATORS)):
            if isinstance(current.func, ast.Attribute):
                names.add(root(current.func.value) or "")
            elif isinstance(current.func, ast.Name) and current.func.id in ("setattr", "delattr") and current.args:
                names.add(root(current.args[0]) or "")
        todo.extend(index.children(current))
    return names - modules - {""}


def _top_level_names(tree: ast.Module, index: Index) -> set[str]:
    """The names the module defines at its top level, in an ``if``, ``try`` or ``with``
    there too (``if hasattr(torch, "func"): def derivative_curve(...)``), never under
    the main guard (not run when the module is imported)."""
    names: set[str] = set()
    statements = list(tree.body)
    for node in statements:
        if isinstance(node, (ast.If, ast.Try, getattr(ast, "TryStar", ast.Try), ast.With)) and not is_main_guard(node):
            statements += branches(node)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(index.names(target))
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




# Under a not-allowed prefix, yet honest where autograd is not allowed: what marks a
# hand-written backward as one that is itself never differentiated, and grad mode
# switched off.
HONEST_UNDER_RULES = ("torch.autograd.function.once_differentiable",
                      # the class a custom Function derives from, and the type of its ctx:
                      # named, they compute nothing (what a subclass runs is read on its own)
                      "torch.autograd.Function", "torch.autograd.function.Function",
                      "torch.autograd.function.FunctionCtx",
                      # torch.no_grad and torch.inference_mode under their autograd names:
                      # they keep autograd out.
                      "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
                      "torch.autograd.inference_mode", "torch.autograd.grad_mode.inference_mode",
                      # a label in the profiler's record (torch.profiler.record_function
                      # under its autograd name): it computes nothing
                      "torch.autograd.profiler.record_function")


# A node that may name a not-allowed API: (line, dotted path, attribute, keyword).
_Use = tuple[int, "str | None", "str | None", "str | None"]


def _api_uses(root: ast.AST, index: Index, aliases: dict[str, str], own: bool = False) -> list[_Use]:
    """Every node under ``root`` that names an API, an attribute or a keyword, read
    once for all of a module's tasks and their rules. ``own``: ``root`` is a class of
    the module's own, or one of its methods."""
    uses: list[_Use] = []
    honest: set[int] = set()  # the parts of an honest path (torch.autograd.function...)
    for node in index.walk(root):
        if id(node) in honest:
            continue
        if own and isinstance(node, ast.Attribute) and node.attr in OWN_ATTRIBUTES \
                and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue  # the student's own object's .grad or .backward (a tensor's backward is recorded)
        honest.update(_switched_off(node, index, aliases))
        if id(node) in honest:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "grad" \
                and dotted_path(node.func, aliases) is None:
            honest.add(id(node.func))  # obj.grad(...): a method of the student's, never a tensor's .grad
        dotted = None
        if isinstance(node, (ast.Attribute, ast.Name, ast.Call)):
            dotted = dotted_path(node, aliases) if not isinstance(node, ast.Call) or getattr_constant(node) else None
            if dotted in HONEST_UNDER_RULES:
                honest.update(id(part) for part in index.walk(node))
                continue
        attr = node.attr if isinstance(node, ast.Attribute) else (getattr_constant(node) or (None, None))[1]
        keyword = node.arg if isinstance(node, ast.keyword) else None
        if dotted or attr or keyword:
            uses.append((getattr(node, "lineno", 0), dotted, attr, keyword))
    return uses


# Attribute names a student's own class may well have (a hand-written layer's
# backward, the gradient it keeps): on ``self`` in a class that derives from nothing
# of torch's, they are not the tensor's. Calling a tensor's backward through such a
# method is still recorded at run time.
OWN_ATTRIBUTES = {"grad", "backward"}


# Switches that are honest where autograd is not allowed when given a literal False.
SWITCHES_OFF_WHEN_FALSE = {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled",
                           "torch.autograd.grad_mode.set_grad_enabled"}


def _turns_off(call: ast.Call, keyword: str) -> bool:
    """``f(False)`` or ``f(keyword=False)``: one argument, a literal False (0, None)."""
    given = call.args[:1] + [k.value for k in call.keywords if k.arg == keyword]
    return len(given) == 1 and len(call.args) + len(call.keywords) == 1 and _off(given[0])


def _off(value: ast.AST | None) -> bool:
    """A literal False, 0 or None: what turns a switch off."""
    return isinstance(value, ast.Constant) and value.value in (False, None) and type(value.value) is not float


def _switched_off(node: ast.AST, index: Index, aliases: dict[str, str]) -> list[int]:
    """The nodes under ``node`` that name a switch only to read it or turn it off:
    ``requires_grad=False``, ``x.requires_grad_(False)``, ``x.requires_grad = False``,
    ``if x.requires_grad:``, ``torch.set_grad_enabled(False)``. Where autograd is not
    allowed, they are honest: they keep autograd out. Turning it on, or handing the
    switch on, still counts."""
    if isinstance(node, ast.keyword) and node.arg and _off(node.value):
        return [id(node)]
    if isinstance(node, ast.Attribute) and node.attr == "requires_grad" and isinstance(node.ctx, ast.Load):
        return [id(node)]
    if isinstance(node, ast.Attribute) and node.attr == "grad_fn" and isinstance(node.ctx, ast.Load) \
            and only_looked_at(node, index, shown=True):
        return [id(node)]  # if x.grad_fn is None, print(x.grad_fn): the node is never called
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_" \
                and _turns_off(node, "requires_grad"):
            return [id(node.func)]
        if _turns_off(node, "mode") and dotted_path(node.func, aliases) in SWITCHES_OFF_WHEN_FALSE:
            return [id(part) for part in index.walk(node.func)]
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and _off(node.value):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [id(t) for t in targets if isinstance(t, ast.Attribute) and t.attr == "requires_grad"]
    return []


def _forbidden_in(uses: list[list[_Use]], task: Task) -> list[Finding]:
    prefixes = [p for p in task.forbidden_scan if p.startswith(RECORDED)]
    attributes = {p[1:] for p in task.forbidden_scan if p.startswith(".")}
    keywords = {p[:-1] for p in task.forbidden_scan if p.endswith("=")}
    found: set[Finding] = set()
    for line, dotted, attr, keyword in (use for root in uses for use in root):
        if dotted and any(dotted == p or dotted.startswith(p + ".") for p in prefixes):
            found.add(Finding(line, "forbidden_api", dotted))
        elif attr in attributes:
            found.add(Finding(line, "forbidden_api", "." + attr))
        elif keyword in keywords:
            found.add(Finding(line, "forbidden_api", keyword + "="))
    # Report each use once: an alias chain such as torch.autograd.functional.jacobian
    # also matches its parents.
    unique: dict[int, Finding] = {}
    for f in sorted(found, key=lambda f: (f.line, -len(f.detail))):
        unique.setdefault(f.line, f)
    return sorted(unique.values(), key=lambda f: f.line)
