"""The intake of ``grade batch``: which submissions there are, and their content.

Submissions are found in a folder (sub-folders and archives) or a CSV/text list of
paths, named uniquely and safely, sharded for CI matrices, identified by a digest
of their content (for ``--resume``), and unpacked safely when archived. Nothing
here imports torch or runs student code.
"""
from __future__ import annotations

import csv
import errno
import hashlib
import os
import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .layout import LayoutError, Unreadable, find
from .notebook import MAX_NOTEBOOK_BYTES
from .static import NEEDS_FUNC_WARM_UP
from .tasks import MODULES

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
MAX_ARCHIVE_BYTES = 20 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 2000


class BatchError(ValueError):
    """The batch's input cannot be used at all (exit status 2)."""


@dataclass(frozen=True)
class Item:
    name: str      # unique, safe as a file name
    path: Path     # a folder or an archive


def _safe(name: str) -> str:
    stem = name
    for suffix in ARCHIVE_SUFFIXES + (".ipynb",):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "submission"


def discover(source: str | Path) -> list[Item]:
    """The submissions in a folder (sub-folders and archives) or in a CSV/text list of paths."""
    root = Path(source)
    if not root.exists():
        raise BatchError(f"{source}: no such file or directory")
    if root.is_dir():
        if any((root / f"{m}.py").is_file() or (root / f"{m}.ipynb").is_file() for m in MODULES):
            raise BatchError(f"{source}: this is one submission; give the folder that holds the submissions")
        # A notebook beside the folders is one student's submission, as grade run grades it.
        paths = sorted(p for p in root.iterdir() if not p.name.startswith(".")
                       and (p.is_dir() or p.name.lower().endswith(ARCHIVE_SUFFIXES + (".ipynb",))))
    else:
        paths = _listed(root)
    items: list[Item] = []
    # Each submission's own name, compared as a case-insensitive file system would: a
    # second "s" becomes "s-2" only if no submission is called "s-2" itself.
    own = {_safe(path.name).casefold() for path in paths}
    taken: set[str] = set()
    for path in paths:
        base = name = _safe(path.name)
        k = 1
        while name.casefold() in taken or (k > 1 and name.casefold() in own):
            k += 1
            name = f"{base}-{k}"
        taken.add(name.casefold())
        items.append(Item(name, path))
    if not items:
        raise BatchError(f"{source}: no submissions found (folders or .zip/.tar archives)")
    return items


def _listed(listing: Path) -> list[Path]:
    try:
        text = listing.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"{listing}: cannot be read as a list of paths ({exc})") from None
    rows = csv.reader(text.splitlines()) if listing.suffix.lower() == ".csv" else ([line] for line in text.splitlines())
    paths = []
    for row in rows:
        if not row or not row[0].strip() or row[0].strip().startswith("#"):
            continue
        entry = Path(row[0].strip())
        path = entry if entry.is_absolute() else listing.parent / entry
        if path.exists():
            paths.append(path)
        elif not paths and listing.suffix.lower() == ".csv":
            continue  # a header row
        else:
            paths.append(path)  # graded as "not a submission", never silently dropped
    if paths and not any(path.exists() for path in paths):
        # Not a list of submissions at all (a module, /etc/passwd, a report given by mistake).
        raise BatchError(f"{listing}: not a folder of submissions, and no line of it names an existing path "
                         "(a list gives one submission's folder or archive a line)")
    return paths


def shard(items: list[Item], spec: str | None) -> list[Item]:
    if not spec:
        return items
    match = re.fullmatch(r"(\d+)/(\d+)", spec)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise BatchError(f"--shard {spec}: expected K/N with 1 <= K <= N")
    k, n = int(match.group(1)), int(match.group(2))
    return items[k - 1 :: n]


def _files(path: Path) -> tuple[dict[str, Path], list[Path]]:
    """A folder submission's modules and notebooks, as ``layout.find`` lists them
    (nothing if it holds none); ``OSError`` if the folder cannot be read."""
    try:
        found = find(path)
    except Unreadable as exc:
        raise PermissionError(str(exc)) from None
    except LayoutError:
        return {}, []
    return found.py, found.notebooks


def _head(file: Path, limit: int = 1 << 20) -> bytes:
    """A module's first bytes (all of any real module); a link, what it points to: a
    link is never followed here (``submission.read`` refuses it when grading)."""
    if file.is_symlink():
        return b"link:" + str(file.readlink()).encode(errors="replace")
    with open(file, "rb") as f:
        return f.read(limit)


def digest(path: Path) -> str:
    """What identifies a submission's content: its archive's bytes or its modules' bytes."""
    h = hashlib.sha256()
    try:
        if path.is_file():
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            return h.hexdigest()
        modules, notebooks = _files(path)
        for module in MODULES:
            file = modules.get(module)
            h.update(module.encode() + b"\0")
            h.update(hashlib.sha256(_head(file)).digest() if file is not None else b"-")
        for notebook in notebooks:  # graded too: a changed notebook is a changed submission
            h.update(os.fsencode(notebook.relative_to(path)) + b"\0")
            h.update(hashlib.sha256(_head(notebook, MAX_NOTEBOOK_BYTES + 1)).digest())
    except OSError:
        h.update(b"unreadable")
    return h.hexdigest()


# A module's text without its comments and triple-quoted strings (docstrings): the
# exercises' docstrings name torch.func in their rules, which is no use of it.
_NOT_CODE = re.compile(rb'(?s)""".*?"""|\'\'\'.*?\'\'\'|#[^\n]*')
_NEEDS_FUNC = re.compile(rb"\b(?:" + b"|".join(sorted(n.encode() for n in NEEDS_FUNC_WARM_UP)) + rb")\b")


def warm_up_for(items: list[Item]) -> tuple[str, ...]:
    """What every worker's sandbox server loads before its first submission:
    ``("func",)`` if the code of any folder submission names torch.func or its kin
    (the names ``static.warm_up_for`` looks for, read roughly: comments and
    docstrings aside). Loaded up front, each server holds from the start the memory
    the batch will need, instead of growing when the first such submission reaches
    it. An archive is not opened here; its server loads what it needs on demand.
    Reading roughly costs nothing but a warm-up too many or too few.
    """
    for item in items:
        if not item.path.is_dir():
            continue
        try:
            modules, notebooks = _files(item.path)
        except OSError:  # that submission's report will say so
            continue
        for file in [*modules.values(), *notebooks]:
            try:
                text = _head(file)
            except OSError:
                continue
            if _NEEDS_FUNC.search(_NOT_CODE.sub(b"", text)):
                return ("func",)
    return ()


def unpack(path: Path, into: Path) -> Path:
    """What to grade of a submission: a folder or a notebook as it is; an archive
    unpacked into ``into``. ``BatchError`` (the student's problem, naming the archive,
    never the temporary folder) if the archive cannot be unpacked or holds nothing to grade."""
    if not path.is_file() or path.suffix.lower() == ".ipynb" or not path.name.lower().endswith(ARCHIVE_SUFFIXES):
        return path
    try:
        folder = extract(path, into)
    except BatchError as exc:
        raise BatchError(f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - truncated, corrupt or unsupported: zlib, lzma, EOFError, ...
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise  # the grading machine's disk, not the student's archive
        detail = " ".join(f"{type(exc).__name__}: {exc}".replace(str(into), "").split())[:200]
        raise BatchError(f"{path}: not a readable archive ({detail})") from None
    try:
        find(folder)
    except LayoutError:
        raise BatchError(f"{path}: the archive holds no exercise modules (expected {MODULES[0]}.py ... "
                         f"{MODULES[-1]}.py, or notebooks named like them)") from None
    return folder


def extract(archive: Path, into: Path) -> Path:
    """Unpack a student's archive safely (no links, no paths outside, size-capped)."""
    total = 0
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise BatchError("too many files in the archive")
            for info in members:
                target = (into / info.filename).resolve()
                if not target.is_relative_to(into.resolve()) or info.external_attr >> 28 == 0xA:
                    continue
                total += info.file_size
                if total > MAX_ARCHIVE_BYTES:
                    raise BatchError("the archive unpacks to more than 20 MB")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
    else:
        with tarfile.open(archive) as tf:
            members = [m for m in tf.getmembers() if m.isfile() or m.isdir()]
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise BatchError("too many files in the archive")
            if sum(m.size for m in members) > MAX_ARCHIVE_BYTES:
                raise BatchError("the archive unpacks to more than 20 MB")
            root = into.resolve()
            members = [m for m in members if (into / m.name).resolve().is_relative_to(root)]
            if hasattr(tarfile, "data_filter"):
                tf.extractall(into, members=members, filter="data")
            else:  # Python before 3.10.12 / 3.11.4: members were checked above
                tf.extractall(into, members=members)
    entries = [p for p in into.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return into
