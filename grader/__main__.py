"""``python -m grader``: the ``grade`` command, for when the script is not on PATH."""
from __future__ import annotations

from .cli import entry

if __name__ == "__main__":
    entry()
