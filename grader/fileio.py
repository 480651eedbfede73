"""Writing files so that a reader never sees half of one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def shown(text: str) -> str:
    """``text`` as it can be written in UTF-8: the bytes of a file name that is not UTF-8
    (which Python holds as lone surrogates) become backslash escapes (``wang_\\xcd\\xf5``)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") \
            if _only_escaped(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _only_escaped(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
        return True
    except UnicodeEncodeError:
        return False


def shown_all(value):
    """``value`` (JSON data) with every string ``shown``."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {shown_all(k): shown_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown_all(v) for v in value]
    return value


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``path``, then rename it into place."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    done = False
    try:
        # mkstemp makes the file private; a report is an ordinary file (umask applies).
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, target)
        done = True
    finally:
        if not done:
            try:
                os.unlink(tmp)
            except OSError:
                pass


class FolderInUse(OSError):
    """Another process holds the lock; ``holder`` is the process id it wrote, or ''."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"in use by process {holder or '?'}")
        self.holder = holder


def lock_exclusive(path: str | Path) -> int:
    """Take an exclusive lock on the file ``path`` (created if need be) and write this
    process's id in it; the descriptor, which holds the lock until it is closed (or the
    process ends). ``FolderInUse`` if another process holds it; ``OSError`` if the file
    cannot be made. POSIX only (``fcntl.flock``)."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
        except OSError:
            holder = ""
        os.close(fd)
        raise FolderInUse(holder) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    return fd
