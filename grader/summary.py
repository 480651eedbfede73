"""The terminal summary: a pure function from a report to text."""
from __future__ import annotations

from typing import Any

import click

from .i18n import translator
from .messages import HINTS

COLOURS = {"passed": "green", "partial": "yellow", "failed": "red", "not_implemented": "blue",
           "missing": "magenta", "error": "red", "timeout": "red", "crashed": "red", "forbidden": "red"}
# Status names as students read them (gettext ids; the report keeps the codes).
STATUS_TEXT = {"passed": "passed", "partial": "partial", "failed": "failed", "not_implemented": "not implemented",
               "missing": "missing", "error": "error", "timeout": "timeout", "crashed": "crashed",
               "forbidden": "forbidden"}
REPEATED_FEEDBACK = ("missing", "forbidden", "error", "not_implemented", "timeout", "crashed")


def _points(x: float) -> str:
    return f"{x:g}"


def render(report: dict[str, Any], *, colour: bool = False, output: str | None = None) -> str:
    _ = translator(report.get("language", "en"))
    style = (lambda text, **kw: click.style(text, **kw)) if colour else (lambda text, **kw: text)
    width = max((len(t["id"]) for t in report["tasks"]), default=10)
    lines = [style(f"autograd-lab {report['grader_version']}", bold=True)
             + f" · {_('seed')} {report['seed']} · {report['submission']['path']}", ""]
    if report.get("problem"):
        lines += [style(_("not a submission: {problem}").format(problem=report["problem"]), fg="red"), ""]
    for task in report["tasks"]:
        status = task["status"]
        pts = f"{_points(task['score']):>4}/{_points(task['max_score']):<3}"
        lines.append(f"  {task['id']:<{width}}  {pts} " + style(_(STATUS_TEXT.get(status, status)),
                                                                 fg=COLOURS.get(status)))
        seen: set[str] = set()
        hints_shown: set[str] = set()
        for check in task["checks"]:
            if check["score"] >= check["max_score"]:
                continue
            text = check["feedback"]
            if text in seen and status in REPEATED_FEEDBACK:
                continue
            seen.add(text)
            hint = check.get("hint")
            if hint in HINTS:
                if hint in hints_shown:  # the same hint once per task is enough
                    text = text.replace(_(HINTS[hint]), "").rstrip()
                hints_shown.add(hint)
            lost = _points(check["max_score"] - check["score"])
            title = _(check.get("title") or check["id"])
            lines.append(style(f"      −{lost} ", fg="red") + _("{title}: {feedback}").format(title=title, feedback=text))
    lines.append("")
    total = (f"{_('Total')} {_points(report['score'])}/{_points(report['max_score'])} "
             f"({report['percent']:g}%)")
    tail = "   " + _("report: {path}").format(path=output) if output else ""
    lines.append(style(total, bold=True) + tail)
    hidden = report.get("hidden_checks")
    if hidden:
        lines.append(_("Your instructor's grader also runs {count} hidden checks ({points} points).").format(
            count=hidden["count"], points=_points(hidden["points"])))
    return "\n".join(lines)
