"""Known-wrong submissions: the reference solutions with one mistake patched in.

A mutant is a file ``mutants/<module>/<mistake>.py`` holding a replacement for
one or more functions of that module (appended to the reference module, so its
definitions win) and a docstring header that states the verdict it must get::

    \"\"\"J·v instead of Jᵀ·v.

    loses: ex03_vjp.vjp
    status: failed
    hint: jv_not_jtv
    \"\"\"

``loses`` lists the tasks that must score below full marks (every other task must
keep full marks); ``status`` (optional) the status those tasks must get; ``hint``
(optional) a hint code that one of their checks must give.
"""
from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .tasks import BY_ID, MODULES


@dataclass(frozen=True)
class Mutant:
    path: Path
    module: str
    loses: tuple[str, ...]
    status: str | None
    hint: str | None
    summary: str

    @property
    def name(self) -> str:
        return f"{self.module}/{self.path.stem}"


def load(path: Path) -> Mutant:
    source = path.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(source)) or ""
    fields = dict(re.findall(r"^(loses|status|hint):\s*(.+?)\s*$", doc, flags=re.M))
    module = path.parent.name
    if module not in MODULES:
        raise ValueError(f"{path}: folder must be named after an exercise module")
    loses = tuple(fields.get("loses", "").split())
    unknown = [t for t in loses if t not in BY_ID]
    if not loses or unknown:
        raise ValueError(f"{path}: 'loses:' must name tasks ({', '.join(unknown) or 'none given'})")
    return Mutant(path, module, loses, fields.get("status"), fields.get("hint"), doc.splitlines()[0] if doc else "")


def discover(root: Path) -> list[Mutant]:
    """Every mutant under ``root``, module by module in task order; a folder that is
    not an exercise module is an error (``load`` names it), not silently skipped."""
    order = {module: i for i, module in enumerate(MODULES)}
    paths = [p for p in root.glob("*/*.py") if p.parent.name != "__pycache__"]
    return [load(p) for p in sorted(paths, key=lambda p: (order.get(p.parent.name, len(order)), p.name))]


def materialise(mutant: Mutant, solutions: Path, target: Path) -> Path:
    """Copy the solutions into ``target`` and patch the mutant into its module."""
    target.mkdir(parents=True, exist_ok=True)
    for module in MODULES:
        shutil.copyfile(solutions / f"{module}.py", target / f"{module}.py")
    patched = target / f"{mutant.module}.py"
    patched.write_text(patched.read_text(encoding="utf-8") + "\n\n# --- mutant ---\n"
                       + mutant.path.read_text(encoding="utf-8"), encoding="utf-8")
    return target
