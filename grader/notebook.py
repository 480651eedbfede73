"""Notebooks: graded from their code cells, never executed by the grader.

Which module a notebook holds (the rule the student README states):

- ``ex03_vjp.ipynb`` (a notebook named like a module, as ``grade release --notebooks``
  writes them) holds that module;
- any other notebook (``lab.ipynb``) may hold the functions of several modules: each
  module whose task functions it defines is graded from the whole notebook's code.

What of a code cell is graded: function and class definitions, and the imports and
assignments they need (the code a module would hold). Other top-level statements —
calling a function to try it, printing, loops — are left out, as if under ``if __name__
== "__main__":``, and so are assignments and imports that no definition needs (a try-out
``g = x.grad.clone()`` that depends on a ``y.backward()`` left out, ``from d2l import
torch as d2l`` for plots), IPython's ``%magic``, ``!shell`` and ``obj?`` help lines,
``%%`` cell magics, and check cells (cells that import from ``grader``). A cell that
does not parse is kept whole, so its syntax error is reported. Feedback that names a
line names it as "cell N, line M", counting every cell from the top of the notebook,
markdown cells included.

Inside Jupyter, ``from grader import notebook; notebook.check("vjp")`` grades the saved
notebook's code for one task (in a fresh ``grade run`` process, so the sandbox starts
clean) and prints the feedback; ``hints=1`` adds the hints the answer earned, ``hints=2``
also restates the task and its seed example.
"""
from __future__ import annotations

import ast
import functools
import json
import os
import re
import subprocess
import symtable
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .gather import module_for
from .pyast import branches
from .tasks import MODULES, TASKS

@functools.cache
def _roots() -> frozenset[str]:
    """Names the grader itself reads from a module: the task functions, and what given
    code (run over the module's globals) uses."""
    return frozenset({t.name for t in TASKS} | {name for t in TASKS if t.given for node in ast.parse(t.given).body
                                                for name in _loaded(node)})


KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
        ast.AnnAssign, ast.AugAssign)
# Statements kept only when what they bind is needed (the rest of KEEP always is).
BINDINGS = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.While, ast.With,
            ast.Expr)
# Blocks kept only for what they bind, with only that of them (see ``_loop_part``):
# a loop that fills a table, ``with torch.no_grad():`` around a constant.
_LOOPS = (ast.For, ast.While, ast.With)
# Methods that change the object they are called on: ``STEPS.append(h)`` binds STEPS
# as an assignment would.
_MUTATORS = frozenset({"append", "extend", "insert", "update", "add", "setdefault"})


def _mutated(node: ast.AST) -> set[str]:
    """The name whose object an expression statement changes by a method (``L.append``)."""
    call = node.value if isinstance(node, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _MUTATORS):
        return set()
    target = call.func.value
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        target = target.value
    return {target.id} if isinstance(target, ast.Name) else set()
CHECK_TAG = "autograd-lab-check"
# Reading a notebook takes time in proportion to its size (plots and outputs included),
# before any time limit applies: about 0.5 s per MB.
MAX_NOTEBOOK_BYTES = 25 * 2**20
# Reading it into a module is bounded too (an interval timer; none on Windows).
NOTEBOOK_SECONDS = 30


class NotebookError(ValueError):
    """A file that cannot be read as a notebook (exit status 2 for ``grade run``)."""


@dataclass
class Built:
    """One module's source built from a notebook, and where each of its lines came from."""

    notebook: Path
    source: str
    origin: list[tuple[int, int] | None] = field(default_factory=list)  # per line: (cell, line in cell)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # cells left out: (cell, its %% magic)

    def where(self, line: int) -> tuple[int, int] | None:
        return self.origin[line - 1] if 1 <= line <= len(self.origin) else None


def _is_check_cell(cell: Any, text: str) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return CHECK_TAG in tags or bool(re.search(r"^[ \t]*(from[ \t]+grader\b|import[ \t]+grader\b)", text, re.M))


_BLOCKS = (ast.If, ast.Try, getattr(ast, "TryStar", ast.Try))


def _kept(node: ast.stmt, top: bool = True) -> bool:
    """Whether a top-level statement of a cell may go into the module: imports,
    definitions and assignments, and an ``if`` or ``try`` that holds any of those
    (``try: import numpy as np`` / ``except ImportError: np = None``, a device chosen
    under ``if torch.cuda.is_available():``, a definition with a fallback), whose other
    statements (a print, a warning) are left out of it, as a module would hold them."""
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return False
    if isinstance(node, ast.AugAssign) and not top:
        return False  # (inside a block it is part of an experiment: a count, a total)
    if isinstance(node, _LOOPS):
        # d2l's ``for i in range(5): ... h *= 0.1``: kept (whole) only where what it
        # binds is needed, as an assignment is.
        return top and bool(_bound(node))
    if isinstance(node, KEEP):
        return True
    if isinstance(node, ast.Expr) and (_walrus_names(node) or top and _mutated(node)):
        return True  # (EPS := 1e-6): shown in the notebook, and bound; STEPS.append(h)
    # Not a ``with``: in a notebook it is mostly an experiment (``with torch.no_grad():
    # x_new = x - lr * x.grad``) that depends on cells left out.
    if isinstance(node, _BLOCKS):
        return any(_kept(s, top=False) for s in branches(node))
    return False


# Cell magics that run the cell's Python in the notebook's namespace, so that what
# the cell defines stays defined: the cell is read without its first line.
PYTHON_CELL_MAGICS = {"time", "capture"}


# IPython's help syntax (``torch.autograd?``, ``??f``): read only in a cell that does not
# parse without it, so that a docstring line ending in "?" is never touched.
_HELP = re.compile(r"\s*(\?{1,2}\s*[\w.]+(\(\))?|[\w.]+(\(\))?\s*\?{1,2})\s*")


def _parsed(text: str, folder: Path | None = None) -> tuple[list[str], ast.Module | None]:
    """The cell as Python, line for line, and its syntax tree (None if it does not
    parse). A line in IPython's own syntax (``%magic``, ``!shell``, ``t = %timeit -o
    ...``, ``obj?``) becomes the call IPython itself makes of it, which is then left
    out like any other try-out."""
    lines = text.split("\n")
    try:
        return lines, ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    lines = [_as_python(line, folder) if _IPYTHON_LINE.match(line) else line for line in lines]
    for attempt in (lines, ["" if _HELP.fullmatch(line) else line for line in lines]):
        try:
            return attempt, ast.parse("\n".join(attempt))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return lines, None


# A line IPython reads differently from Python: an escape at its start (after an
# assignment's target, ``x = !ls``), or a help request at its end.
_IPYTHON_LINE = re.compile(r"\s*([\w.\[\], ]+=\s*)?[%!?]|.*\?\s*$")


# ``%run ./ex01_backward.ipynb`` (or ``.py``): another exercise module run into this
# notebook's namespace, to reuse what it defines.
_RUN_MODULE = re.compile(r"%run\s+(?:-\S+\s+)*([\"']?)(?:\./)?([A-Za-z_]\w*)(?:\.ipynb|\.py)?\1\s*(?:#.*)?")


def _definitions_in(folder: Path | None, module: str) -> list[str]:
    """The names of the functions and classes at the top of another exercise module
    of the submission (``.py`` or notebook), which its module always holds, and a
    ``.py``'s top-level constants: those a ``%run`` of it hands over beyond what
    ``import *`` does (``_helper``, names left out of ``__all__``)."""
    if folder is None:
        return []
    found: list[str] = []
    texts: list[str] = []
    py, nb = folder / f"{module}.py", folder / f"{module}.ipynb"
    try:
        if py.is_file() and not py.is_symlink():
            texts = [py.read_text(encoding="utf-8-sig", errors="replace")]
        elif nb.is_file() and not nb.is_symlink() and nb.stat().st_size <= MAX_NOTEBOOK_BYTES:
            cells = json.loads(nb.read_text(encoding="utf-8", errors="replace")).get("cells", [])
            texts = ["".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
                     for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    except (OSError, ValueError, AttributeError):
        return []
    for text in texts:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        found += [n.name for n in tree.body if isinstance(n, _DEFINITIONS) and n.name not in found]
        if py.is_file():  # a .py module holds every top-level constant too (_TWO = 2)
            found += [t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                      for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                      if isinstance(t, ast.Name) and t.id not in found and not t.id.startswith("__")]
    return found


def _as_python(line: str, folder: Path | None = None) -> str:
    """One line as IPython's input transformer writes it (indentation kept); blank if
    it cannot. One line at a time: the transformer re-reads its whole input after every
    escape it rewrites, which over a long cell takes minutes. ``%run`` of another
    exercise module (of the submission in ``folder``) becomes the import of its names,
    as the module would write it, on the one line."""
    indent = line[:len(line) - len(line.lstrip())]
    run = _RUN_MODULE.fullmatch(line.strip())
    if run and run.group(2) in MODULES:
        module = run.group(2)
        named = _definitions_in(folder, module)
        return f"{indent}from {module} import *" + (f"; from {module} import {', '.join(named)}" if named else "")
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        python = TransformerManager().transform_cell(line.strip() + "\n").rstrip("\n")
    except Exception:  # noqa: BLE001 - IPython missing or the line beyond it
        return ""
    return indent + python if "\n" not in python else ""


def _walrus_names(node: ast.AST) -> set[str]:
    return {n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name)}


def _bound(node: ast.stmt) -> set[str]:
    """The names an import or assignment binds ("*" for a star import), or a walrus in
    an expression statement."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, _DEFINITIONS):  # (inside a kept block)
        return {node.name}
    if isinstance(node, ast.Expr):
        return _walrus_names(node) | _mutated(node)
    if isinstance(node, ast.AugAssign):  # EPS *= 0.1 after EPS = 1.0: the value Jupyter holds
        target = node.target  # (CFG["eps"] *= 0.1 changes CFG)
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        return {target.id} if isinstance(target, ast.Name) else set()
    if isinstance(node, _LOOPS):  # what the statements in its body bind (not its own variable)
        return set().union(*(_bound(s) for s in _loop_statements(node)))
    if not isinstance(node, (ast.Assign, ast.AnnAssign)):
        return set()
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


_ASSIGNMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _loop_statements(node: ast.stmt) -> list[ast.stmt]:
    """The assignments in a loop's body (or a ``with``'s), at any depth but outside
    definitions, and the calls that fill a table (``L.append(h)``): all of it that
    may go into the module (with the blocks that hold them)."""
    found, todo = [], _body(node)
    while todo:
        s = todo.pop()
        # (an import or a definition in a block binds its name too: ``with
        # warnings.catch_warnings(): import numpy as np``)
        if isinstance(s, (*_ASSIGNMENTS, ast.Import, ast.ImportFrom, *_DEFINITIONS)) or _mutated(s):
            found.append(s)
        elif not isinstance(s, _DEFINITIONS):
            todo.extend(c for c in ast.iter_child_nodes(s) if isinstance(c, ast.stmt))
    return found


def _body(node: ast.stmt) -> list[ast.stmt]:
    return list(node.body) + list(getattr(node, "orelse", []))


def _holds(s: ast.stmt, keep: set[int]) -> bool:
    """Whether a block inside a loop holds one of the kept assignments."""
    return not isinstance(s, _DEFINITIONS) and any(id(n) in keep for n in ast.walk(s))


def _loop_part(node: ast.stmt, wanted: set[str]) -> tuple[set[int], set[str]]:
    """What of a loop goes into the module when ``wanted`` (names it binds) are needed:
    the assignments that bind them, and those that these read in turn, with the
    names all of that reads (its header and the tests of the blocks around them)."""
    assignments = _loop_statements(node)
    inside = set().union(*(_bound(a) for a in assignments)) if assignments else set()
    keep: set[int] = set()
    want = set(wanted)
    grew = True
    while grew:
        grew = False
        for a in assignments:
            if id(a) not in keep and _bound(a) & want:
                keep.add(id(a))
                want |= _loaded(a) & inside
                grew = True
    kept, _, heads = _split_block(node, keep)
    return keep, set().union(*(_loaded_in(h) for h in heads + kept)) | (want & inside)


def _split_block(node: ast.stmt, keep: set[int]) -> tuple[list[ast.stmt], list[ast.stmt], list[ast.AST]]:
    """A kept loop's (or ``with``'s) statements: those kept, those left out, and the
    heads that run around the kept ones (its own, the inner blocks' tests)."""
    heads: list[ast.AST] = [node.iter] if isinstance(node, ast.For) else [node.test] if isinstance(node, ast.While) \
        else [item.context_expr for item in node.items]
    kept: list[ast.stmt] = []
    blank: list[ast.stmt] = []
    todo = _body(node)
    while todo:
        s = todo.pop()
        if id(s) in keep:
            kept.append(s)
        elif not isinstance(s, (*_ASSIGNMENTS, ast.Import, ast.ImportFrom, *_DEFINITIONS)) and not _mutated(s) \
                and _holds(s, keep):
            heads.extend(getattr(s, field) for field in ("test", "iter") if hasattr(s, field))
            heads.extend(item.context_expr for item in getattr(s, "items", []))
            todo.extend(c for c in ast.iter_child_nodes(s) if isinstance(c, ast.stmt))
        else:
            blank.append(s)
    return kept, blank, heads


def _prune_loop(lines: list[str], node: ast.stmt, keep: set[int]) -> None:
    """Leave of a kept loop only the assignments it is kept for (a print, a plot or a
    try-out's sum in it becomes ``pass``); a loop whose statements share lines is
    kept whole."""
    kept, blank, _ = _split_block(node, keep)
    spans = [(s.lineno, s.end_lineno or s.lineno) for s in kept]
    if any(a <= (s.end_lineno or s.lineno) and s.lineno <= b for s in blank for a, b in spans) \
            or any(s.lineno == node.lineno for s in blank):
        return
    for s in blank:
        _blank(lines, s, keep="pass")


def _loaded(node: ast.stmt) -> set[str]:
    """The module-level names a statement reads: for a definition, what its decorators,
    defaults and body read from the module's globals (by the compiler's own symbol
    tables: a parameter or local named like a global is not that global)."""
    if isinstance(node, _BLOCKS):
        heads = [node.test] if isinstance(node, ast.If) else [h.type for h in node.handlers if h.type is not None]
        return set().union(*(_loaded(s) for s in branches(node)), *(_loaded_in(h) for h in heads))
    if isinstance(node, _LOOPS):
        return _loop_part(node, _bound(node))[1]
    if isinstance(node, ast.AugAssign):
        return _loaded_in(node) | _bound(node)  # it reads the name it changes
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return _loaded_in(node)
    try:
        table = symtable.symtable(ast.unparse(node), "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    names = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    todo = list(table.get_children())
    while todo:
        scope = todo.pop()
        # (a global a function only declares and changes, ``global CALLS; CALLS += 1``,
        # still needs its module-level value)
        names |= {s.get_name() for s in scope.get_symbols()
                  if s.is_global() and (s.is_referenced() or s.is_declared_global())}
        todo += scope.get_children()
    return names


def _loaded_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _rebinds(node: ast.stmt, defined: set[str]) -> bool:
    """Whether an assignment only gives new values to plain names a definition gives
    (``f = torch.sin``); an attribute stored (``Solver.vjp = _vjp``) is no such thing."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign)):
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = [n for t in targets for n in ast.walk(t)]
    bound = _bound(node)
    return all(isinstance(n, (ast.Name, ast.Tuple, ast.List, ast.Store, ast.Starred)) for n in names) \
        and bool(bound) and bound <= defined


def _needed(statements: list[ast.stmt], roots: frozenset[str]) -> tuple[set[int], dict[int, set[int]]]:
    """The ``id``s of the kept statements that go into the module: definitions and kept
    ``if``/``try`` blocks always, and the imports and assignments whose names they (or
    the tasks, by name) need, followed back through the assignments they need in turn.
    An assignment to a name a ``def`` or ``class`` gives (``f = torch.sin`` to plot, in
    a notebook holding d2l's ``def f``) is a try-out: the definition is graded. A task's
    name is the exception: ``vjp = vjp_v2`` says which one is the answer. A top-level
    loop that binds a needed name goes in with only the assignments needed of it
    (the second value: per loop, the ``id``s of those)."""
    defined = {s.name for s in statements if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    chosen = {id(s) for s in statements if not isinstance(s, BINDINGS)}
    names = set(roots)
    for s in statements:
        if id(s) in chosen:
            names |= _loaded(s)
    candidates = [(s, _bound(s)) for s in statements if id(s) not in chosen and not _rebinds(s, defined - roots)]
    loops: dict[int, tuple[set[str], set[int]]] = {}
    grew = True
    while grew:
        grew = False
        for s, bound in candidates:
            if isinstance(s, _LOOPS):
                wanted = bound & names
                if wanted and wanted != loops.get(id(s), (set(), set()))[0]:
                    keep, reads = _loop_part(s, wanted)
                    loops[id(s)] = (wanted, keep)
                    chosen.add(id(s))
                    names |= reads
                    grew = True
            elif id(s) not in chosen and (bound & names or "*" in bound):
                chosen.add(id(s))
                names |= _loaded(s)
                grew = True
    return chosen, {loop: keep for loop, (_, keep) in loops.items()}


def _graded_cells(cells: list[str], roots: frozenset[str], folder: Path | None = None) -> list[list[str]]:
    """Each cell's lines with what a module would not hold blanked out (line numbers
    kept); a statement left out of a kept ``if`` or ``try`` becomes ``pass``."""
    parsed = [_parsed(text, folder) for text in cells]
    statements = [node for _, tree in parsed if tree is not None for node in tree.body if _kept(node)]
    chosen, loops = _needed(statements, roots)
    out = []
    for lines, tree in parsed:
        for node in tree.body if tree is not None else []:  # a cell that does not parse is kept whole
            if id(node) not in chosen:
                _blank(lines, node)
            elif isinstance(node, _BLOCKS):
                for inner in branches(node):
                    if not _kept(inner, top=False):
                        _blank(lines, inner, keep="pass")
            elif isinstance(node, _LOOPS):
                _prune_loop(lines, node, loops.get(id(node), set()))
        out.append(lines)
    return out


def _blank(lines: list[str], node: ast.stmt, keep: str = "") -> None:
    """Blank a statement's lines; ``keep`` (``pass``) stands on its first line, at its
    indentation, so that the block it was in still has a body."""
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    for i in range(start - 1, (node.end_lineno or node.lineno)):
        lines[i] = ""
    if keep:
        lines[start - 1] = " " * node.col_offset + keep


def build(path: Path) -> Built:
    """The module source of a notebook's code cells, read with nbformat (never executed)."""
    import nbformat

    try:
        size = path.lstat().st_size
    except OSError as exc:
        raise NotebookError(f"{path.name}: cannot be read ({exc.strerror})") from None
    if path.is_symlink():
        raise NotebookError(f"{path.name} is a link: submit the notebook itself")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is {size / 2**20:.0f} MB, more than the {MAX_NOTEBOOK_BYTES // 2**20} MB "
                            "a notebook may be: clear its outputs (Edit → Clear Outputs of All Cells) and save it")
    from .deadline import TooSlow, bounded

    try:
        with bounded(NOTEBOOK_SECONDS):
            return _build(path, nbformat)
    except TooSlow:
        raise NotebookError(f"{path.name} could not be read within {NOTEBOOK_SECONDS} s: "
                            "it is too large or too convoluted to grade") from None


def _build(path: Path, nbformat: Any) -> Built:
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several kinds (JSON, validation, version)
        raise NotebookError(f"{path.name}: not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})") from None
    built = Built(path, "")
    numbers: list[int] = []
    cells: list[str] = []
    listed = nb.get("cells") if isinstance(nb, dict) else None
    for number, cell in enumerate(listed if isinstance(listed, list) else [None], 1):
        # nbformat reads what does not validate with a warning only: a cell must still
        # be a cell, and its source text, for any of it to be read
        if not isinstance(cell, dict) or not isinstance(cell.get("source", ""), str):
            raise NotebookError(f"{path.name}: not a readable notebook (cell {number} is not a cell with text)")
        if cell.get("cell_type") != "code":
            continue
        text = cell.get("source", "")
        if _is_check_cell(cell, text):
            continue
        if text.lstrip().startswith("%%"):
            magic = text.lstrip()[2:].split(None, 1)[0] if text.lstrip()[2:].strip() else ""
            if magic not in PYTHON_CELL_MAGICS:
                built.skipped.append((number, magic))
                continue
            lines = text.split("\n")
            first = next(i for i, line in enumerate(lines) if line.strip())
            text = "\n".join(lines[:first] + [""] + lines[first + 1:])  # line numbers kept
            try:
                ast.parse(text)
            except (SyntaxError, ValueError, RecursionError, MemoryError):  # a try-out that never ran
                built.skipped.append((number, magic))
                continue
        numbers.append(number)
        cells.append(text)
    out = ["from __future__ import annotations"]
    built.origin.append(None)
    for number, lines in zip(numbers, _graded_cells(cells, _roots(), path.parent)):
        out.append(f"# cell {number}")
        built.origin.append(None)
        for i, line in enumerate(lines, 1):
            out.append(line)
            built.origin.append((number, i))
    if _displays_unbound("\n".join(out)):
        # Jupyter's display() is a built-in of every IPython kernel: in the module it
        # shows what it is given the way print does.
        out.insert(1, "def display(*objs, **kwargs): print(*objs)")
        built.origin.insert(1, None)
    built.source = "\n".join(out) + "\n"
    return built


def _displays_unbound(source: str) -> bool:
    """Whether the module reads the name display without binding it at its top level
    (a parameter or a local of that name is a function's own, not the module's)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    used = any(isinstance(n, ast.Name) and n.id == "display" and isinstance(n.ctx, ast.Load) for n in ast.walk(tree))
    return used and "display" not in set().union(*(_bound(n) | _defined(n) for n in tree.body)) if tree.body else False


def _defined(node: ast.stmt) -> set[str]:
    """The names a top-level statement binds by a definition, or inside an if or a try."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, _BLOCKS):
        return set().union(*(_bound(s) | _defined(s) for s in branches(node)))
    return set()


def _defines(source: str) -> set[str]:
    return set(re.findall(r"^(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(", source, re.M))


def convert(paths: list[Path], unreadable: list[NotebookError] | None = None) -> tuple[dict[str, Built], list[str]]:
    """Modules built from notebooks (by the rule above), and notes for the student.
    A notebook that cannot be read raises ``NotebookError``; given ``unreadable``, it
    is added there instead and the others are read."""
    named: dict[str, Built] = {}
    combined: list[Built] = []
    notes: list[str] = []
    for path in sorted(paths, key=lambda p: p.name):
        module = module_for(path.stem + ".py")
        try:
            built = build(path)
        except NotebookError as exc:
            if unreadable is None:
                raise
            unreadable.append(exc)
            continue
        for number, magic in built.skipped:
            notes.append(f"{path.name}: cell {number} was not graded: it starts with %%{magic}, "
                         "so it is not Python that stays defined (put definitions in a plain cell).")
        if module is not None and module not in named:
            named[module] = built
        elif module is not None:
            notes.append(f"{path.name} was not graded: {named[module].notebook.name} is graded as {module}.")
        else:
            combined.append(built)
    for built in combined:
        defined = _defines(built.source)
        for module in MODULES:
            if module not in named and any(t.module == module and t.name in defined for t in TASKS):
                named[module] = built
    return named, notes


def materialize(modules: dict[str, Built], into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    for module, built in modules.items():
        (into / f"{module}.py").write_text(built.source, encoding="utf-8")
    return into


# Feedback that names a line of the built module names the cell instead ------------------

_EN = [
    # "{module}.py has a syntax error on line {line}"
    (re.compile(r"(\w+)\.py has a syntax error on line (\d+)"), "{nb} has a syntax error in {loc}"),
    # "line {line} of {module}.py uses"
    (re.compile(r"line (\d+) of (\w+)\.py"), "{loc} of {nb}"),
    # " ({file}, line {line})"
    (re.compile(r"\((\w+)\.py, line (\d+)\)"), "({nb}, {loc})"),
    # forbidden_api: "line {line} uses" (the task's own module)
    (re.compile(r"^line (\d+) uses"), "{loc} uses"),
]
_ZH = [
    (re.compile(r"(\w+)\.py 第 (\d+) 行"), "{nb} {loc}"),
    (re.compile(r"^第 (\d+) 行使用了"), "{loc}使用了"),
]


def relabel(report: dict[str, Any], modules: dict[str, Built]) -> dict[str, Any]:
    """Rewrite the report's feedback so that lines are named as notebook cells."""
    from .i18n import translator

    t = translator(report.get("language", "en"))

    def place(module: str, line: str) -> tuple[str, str] | None:
        built = modules.get(module)
        where = built.where(int(line)) if built else None
        if not where:
            return None
        return built.notebook.name, t("cell {cell}, line {line}").format(cell=where[0], line=where[1])

    def fix(text: str, task_module: str) -> str:
        for pattern, template in _EN + _ZH:
            def swap(match: re.Match[str]) -> str:
                groups = match.groups()
                if len(groups) == 1:
                    module, line = task_module, groups[0]
                elif groups[0].isdigit():
                    line, module = groups
                else:
                    module, line = groups
                found = place(module, line)
                return template.format(nb=found[0], loc=found[1]) if found else match.group(0)
            text = pattern.sub(swap, text)
        return text

    for task in report["tasks"]:
        module = task["id"].split(".")[0]
        for check in task["checks"]:
            if check.get("feedback"):
                check["feedback"] = fix(check["feedback"], module)
        for group in task.get("lost") or []:  # the lost points by reason, which the views show
            if group.get("reason"):
                group["reason"] = fix(group["reason"], module)
            if isinstance(group.get("example"), dict) and group["example"].get("detail"):
                group["example"]["detail"] = fix(group["example"]["detail"], module)
    return report


# Inside Jupyter ----------------------------------------------------------------------------


def current_notebook(path: str | os.PathLike[str] | None = None) -> Path:
    """The notebook this kernel runs: ``path`` if given, else what the front end says."""
    if path is not None:
        return Path(path)
    candidates: list[str] = []
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            candidates.append(shell.user_ns.get("__vsc_ipynb_file__", ""))  # VS Code
    except ImportError:
        pass
    candidates.append(os.environ.get("JPY_SESSION_NAME", ""))  # Jupyter Server 2 / JupyterLab 4
    candidates.append(_from_jupyter_server() or "")
    for candidate in candidates:
        if candidate and candidate.endswith(".ipynb") and Path(candidate).is_file():
            return Path(candidate)
    raise NotebookError("cannot tell which notebook this is: give its path, "
                        "e.g. notebook.check(\"vjp\", path=\"ex03_vjp.ipynb\")")


def _from_jupyter_server(timeout: float = 2.0) -> str | None:
    """Ask the running Jupyter servers (their sessions API, with each server's own token
    from its runtime file) which notebook holds this kernel, known by its connection file."""
    import urllib.request

    try:
        from ipykernel.connect import get_connection_file
        from jupyter_core.paths import jupyter_runtime_dir

        name = Path(get_connection_file()).stem  # kernel-<id>
        runtime = Path(jupyter_runtime_dir())
    except Exception:  # not in a kernel, or no Jupyter installed: nothing to ask
        return None
    if not name.startswith("kernel-"):
        return None
    kernel_id = name[len("kernel-"):]
    for info_file in sorted(runtime.glob("jpserver-*.json")) + sorted(runtime.glob("nbserver-*.json")):
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
            request = urllib.request.Request(info["url"].rstrip("/") + "/api/sessions",
                                             headers={"Authorization": f"token {info.get('token', '')}"})
            # The server is local: never through a proxy the environment names.
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=timeout) as answer:
                sessions = json.load(answer)
        except (OSError, ValueError, KeyError):
            continue
        for session in sessions if isinstance(sessions, list) else []:
            if isinstance(session, dict) and (session.get("kernel") or {}).get("id") == kernel_id:
                relative = session.get("path") or (session.get("notebook") or {}).get("path", "")
                root = info.get("root_dir") or info.get("notebook_dir") or ""
                if relative:
                    return str(Path(root) / relative)
    return None


def _task(name: str) -> Any:
    found = [t for t in TASKS if name in (t.id, t.name)]
    if len(found) != 1:
        raise NotebookError(f"{name}: no such task (the function's name, e.g. \"vjp\", or its id)")
    return found[0]


def grade(path: Path, patterns: tuple[str, ...] = (), *, lang: str = "en", seed: int | None = None,
          runner: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> dict[str, Any]:
    """Grade a notebook (or a folder of them) in a fresh ``grade run`` process; the report."""
    with tempfile.TemporaryDirectory(prefix="autograd-lab-nb-") as tmp:
        out = Path(tmp) / "report.json"
        args = [sys.executable, "-P", "-m", "grader", "run", str(path), "-o", str(out), "--lang", lang]
        for pattern in patterns:
            args += ["-k", pattern]
        if seed is not None:
            args += ["--seed", str(seed)]
        done = runner(args, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        if not out.exists():
            raise NotebookError((done.stderr or done.stdout).strip().splitlines()[-1] if (done.stderr or done.stdout)
                                else f"grade run exited {done.returncode}")
        return json.loads(out.read_text(encoding="utf-8"))


def feedback(report: dict[str, Any], task_id: str, hints: int = 0) -> str:
    """What a check cell prints for one task: as ``grade run`` shows it, its hints only on
    request (``hints=1``), the task restated too with ``hints=2``."""
    from .formats._common import lost_groups
    from .i18n import translator
    from .formats.terminal import _lost_lines, _output_lines  # the terminal's own lines
    from .status import text as status_text

    t = translator(report.get("language", "en"))
    task = next(x for x in report["tasks"] if x["id"] == task_id)
    spec = _task(task_id)
    status = t(status_text(task["status"]))
    lines = [f"{task_id}: {task['score']:g}/{task['max_score']:g} · {status}"]
    plain = lambda text, **kw: text  # noqa: E731
    groups = lost_groups(task)
    earned = [g for g in groups if g.get("hint")]
    for group in groups:
        lines += _lost_lines(group if hints >= 1 else {**group, "hint": ""}, task, t, plain)
    printed = task.get("output")
    if printed and printed.get("text") and task["status"] != "passed":
        lines += _output_lines(printed, t)
    if hints >= 1 and not earned and groups:
        lines.append("  " + t("No hint for this answer."))
    elif hints < 1 and earned:
        lines.append("  " + t("A hint is available: notebook.check(\"{task}\", hints=1)").format(task=spec.name))
    if hints >= 2:
        lines += ["", f"{spec.id} — {spec.signature}", "  " + t(spec.summary), "  " + t("e.g.") + " " + t(spec.seed)]
    return "\n".join(lines)


def check(task: str, *, hints: int = 0, path: str | os.PathLike[str] | None = None, lang: str | None = None,
          seed: int | None = None) -> None:
    """Grade this notebook's saved code for one task and print its feedback (the task's
    function name, e.g. ``"vjp"``). Save the notebook first: the grader reads the file."""
    from .i18n import default_language

    spec = _task(task)
    nb = current_notebook(path)
    report = grade(nb, (spec.id,), lang=lang or default_language(), seed=seed)
    print(feedback(report, spec.id, hints))


# Building notebooks from modules (grade release --notebooks) -------------------------------


def from_module(module: str, source: str) -> Any:
    """A notebook for one module: its docstring as markdown, then per function its docstring
    (both languages, as the stub has them) as markdown, its code, and for a task a check cell."""
    import nbformat
    from nbformat import v4

    tree = ast.parse(source)
    lines = source.split("\n")
    cells = []
    body = list(tree.body)
    doc = ast.get_docstring(tree)
    if doc and body and isinstance(body[0], ast.Expr):
        cells.append(v4.new_markdown_cell(f"# {module}\n\n" + _markdown(doc)))
        start = body[0].end_lineno or 1
        body = body[1:]
    else:
        cells.append(v4.new_markdown_cell(f"# {module}"))
        start = 0
    tasks = {t.name: t for t in TASKS if t.module == module}
    pending: list[str] = []
    for node in body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        chunk = "\n".join(lines[start:node.end_lineno]).strip("\n")
        start = node.end_lineno or first
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if pending:
                cells.append(v4.new_code_cell("\n".join(pending).strip("\n")))
                pending = []
            node_doc = ast.get_docstring(node)
            if node_doc:
                cells.append(v4.new_markdown_cell(f"## `{node.name}`\n\n" + _markdown(node_doc)))
            cells.append(v4.new_code_cell(chunk))
            if node.name in tasks:
                check = v4.new_code_cell(f'from grader import notebook\nnotebook.check("{node.name}")')
                check.metadata["tags"] = [CHECK_TAG]
                cells.append(check)
        else:
            pending.append(chunk)
    if pending:
        cells.append(v4.new_code_cell("\n".join(pending).strip("\n")))
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def _markdown(doc: str) -> str:
    """A docstring shown as markdown: its layout kept (indented blocks as code)."""
    return "\n".join(("    " + line if line.startswith(" ") else line) for line in doc.split("\n"))


def write_notebooks(exercises: Path, out: Path) -> list[Path]:
    """``out/<module>.ipynb`` for every module in ``exercises``."""
    import nbformat

    written = []
    out.mkdir(parents=True, exist_ok=True)
    for module in MODULES:
        path = exercises / f"{module}.py"
        if path.is_file():
            target = out / f"{module}.ipynb"
            nbformat.write(from_module(module, path.read_text(encoding="utf-8")), str(target))
            written.append(target)
    return written
