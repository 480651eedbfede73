"""The terminal summary: a pure function from a report to text."""
from __future__ import annotations

from typing import Any

import click

LABELS = {
    "en": {"total": "Total", "seed": "seed", "report": "report", "lost": "lost",
           "hidden": "Your instructor's grader also runs {count} hidden checks ({points} points)."},
    "zh": {"total": "总分", "seed": "随机种子", "report": "报告", "lost": "失分",
           "hidden": "教师的评分程序还会运行 {count} 项隐藏检查（共 {points} 分）。"},
}
STATUS_NAMES = {
    "zh": {"passed": "通过", "partial": "部分通过", "failed": "未通过", "not_implemented": "未实现",
           "missing": "缺失", "error": "出错", "timeout": "超时", "crashed": "崩溃", "forbidden": "违规"},
}
COLOURS = {"passed": "green", "partial": "yellow", "failed": "red", "not_implemented": "blue",
           "missing": "magenta", "error": "red", "timeout": "red", "crashed": "red", "forbidden": "red"}


def _points(x: float) -> str:
    return f"{x:g}"


def render(report: dict[str, Any], *, colour: bool = False, output: str | None = None) -> str:
    lang = report.get("language", "en")
    labels = LABELS.get(lang, LABELS["en"])
    style = (lambda text, **kw: click.style(text, **kw)) if colour else (lambda text, **kw: text)
    width = max((len(t["id"]) for t in report["tasks"]), default=10)
    lines = [style(f"autograd-lab {report['grader_version']}", bold=True)
             + f" · {labels['seed']} {report['seed']} · {report['submission']['path']}", ""]
    for task in report["tasks"]:
        status = task["status"]
        name = STATUS_NAMES.get(lang, {}).get(status, status)
        pts = f"{_points(task['score']):>4}/{_points(task['max_score']):<3}"
        lines.append(f"  {task['id']:<{width}}  {pts} " + style(name, fg=COLOURS.get(status)))
        seen = set()
        for check in task["checks"]:
            if check["score"] >= check["max_score"]:
                continue
            text = check["feedback"]
            if text in seen and status in ("missing", "forbidden", "error", "not_implemented"):
                continue
            seen.add(text)
            lost = _points(check["max_score"] - check["score"])
            lines.append(style(f"      −{lost} ", fg="red") + f"{check.get('title', check['id'])}: {text}")
    lines.append("")
    total = f"{labels['total']} {_points(report['score'])}/{_points(report['max_score'])} ({report['percent']:g}%)"
    tail = f"   {labels['report']}: {output}" if output else ""
    lines.append(style(total, bold=True) + tail)
    hidden = report.get("hidden_checks")
    if hidden:
        lines.append(labels["hidden"].format(count=hidden["count"], points=_points(hidden["points"])))
    return "\n".join(lines)
