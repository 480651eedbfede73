"""A Markdown page for a CI job summary (``>> "$GITHUB_STEP_SUMMARY"``).

A title, the total (and, in the student release, how many hidden checks the
instructor's grader adds), a table of tasks (points, status), then every lost
point with its feedback: the same content as the terminal summary. The fixed labels
follow the report's language (English or 简体中文); feedback already does.
Text from the report is escaped, so feedback quoting a student's exception
cannot break the table or inject markup.
"""
from __future__ import annotations

import re
from typing import Any

from ..i18n import translator
from ..status import Status
from ._common import lost_groups, lost_title, points, xml_safe

DEFAULT_FILENAME = "grade-summary.md"

LABELS = {
    "en": {"title": "autograd-lab results", "total": "Total", "seed": "seed", "grader": "grader",
           "task": "Task", "points": "Points", "status": "Status", "lost": "Lost points",
           "none_lost": "No points lost.", "on_checks": "on {n} checks", "colon": ": ", "hint": "Hint",
           "example": "for example",
           "grader_errors": "The grader itself failed on {n} check(s); they scored 0. Ask your instructor to regrade.",
           "hidden": "Your instructor's grader also runs {count} hidden checks ({points} points)."},
    "zh": {"title": "autograd-lab 评分结果", "total": "总分", "seed": "随机种子", "grader": "评分程序",
           "task": "任务", "points": "得分", "status": "状态", "lost": "失分与反馈",
           "none_lost": "没有失分。", "on_checks": "共 {n} 项检查", "colon": "：", "hint": "提示",
           "example": "例如",
           "grader_errors": "评分程序本身在 {n} 项检查上出错，这些检查计 0 分。请联系老师重新评分。",
           "hidden": "教师的评分程序还会运行 {count} 项隐藏检查（共 {points} 分）。"},
}
ICONS = {"passed": "✅", "partial": "⚠️"}

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#$])")


def escape(text: str) -> str:
    """One line of literal text: Markdown and HTML characters backslash-escaped,
    control characters shown as ``\\xNN``."""
    text = _SPECIAL.sub(r"\\\1", xml_safe(" ".join(str(text).split())).replace("\x7f", "\\x7f"))
    # GitHub turns a bare URL into a link and @name into a mention: an entity for the
    # character that starts either keeps the text as it reads, inert.
    return _AUTOLINK.sub(lambda m: m.group(0)[:-1] + ("&#58;" if m.group(0).endswith(":") else "&#46;"),
                         text).replace("@", "&#64;")


_AUTOLINK = re.compile(r"(?i)\b(?:https?|ftp|mailto):|\bwww\.")


def _lost_lines(task: dict[str, Any], labels: dict[str, str], status_name: str) -> list[str]:
    """One bullet per distinct reason (the report's ``lost``): its points, the check it
    concerns or how many, the reason, then its hint.

    A reason without text (its checks scored 0 because the task was forbidden at run
    time) shows the task's status instead.
    """
    lines = []
    for group in lost_groups(task):
        title = lost_title(group, task)
        head = escape(title) if title else labels["on_checks"].format(n=group["checks"])
        reason = escape(group.get("reason", "")) or status_name
        line = f"- **−{points(group['points'])}** {head}{labels['colon']}{reason}"
        example = group.get("example")
        if example:
            line += f" ({labels['example']}{labels['colon']}{escape(example['detail'])})"
        if group.get("hint"):
            line += f" *{labels['hint']}*{labels['colon']}{escape(group['hint'])}"
        lines.append(line)
    return lines


def render(report: dict[str, Any]) -> str:
    lang = report.get("language", "en")
    labels = LABELS.get(lang, LABELS["en"])
    _ = translator(lang)
    names = {status.value: _(status.text) for status in Status}
    lines = [
        f"## {labels['title']}",
        "",
        f"**{labels['total']}{labels['colon']}{points(report['score'])}/{points(report['max_score'])} "
        f"({points(report.get('percent', 0.0))}%)** · {labels['seed']} {report['seed']} · "
        f"{labels['grader']} {escape(report['grader_version'])}",
        "",
    ]
    hidden = report.get("hidden_checks")
    if hidden:  # the student release: the checks it does not carry
        lines += [labels["hidden"].format(count=hidden["count"], points=points(hidden["points"])), ""]
    if report.get("grader_errors"):
        lines += ["> ⚠️ " + labels["grader_errors"].format(n=len(report["grader_errors"])), ""]
    lines += [f"| {labels['task']} | {labels['points']} | {labels['status']} |", "|---|---:|---|"]
    for task in report["tasks"]:
        status = task["status"]
        lines.append(f"| `{task['id']}` | {points(task['score'])}/{points(task['max_score'])} | "
                     f"{ICONS.get(status, '❌')} {names.get(status, status)} |")
    lines += ["", f"### {labels['lost']}", ""]
    lost_any = False
    for task in report["tasks"]:
        bullets = _lost_lines(task, labels, names.get(task["status"], task["status"]))
        if not bullets:
            continue
        lost_any = True
        lines += [f"**`{task['id']}`** −{points(task['max_score'] - task['score'])}", ""] + bullets + [""]
    if not lost_any:
        lines += [labels["none_lost"], ""]
    return "\n".join(lines).rstrip("\n") + "\n"
