"""Outputs never land on inputs: the one rule every command's ``-o`` follows.

A report written over the student's module, a gradebook written over one of the
reports it was built from, a batch's output folder inside the submissions it
grades: each destroys what it was asked to read. ``clash`` finds these before
anything is written, through symbolic links and ``..`` alike.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


def same_file(a: str | Path, b: str | Path) -> bool:
    """The same file, by name after resolving links, or by inode (a hard link)."""
    if _real(a) == _real(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def inside(path: str | Path, folder: str | Path) -> bool:
    """``path`` is ``folder`` or lies somewhere below it."""
    real, top = _real(path), _real(folder)
    return real == top or top in real.parents


def clash(output: str | Path, *, files: Iterable[str | Path] = (), folders: Iterable[str | Path] = ()) -> str | None:
    """Why writing ``output`` would destroy an input, or None: it is one of ``files``,
    or it lies inside one of ``folders``."""
    for file in files:
        if same_file(output, file):
            return f"is the input {file}"
    for folder in folders:
        if inside(output, folder):
            return f"is inside the input folder {folder}"
    return None
