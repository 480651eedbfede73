"""``python -m grader``: the ``grade`` command, for when the script is not on PATH."""
from __future__ import annotations

import os
import sys

# ``python -m`` puts the working directory first on the import path; run from inside a
# student's folder, that folder's modules would stand in for the ones the grader
# imports later (the standard library's included). The grader is loaded by now.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from .cli import entry  # noqa: E402

if __name__ == "__main__":
    entry()
