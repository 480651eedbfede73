"""Find the exercise modules in whatever a student uploaded.

An upload platform (Gradescope) hands over a folder as the student left it: files in
sub-folders, names a browser changed (``ex01_backward (1).py``), capitals, a notebook
instead of modules, an archive, or nothing at all. ``gather`` picks, for each module,
the file that is unambiguously it, copies it under its proper name into a fresh folder
for ``grade run``, and says in plain words (the student reads them) what it did and what
it could not use. Only text is read here; nothing is executed.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .fileio import shown
from .tasks import MODULES

IGNORED_DIRS = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints", ".venv", "venv"}
# What browsers and file managers add to a name: "x (1).py", "x-1.py", "x copy.py", "x - Copy.py".
_DUPLICATE_SUFFIX = re.compile(r"(\s*\(\d+\)|[-_ ]\d+|\s*-?\s*copy(\s*\d+)?)$", re.IGNORECASE)
_NUMBER = re.compile(r"^ex0*(\d+)", re.IGNORECASE)


@dataclass
class Gathered:
    modules: dict[str, Path] = field(default_factory=dict)   # module -> the file graded as it
    notebooks: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)            # English templates rendered by ``t``
    unused: list[str] = field(default_factory=list)           # relative paths not graded

    @property
    def empty(self) -> bool:
        return not self.modules and not self.notebooks


def _files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*"), key=lambda p: (len(p.relative_to(root).parts), str(p))):
        rel = path.relative_to(root)
        if any(part in IGNORED_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            found.append(path)
    return found


def module_for(name: str) -> str | None:
    """The module a file name stands for, or None: exact, or after undoing a browser's
    renaming and capitals, or by its exercise number (``ex01.py``, ``Ex1-backward.py``)."""
    if not name.lower().endswith(".py"):
        return None
    stem = name[:-3].strip()
    if stem in MODULES:
        return stem
    clean = _DUPLICATE_SUFFIX.sub("", stem).strip().lower().replace("-", "_").replace(" ", "_")
    if clean in MODULES:
        return clean
    number = _NUMBER.match(clean)
    if number:
        matches = [m for m in MODULES if int(m[2:4]) == int(number.group(1))]
        if len(matches) == 1:
            return matches[0]
    return None


def gather(upload: Path, t: Callable[[str], str] = lambda s: s) -> tuple[Gathered, list[str]]:
    """What in ``upload`` can be graded, and the student-facing notes (rendered with ``t``)."""
    found = Gathered()
    notes: list[str] = []
    candidates: dict[str, list[Path]] = {}
    for path in _files(upload):
        rel = shown(path.relative_to(upload).as_posix())
        if path.suffix.lower() == ".ipynb":
            found.notebooks.append(path)
            continue
        module = module_for(path.name)
        if module is None:
            found.unused.append(rel)
            continue
        candidates.setdefault(module, []).append(path)
    for module in MODULES:
        paths = candidates.get(module, [])
        if not paths:
            continue
        exact = [p for p in paths if p.name == f"{module}.py"]
        chosen = (exact or paths)[0]
        found.modules[module] = chosen
        rel = shown(chosen.relative_to(upload).as_posix())
        if chosen.name != f"{module}.py":
            notes.append(t("{file} was graded as {module}.py: name it exactly {module}.py next time.").format(
                file=rel, module=module))
        for other in paths:
            if other is not chosen:
                found.unused.append(shown(other.relative_to(upload).as_posix()))
                notes.append(t("{file} was not graded: {chosen} is graded as {module}.py.").format(
                    file=shown(other.relative_to(upload).as_posix()), chosen=rel, module=module))
    missing = [m for m in MODULES if m not in found.modules]
    if found.modules and missing and not found.notebooks:
        notes.append(t("Not in your upload: {modules}.").format(modules=", ".join(f"{m}.py" for m in missing)))
    return found, notes


def place(found: Gathered, into: Path) -> Path:
    """Copy the chosen modules under their proper names into ``into`` (a folder ``grade run`` reads)."""
    into.mkdir(parents=True, exist_ok=True)
    for module, path in found.modules.items():
        shutil.copyfile(path, into / f"{module}.py")
    return into
