"""Reading a submission from disk, as text only."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .scan import ModuleScan, scan_module
from .tasks import MODULES

MAX_MODULE_BYTES = 512 * 1024


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


def locate(path: str | Path) -> Path:
    """The folder holding the exercise modules: PATH itself, or PATH/exercises."""
    root = Path(path)
    if not root.exists():
        raise BadSubmission("{path}: no such file or directory", path=path)
    if not root.is_dir():
        raise BadSubmission("{path}: not a folder (give the folder that holds ex01_backward.py, ...)", path=path)
    def has_modules(folder: Path) -> bool:
        return any((folder / f"{m}.py").is_file() for m in MODULES)
    if has_modules(root):
        return root
    if has_modules(root / "exercises"):
        return root / "exercises"
    raise BadSubmission("{path}: no exercise modules found (expected {first}.py ... {last}.py "
                        "in it or in its exercises/ folder)", path=path, first=MODULES[0], last=MODULES[-1])


def read(path: str | Path) -> Submission:
    root = locate(path)
    sub = Submission(root=root.resolve())
    for module in MODULES:
        file = root / f"{module}.py"
        if not file.is_file():
            sub.scans[module] = scan_module(module, None)
            continue
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise BadSubmission("{path}: cannot be read ({reason})", path=file, reason=exc.strerror) from None
        sub.files[module] = {"path": file.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        if len(data) > MAX_MODULE_BYTES:
            sub.oversized.add(module)
            sub.scans[module] = scan_module(module, None)
            sub.scans[module].present = True
            continue
        # utf-8-sig: editors on Windows often save a byte-order mark, which Python accepts.
        text = data.decode("utf-8-sig", errors="replace")
        sub.sources[module] = text
        sub.scans[module] = scan_module(module, text)
    return sub
