"""What every format shares: how a check's outcome maps to a platform status,
how checks are named and numbered, and how points are printed.

Everything here reads a report (plain JSON, schema version 1) and nothing else:
no torch, no I/O.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from ..status import Outcome

# A check's outcome, in the three kinds the platforms know (``status.Outcome.kind``).
PASSED, FAILED, ERROR = "passed", "failed", "error"

# Characters XML 1.0 cannot hold at all, not even escaped (C0 controls but tab,
# newline, carriage return; lone surrogates; U+FFFE and U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def kind(check: dict[str, Any]) -> str:
    """``passed``, ``failed`` or ``error`` for a check's report entry.

    An outcome this grader does not know (``skipped``, or one from a newer
    grader) is a failure, never a pass; so is a check that ran fine but scored
    less than its points (its task was forbidden at run time, which zeroes all).
    """
    try:
        verdict = Outcome(check.get("outcome", "")).kind
    except ValueError:
        verdict = FAILED
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


def lost_groups(task: dict[str, Any]) -> list[dict[str, Any]]:
    """The task's lost points by reason (the report's ``lost``), every view's one source.

    A report written before ``lost`` existed gets one entry per lost check, so its
    points still add up.
    """
    if isinstance(task.get("lost"), list):
        return task["lost"]
    groups: dict[str, dict[str, Any]] = {}
    for check in task.get("checks", []):
        missing = float(check["max_score"]) - float(check["score"])
        if missing <= 0:
            continue
        reason = check.get("feedback", "")
        group = groups.setdefault(reason, {"reason": reason, "points": 0.0, "checks": 0, "hint": "",
                                           "check_ids": []})
        group["points"] += missing
        group["checks"] += 1
        group["check_ids"].append(check["id"])
    return list(groups.values())


def lost_title(group: dict[str, Any], task: dict[str, Any]) -> str:
    """The title of the one check a reason covers ("" when it covers several)."""
    ids = group.get("check_ids") or []
    if group.get("checks") != 1 or not ids:
        return ""
    return next((c.get("title") or c["id"] for c in task.get("checks", []) if c["id"] == ids[0]), "")


LOST_WORDS = {"en": {"on_checks": "on {n} checks", "colon": ": ", "hint": "Hint: {hint}", "sep": " "},
              "zh": {"on_checks": "共 {n} 项检查", "colon": "：", "hint": "提示：{hint}", "sep": " "}}


def lost_text(report: dict[str, Any], task: dict[str, Any]) -> list[str]:
    """Plain-text lines "−6 on 4 checks: <reason> Hint: <hint>", one per reason of ``task``."""
    words = LOST_WORDS.get(report.get("language", "en"), LOST_WORDS["en"])
    lines = []
    for group in lost_groups(task):
        title = lost_title(group, task)
        head = title if title else words["on_checks"].format(n=group["checks"])
        line = f"−{points(group['points'])} {head}{words['colon']}{group.get('reason') or task.get('status', '')}"
        if group.get("hint"):
            line += words["sep"] + words["hint"].format(hint=group["hint"])
        lines.append(line)
    return lines
