"""The status vocabulary: what a task ended as, what one check ended as.

The report, the terminal summary, every format and the report's schema all read
these two types; a test keeps the schema's enums equal to them.
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A task's status in the report."""

    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    NOT_IMPLEMENTED = "not_implemented"
    MISSING = "missing"
    ERROR = "error"          # the student's code raised (or the grader failed on the task)
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    FORBIDDEN = "forbidden"

    @property
    def text(self) -> str:
        """The status as students read it (a gettext id)."""
        return self.value.replace("_", " ")

    @property
    def colour(self) -> str:
        return _COLOURS.get(self, "red")


class Outcome(StrEnum):
    """One check's outcome in the report."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_IMPLEMENTED = "not_implemented"
    MISSING = "missing"
    ERROR = "error"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    FORBIDDEN = "forbidden"
    GRADER_ERROR = "grader_error"  # the check itself failed: the grader's fault, not the student's

    @property
    def kind(self) -> str:
        """The three kinds test platforms know: passed, failed or error."""
        if self is Outcome.PASSED:
            return "passed"
        return "error" if self in _ERRORS else "failed"


_COLOURS = {Status.PASSED: "green", Status.PARTIAL: "yellow", Status.NOT_IMPLEMENTED: "blue",
            Status.MISSING: "magenta"}
_ERRORS = {Outcome.ERROR, Outcome.TIMEOUT, Outcome.CRASHED, Outcome.GRADER_ERROR}


def text(status: str) -> str:
    """A status code as students read it (a gettext id); an unknown code as it is."""
    try:
        return Status(status).text
    except ValueError:
        return status


def colour(status: str) -> str | None:
    try:
        return Status(status).colour
    except ValueError:
        return None


def task_status(outcomes: set[str], score: float, max_score: float) -> Status:
    """A task's status from its checks' outcomes and its score.

    Full points pass and some points are partial. With none, the first of these
    that a check ended as names the task: forbidden, timeout, crashed; then a wrong
    value (failed) before an error, since "error" says the code raised and a wrong
    value that ran without raising is a failure even where another input made the
    code raise; a check the grader failed on makes the task "error" (its feedback
    and the report's grader_errors say whose).
    """
    if max_score and score >= max_score:
        return Status.PASSED
    if score > 0:
        return Status.PARTIAL
    for outcome in (Outcome.FORBIDDEN, Outcome.TIMEOUT, Outcome.CRASHED, Outcome.FAILED, Outcome.ERROR,
                    Outcome.MISSING):
        if outcome in outcomes:
            return Status(outcome.value)
    if Outcome.GRADER_ERROR in outcomes:
        return Status.ERROR
    if outcomes and outcomes <= {Outcome.NOT_IMPLEMENTED, "skipped"}:
        return Status.NOT_IMPLEMENTED
    return Status.FAILED
