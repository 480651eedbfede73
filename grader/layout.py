"""Which files of a submission folder are graded as which exercise module.

One rule for ``grade run``, ``grade batch`` and Gradescope:

- the modules are ``exNN_*.py`` in the folder given, or else in its ``exercises/``
  folder (a clone of the student release);
- notebooks are read from the folder given, from the modules' folder, and from a
  ``notebooks/`` folder beside them (where ``grade release --notebooks`` puts them);
- a module with a ``.py`` is graded from it, unless that ``.py`` is the exercise as
  shipped (the untouched stub) and a notebook holds the module: then the notebook is
  graded (the student worked in Jupyter and left the stub alone);
- a module with no ``.py`` is graded from a notebook that holds it.

``find`` only lists files (for ``intake.digest`` and the batch's warm-up);
``choose`` reads the notebooks (never executes them) and decides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .tasks import MODULES


class LayoutError(ValueError):
    """The path holds nothing that can be graded, or cannot be read; ``template`` and
    ``params`` as in ``submission.BadSubmission``."""

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template.format(**params))
        self.template = template
        self.params = params


class Unreadable(LayoutError):
    """The folder cannot be listed by the grading user (mode 000)."""


@dataclass
class Layout:
    root: Path                                                  # the folder holding the .py modules
    py: dict[str, Path] = field(default_factory=dict)           # module -> its .py file
    notebooks: list[Path] = field(default_factory=list)


@dataclass
class Chosen:
    py: dict[str, Path] = field(default_factory=dict)           # module -> the .py graded as it
    built: dict[str, Any] = field(default_factory=dict)         # module -> notebook.Built graded as it
    notes: list[str] = field(default_factory=list)              # what the student should know (English)
    problem: str = ""                                           # why no notebook could be used, if none could


NOTEBOOKS_DIR = "notebooks"


def modules_in(folder: Path) -> dict[str, Path]:
    """The exercise modules' ``.py`` files directly in ``folder``."""
    return {m: folder / f"{m}.py" for m in MODULES if (folder / f"{m}.py").is_file()}


def _notebooks_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".ipynb" and not p.name.startswith(".")
                  and not p.is_dir())


def find(path: str | Path) -> Layout:
    """The modules and notebooks of the submission at ``path`` (a folder or a notebook);
    ``LayoutError`` if it holds none, or cannot be read. Nothing is opened here."""
    given = Path(path)
    if not given.exists():
        raise LayoutError("{path}: no such file or directory", path=path)
    if given.is_file() and given.suffix.lower() == ".ipynb":
        return Layout(given.parent, {}, [given])
    if not given.is_dir():
        raise LayoutError("{path}: not a folder (give the folder that holds ex01_backward.py, ...)", path=path)
    try:
        found = _listed(given)
    except OSError as exc:  # a folder the grading user may not enter (mode 000)
        raise Unreadable("{path}: cannot be read ({reason})", path=path,
                          reason=exc.strerror or type(exc).__name__) from None
    if not found.py and not found.notebooks:
        raise LayoutError("{path}: no exercise modules found (expected {first}.py ... {last}.py "
                          "in it or in its exercises/ folder)", path=path, first=MODULES[0], last=MODULES[-1])
    return found


def _listed(given: Path) -> Layout:
    root = given
    py = modules_in(given)
    if not py and modules_in(given / "exercises"):
        root = given / "exercises"
        py = modules_in(root)
    notebooks: list[Path] = []
    inside = given.resolve()
    for folder in dict.fromkeys([given, root, given / NOTEBOOKS_DIR, root / NOTEBOOKS_DIR]):
        # A linked folder out of the submission would grade someone else's notebooks.
        if folder.is_dir() and folder.resolve().is_relative_to(inside):
            notebooks += _notebooks_in(folder)
    return Layout(root, py, notebooks)


def shipped_stub(module: str, file: Path) -> bool:
    """Whether ``file`` is the exercise module exactly as shipped (the untouched stub)."""
    from .deadline import TooSlow, bounded
    from .static import is_shipped
    from .submission import MAX_MODULE_BYTES, SCAN_SECONDS

    try:
        if file.is_symlink():
            return False
        with open(file, "rb") as f:
            data = f.read(MAX_MODULE_BYTES + 1)
    except OSError:
        return False
    if len(data) > MAX_MODULE_BYTES:
        return False
    try:
        with bounded(SCAN_SECONDS):  # the text is the student's: its reading is bounded as grading bounds it
            return is_shipped(module, data.decode("utf-8-sig", errors="replace"))
    except TooSlow:
        return False


def choose(layout: Layout, t: Callable[[str], str] = lambda s: s) -> Chosen:
    """Which file is graded as each module (by the rule above), the notebooks read;
    the notes for the student in the language of ``t`` (a gettext translator)."""
    from .notebook import NotebookError, convert

    chosen = Chosen(py=dict(layout.py))
    if not layout.notebooks:
        return chosen
    unreadable: list[NotebookError] = []
    built, notes = convert(layout.notebooks, unreadable)
    chosen.notes += [str(exc) for exc in unreadable] + notes
    chosen.problem = str(unreadable[0]) if unreadable else ""
    for module, nb in built.items():
        py = layout.py.get(module)
        if py is None:
            chosen.built[module] = nb
        elif shipped_stub(module, py):
            chosen.built[module] = nb
            del chosen.py[module]
            chosen.notes.append(t("{file} is the exercise as handed out, unchanged: {notebook} is graded as {module}.py.")
                                .format(file=py.name, notebook=nb.notebook.name, module=module))
        elif module_named(nb.notebook, module):
            chosen.notes.append(t("{file} was not graded: {chosen} is graded as {module}.py.")
                                .format(file=nb.notebook.name, chosen=py.name, module=module))
    return chosen


def module_named(notebook: Path, module: str) -> bool:
    from .gather import module_for

    return module_for(notebook.stem + ".py") == module
