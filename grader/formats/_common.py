"""What every format shares: how a check's outcome maps to a platform status,
how checks are named and numbered, and how points are printed.

Everything here reads a report (plain JSON, schema version 1) and nothing else:
no torch, no I/O.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

# A check's outcome, in the three kinds the platforms know.
PASSED, FAILED, ERROR = "passed", "failed", "error"
OUTCOME_KIND: dict[str, str] = {
    "passed": PASSED,
    "failed": FAILED,
    "forbidden": FAILED,
    "not_implemented": FAILED,
    "missing": FAILED,
    "error": ERROR,
    "timeout": ERROR,
    "crashed": ERROR,
    "grader_error": ERROR,
}

# Characters XML 1.0 cannot hold at all, not even escaped (C0 controls but tab,
# newline, carriage return; lone surrogates; U+FFFE and U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def kind(check: dict[str, Any]) -> str:
    """``passed``, ``failed`` or ``error`` for a check's report entry.

    An outcome this grader does not know (``skipped``, or one from a newer
    grader) is a failure, never a pass; so is a check that ran fine but scored
    less than its points (its task was forbidden at run time, which zeroes all).
    """
    verdict = OUTCOME_KIND.get(check.get("outcome", ""), FAILED)
    if verdict == PASSED and float(check["score"]) < float(check["max_score"]):
        return FAILED
    return verdict


def points(x: float) -> str:
    """2.0 -> "2", 0.5 -> "0.5"."""
    return f"{float(x):g}"


def check_name(task: dict[str, Any], check: dict[str, Any]) -> str:
    """``"<task id>: <check title>"`` (the check's id when it has no title)."""
    return f"{task['id']}: {check.get('title') or check['id']}"


def iter_checks(report: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(number, task, check) for every check, numbered "task.check" from 1 in report order."""
    for i, task in enumerate(report.get("tasks", []), start=1):
        for j, check in enumerate(task.get("checks", []), start=1):
            yield f"{i}.{j}", task, check


def hidden(check: dict[str, Any]) -> bool:
    return check.get("visibility") == "hidden"


def xml_safe(text: str) -> str:
    """Text XML 1.0 can hold: characters it cannot are shown as ``\\xNN`` /
    ``\\uNNNN`` escapes (a student's exception message may carry ANSI colour codes)."""
    def escape(match: re.Match[str]) -> str:
        code = ord(match.group(0))
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _NOT_XML.sub(escape, text)
