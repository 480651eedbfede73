"""Names in Python source, read without running it: what a name was imported as,
the dotted path an attribute chain spells, where the main guard is; and an index
that walks a module's tree once for every later question about it."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator, Sequence

GRADER_PACKAGES = {"grader", "solutions", "tests"}
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Finding:
    line: int
    code: str
    detail: str


# Fields never walked: ``ctx`` holds the shared Load/Store/Del markers, which no
# question of the scan is about; a name or a constant has nothing under it.
_LEAVES = (ast.Name, ast.Constant)
_FIELDS: dict[type, tuple[str, ...]] = {}
_NONE: tuple[ast.AST, ...] = ()  # one for every leaf: half the nodes, and no list each


def child_nodes(node: ast.AST) -> Sequence[ast.AST]:
    """``ast.iter_child_nodes(node)`` in the same order, without the
    expression-context markers (``ctx``)."""
    cls = type(node)
    if cls in _LEAVES:
        return _NONE
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple(f for f in cls._fields if f != "ctx")
    out: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            out.append(value)
        elif isinstance(value, list):
            out.extend([item for item in value if isinstance(item, ast.AST)])
    return out or _NONE


class Index:
    """One walk of a module's tree, kept for every question asked of it later.

    The scan asks the same things many times (per task, per rule): the children of
    a node, the names a definition uses, every import. Walking the tree once and
    answering from these tables is what keeps a submission's scan cheap. Nodes are
    keyed by ``id``: the index holds the tree, so no id is reused while it lives.
    """

    def __init__(self, tree: ast.AST) -> None:
        self.tree = tree
        # Breadth first, as ast.walk (without the ctx markers): an import later in
        # this order rebinds the name, as it does in import_aliases.
        self.nodes: list[ast.AST] = [tree]
        self._children: dict[int, Sequence[ast.AST]] = {}
        self._parent: dict[int, ast.AST] = {}
        children_of, parent_of = self._children, self._parent
        for node in self.nodes:  # the list grows as it is read
            children = child_nodes(node)
            children_of[id(node)] = children
            if children:
                for child in children:
                    parent_of[id(child)] = node
                self.nodes.extend(children)
        self._names: dict[int, frozenset[str]] = {}
        self._of: dict[tuple[type, ...], list[ast.AST]] = {}
        self._holding: dict[frozenset[str], set[int]] = {}

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self._parent.get(id(node))

    def children(self, node: ast.AST) -> Sequence[ast.AST]:
        found = self._children.get(id(node))
        return found if found is not None else child_nodes(node)  # a node made while scanning

    @property
    def children_by_id(self) -> dict[int, Sequence[ast.AST]]:
        """``id(node)`` -> its children, for every node of the tree: the hot loops'
        own lookup (a node not in it was made while scanning: ``children``)."""
        return self._children

    def walk(self, node: ast.AST) -> Iterator[ast.AST]:
        """``ast.walk(node)`` in the same order (without the ctx markers), reading no
        node's fields again."""
        todo = [node]
        for current in todo:
            yield current
            todo.extend(self.children(current))

    def of(self, *types: type) -> list[ast.AST]:
        """Every node of these types in the tree, in ast.walk's order."""
        found = self._of.get(types)
        if found is None:
            found = self._of[types] = [n for n in self.nodes if isinstance(n, types)]
        return found

    def names(self, node: ast.AST) -> frozenset[str]:
        """The ``ast.Name`` identifiers anywhere under ``node``."""
        found = self._names.get(id(node))
        if found is None:
            names: set[str] = set()
            todo = [node]
            children_of = self._children
            for current in todo:
                if type(current) is ast.Name:  # a leaf
                    names.add(current.id)  # type: ignore[attr-defined]
                else:
                    found = children_of.get(id(current))
                    todo.extend(found if found is not None else child_nodes(current))
            found = frozenset(names)
            if id(node) in self._children:  # a node of this tree: its id stays its own
                self._names[id(node)] = found
        return found

    def names_in(self, nodes: list[ast.AST]) -> set[str]:
        return set().union(*(self.names(node) for node in nodes))

    def holds_name(self, node: ast.AST, names: frozenset[str]) -> bool:
        """Whether an ``ast.Name`` of one of ``names`` is anywhere under ``node``: found
        by going up from each such name once, not down every node asked about."""
        holding = self._holding.get(names)
        if holding is None:
            holding = self._holding[names] = set()
            for name in self.of(ast.Name):
                current: ast.AST | None = name
                if name.id in names:  # type: ignore[attr-defined]
                    while current is not None and id(current) not in holding:
                        holding.add(id(current))
                        current = self._parent.get(id(current))
        if id(node) in self._children:
            return id(node) in holding
        return not self.names(node).isdisjoint(names)  # a node made while scanning


def imported_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    return {(a.asname or a.name).split(".")[0] for a in node.names}


def branches(node: ast.AST) -> list[ast.stmt]:
    """The statements an ``if``, ``try`` or ``with`` holds directly, in every branch."""
    bodies = [getattr(node, "body", []), getattr(node, "orelse", []), getattr(node, "finalbody", [])]
    bodies += [h.body for h in getattr(node, "handlers", [])]
    return [s for body in bodies for s in body]


def is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``: a student's own experiments, never run when graded."""
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"
            and len(node.test.comparators) == 1 and isinstance(node.test.comparators[0], ast.Constant)
            and node.test.comparators[0].value == "__main__")


def import_aliases(tree: ast.AST, index: Index | None = None) -> dict[str, str]:
    """Local name -> dotted path, from imports and plain alias assignments."""
    index = index or Index(tree)
    aliases: dict[str, str] = {}
    for node in index.of(ast.Import, ast.ImportFrom):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    root = a.name.split(".")[0]
                    aliases[root] = root
        elif node.module and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    assigns = [node for node in index.of(ast.Assign)
               if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)]
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


# Built-ins that only show a value: given one, they hand it to nothing that can use it.
_SHOWS = ("print", "repr", "str", "type")


def only_looked_at(node: ast.AST, index: Index, *, shown: bool = False) -> bool:
    """Whether a value is only tested, never kept, called or handed on: ``is (not)
    None``, an ``if``'s, ``while``'s or ``assert``'s test, ``not``, ``bool()``, an
    ``and``/``or`` that is itself only tested (its value is one of its operands).
    ``shown``: printing it counts too (``print()``, ``repr()``, ``str()``, ``type()``, an
    f-string field, ``%`` or ``.format()`` of a literal text). The built-ins must be the
    built-ins: a module that binds one of those names anywhere gets no such reading."""
    parent = index.parent(node)
    if isinstance(parent, ast.Compare):
        other = parent.comparators[0] if parent.left is node else parent.left
        return len(parent.ops) == 1 and isinstance(parent.ops[0], (ast.Is, ast.IsNot)) \
            and isinstance(other, ast.Constant) and other.value is None
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)):
        return parent.test is node
    if isinstance(parent, ast.UnaryOp):
        return isinstance(parent.op, ast.Not)
    if isinstance(parent, ast.BoolOp):
        return only_looked_at(parent, index, shown=shown)
    if isinstance(parent, ast.FormattedValue):
        return shown and parent.value is node
    if shown and isinstance(parent, ast.Tuple) and isinstance(index.parent(parent), ast.BinOp):
        parent, node = index.parent(parent), parent  # "%s %s" % (a, b)
    if isinstance(parent, ast.BinOp):
        return shown and isinstance(parent.op, ast.Mod) and parent.right is node \
            and isinstance(parent.left, ast.Constant) and type(parent.left.value) is str
    if not isinstance(parent, ast.Call) or node not in parent.args:
        return False
    func = parent.func
    if shown and isinstance(func, ast.Attribute) and func.attr == "format" and isinstance(func.value, ast.Constant) \
            and type(func.value.value) is str:
        return True
    if not isinstance(func, ast.Name) or _rebinds(index, func.id):
        return False
    return func.id == "bool" and parent.args == [node] and not parent.keywords \
        or shown and func.id in _SHOWS and (func.id == "print" or not parent.keywords)


# The nodes that bind a name (``bound_names``).
BINDERS = (ast.Name, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.alias, ast.arg, ast.ExceptHandler,
           ast.MatchAs, ast.MatchStar, ast.MatchMapping, ast.Global, ast.Nonlocal)


def bound_names(node: ast.AST) -> tuple[str, ...]:
    """The names ``node`` itself binds: an assignment's (or a ``del``'s) name, a
    definition's, an import's, a parameter, ``except ... as``, a match capture, a
    ``global``/``nonlocal`` declaration."""
    kind = type(node)
    if kind is ast.Name:
        return () if isinstance(node.ctx, ast.Load) else (node.id,)  # type: ignore[attr-defined]
    if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        return (node.name,)  # type: ignore[attr-defined]
    if kind is ast.alias:
        return ((node.asname or node.name).split(".")[0],)  # type: ignore[attr-defined]
    if kind is ast.arg:
        return (node.arg,)  # type: ignore[attr-defined]
    if kind in (ast.Global, ast.Nonlocal):
        return tuple(node.names)  # type: ignore[attr-defined]
    bound = getattr(node, "rest" if kind is ast.MatchMapping else "name", None) if kind in (
        ast.ExceptHandler, ast.MatchAs, ast.MatchStar, ast.MatchMapping) else None
    return (bound,) if bound else ()


def _rebinds(index: Index, name: str) -> bool:
    """Whether the module binds ``name`` anywhere (a def, an import, an assignment, a
    parameter): then it is not the built-in."""
    return any(name in bound_names(node) for node in index.of(*BINDERS))
