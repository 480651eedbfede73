"""Reading a submission from disk, as text only."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

from .deadline import TooSlow, bounded
from .pyast import Finding
from .scan import ModuleScan, scan_module
from .tasks import MODULES

MAX_MODULE_BYTES = 512 * 1024
# Reading one module's text (its scan and its tasks' static verdicts) takes at most
# this long; the largest honest module seen takes 0.2 s.
SCAN_SECONDS = 10.0
T = TypeVar("T")


class BadSubmission(ValueError):
    """The path given is not a submission at all (exit status 2).

    ``template`` is the English message (a gettext id) and ``params`` fill it, so
    that the command line can say it in the student's language.
    """

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template.format(**params))
        self.template = template
        self.params = params

    def render(self, lang: str) -> str:
        from .i18n import translator

        return translator(lang)(self.template).format(**self.params)


@dataclass
class Submission:
    root: Path
    files: dict[str, dict] = field(default_factory=dict)   # module -> {path, sha256, bytes}
    sources: dict[str, str] = field(default_factory=dict)  # module -> text, for modules that decode
    scans: dict[str, ModuleScan] = field(default_factory=dict)
    oversized: set[str] = field(default_factory=set)
    linked: set[str] = field(default_factory=set)  # modules that are links, never read
    spent: dict[str, float] = field(default_factory=dict)  # seconds spent reading each module's text
    unreadable: dict[str, str] = field(default_factory=dict)  # module -> why its file could not be read
    built: dict[str, Any] = field(default_factory=dict)  # module -> notebook.Built it was graded from
    notes: list[str] = field(default_factory=list)  # which file was graded as which module, and why

    def bounded(self, module: str, work: Callable[[], T]) -> T | ModuleScan:
        """``work()`` on the module's text, within what is left of its ``SCAN_SECONDS``;
        past them, the module becomes one the grader could not read (and never runs)."""
        scan = self.scans.get(module)
        if scan is not None and scan.syntax_error is not None and scan.syntax_error.code == "too_complex":
            return scan
        started = time.monotonic()
        try:
            with bounded(SCAN_SECONDS - self.spent.get(module, 0.0)):
                return work()
        except TooSlow:
            self.scans[module] = too_complex(module)
            return self.scans[module]
        finally:
            self.spent[module] = self.spent.get(module, 0.0) + time.monotonic() - started


def too_complex(module: str) -> ModuleScan:
    """A module whose text could not be read within ``SCAN_SECONDS``."""
    return ModuleScan(module, True, syntax_error=Finding(0, "too_complex", f"{SCAN_SECONDS:g}"))


def locate(path: str | Path) -> Path:
    """The folder holding the exercise modules: PATH itself, or PATH/exercises (for a
    notebook, the folder it is in); ``BadSubmission`` if it holds no module nor notebook."""
    from .layout import LayoutError, find

    try:
        return find(path).root
    except LayoutError as exc:
        raise BadSubmission(exc.template, **exc.params) from None


def read(path: str | Path, t: Callable[[str], str] | None = None) -> Submission:
    """The submission at ``path`` (a folder, or a notebook), as ``layout`` chooses its files;
    its notes in the language of ``t`` (a gettext translator; default English)."""
    from .layout import LayoutError, choose, find

    try:
        layout = find(path)
    except LayoutError as exc:
        raise BadSubmission(exc.template, **exc.params) from None
    chosen = choose(layout, t) if t else choose(layout)
    if not chosen.py and not chosen.built:
        if chosen.problem:
            raise BadSubmission("{problem}", problem=chosen.problem)
        raise BadSubmission("{path}: no exercise function in this notebook (name it like ex01_backward.ipynb, "
                            "or define the tasks' functions in it)", path=path)
    given = Path(path)
    sub = Submission(root=(given if given.is_file() else layout.root).resolve(), notes=chosen.notes,
                     built=chosen.built)
    given = (given.parent if given.is_file() else given).resolve()
    for module in MODULES:
        if module in chosen.built:
            _read_built(sub, module, chosen.built[module])
            continue
        file = chosen.py.get(module)
        if file is None:
            sub.scans[module] = scan_module(module, None)
            continue
        if file.is_symlink() or not file.resolve().is_relative_to(given):
            # A link out of the submission (to the solutions beside it in CI, or to
            # another student's folder) would grade someone else's file: not read.
            sub.linked.add(module)
            sub.scans[module] = ModuleScan(module, present=True)  # there, never read
            continue
        try:
            with open(file, "rb") as f:
                data = f.read(MAX_MODULE_BYTES + 1)  # never more: a module is a small text file
            size = max(len(data), file.stat().st_size)
        except OSError as exc:
            # The grading machine's permissions, not the student's code: this module's
            # tasks say so, and the others are graded.
            sub.unreadable[module] = exc.strerror or type(exc).__name__
            sub.scans[module] = ModuleScan(module, present=True)  # there, never read
            continue
        sub.files[module] = {"path": file.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": size}
        if len(data) > MAX_MODULE_BYTES:
            sub.oversized.add(module)
            sub.scans[module] = ModuleScan(module, present=True)
            continue
        # utf-8-sig: editors on Windows often save a byte-order mark, which Python accepts.
        text = data.decode("utf-8-sig", errors="replace")
        _read_text(sub, module, text)
    return sub


def _read_text(sub: Submission, module: str, text: str) -> None:
    sub.sources[module] = text
    sub.scans[module] = sub.bounded(module, lambda module=module, text=text: scan_module(module, text))


def _read_built(sub: Submission, module: str, built: Any) -> None:
    """A module built from a notebook's code cells: graded from that source; the
    report names the notebook, with its bytes' digest."""
    try:
        data = built.notebook.read_bytes()
    except OSError:
        data = built.source.encode("utf-8")
    sub.files[module] = {"path": built.notebook.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    _read_text(sub, module, built.source)
