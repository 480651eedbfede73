"""The grader's errors: its own failures, and the command line's, each carrying its
exit status (click prints them)."""
from __future__ import annotations

import click

EXIT_OK, EXIT_BELOW, EXIT_USAGE, EXIT_GRADER = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class GraderError(RuntimeError):
    """The grader itself (not the submission) failed: its checks or its sandbox."""


class BadInput(click.ClickException):
    """Bad usage or input: one clear line, nothing written (exit status 2)."""

    exit_code = EXIT_USAGE


class GraderFailed(click.ClickException):
    """The grader itself failed (exit status 3)."""

    exit_code = EXIT_GRADER
