"""The terminal summary (``grade run``'s output, ``grade convert --format terminal``):
a pure function from a report to text."""
from __future__ import annotations

from typing import Any

import click

from .. import status as statuses
from ..i18n import translator
from ..untrusted import escape
from ._common import lost_groups, lost_title

DEFAULT_FILENAME = None  # printed, not written
# Printed output under a failing task: every line behind this mark, so none can pose
# as the grader's own.
OUTPUT_MARK = "      │ "
OUTPUT_LINES = 40


def _points(x: float) -> str:
    return f"{x:g}"


def _lost_lines(group: dict[str, Any], task: dict[str, Any], _, style) -> list[str]:
    """"−6 on 4 checks: <reason>" (or "−1 <check title>: <reason>"), its hint on the next line."""
    title = lost_title(group, task)
    head = (_(title) if title else _("on {n} checks").format(n=group["checks"]))
    reason = escape(group["reason"]) or _(statuses.text(task["status"]))
    lines = [style(f"      −{_points(group['points'])} ", fg="red") + _("{title}: {feedback}").format(
        title=head, feedback=reason)]
    example = group.get("example")
    if example:
        title = next((c.get("title") or c["id"] for c in task["checks"] if c["id"] == example["check_id"]), "")
        lines.append("        " + _("For example, {title}: {detail}").format(title=_(title),
                                                                            detail=escape(example["detail"])))
    if group.get("hint"):
        lines.append("        " + _("Hint: {hint}").format(hint=escape(group["hint"])))
    return lines


def _output_lines(output: dict[str, Any], _) -> list[str]:
    text = escape(output["text"], len(output["text"]), multiline=True)
    shown = text.splitlines()
    lines = ["      " + _("Printed while it ran:")]
    lines += [OUTPUT_MARK + line for line in shown[:OUTPUT_LINES]]
    if output.get("truncated") or len(shown) > OUTPUT_LINES:
        lines.append(OUTPUT_MARK + _("… (output cut)"))
    return lines


def render(report: dict[str, Any], *, colour: bool = False, output: str | None = None) -> str:
    _ = translator(report.get("language", "en"))
    style = (lambda text, **kw: click.style(text, **kw)) if colour else (lambda text, **kw: text)
    width = max((len(t["id"]) for t in report["tasks"]), default=10)
    lines = [style(f"autograd-lab {report['grader_version']}", bold=True)
             + f" · {_('seed')} {report['seed']} · {escape(report['submission']['path'], 300)}", ""]
    if report.get("problem"):
        lines += [style(_("not a submission: {problem}").format(problem=escape(report["problem"], 300)), fg="red"), ""]
    for task in report["tasks"]:
        status = task["status"]
        pts = f"{_points(task['score']):>4}/{_points(task['max_score']):<3}"
        lines.append(f"  {task['id']:<{width}}  {pts} " + style(_(statuses.text(status)),
                                                                 fg=statuses.colour(status)))
        for group in lost_groups(task):
            lines += _lost_lines(group, task, _, style)
        printed = task.get("output")
        if printed and printed.get("text") and status != "passed":
            lines += _output_lines(printed, _)
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


def document(report: dict[str, Any]) -> str:
    """The summary as a text file (``grade convert --format terminal``)."""
    return render(report) + "\n"
