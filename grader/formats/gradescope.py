"""Gradescope autograder ``results.json``.

The format is Gradescope's "Autograder Specifications" (gradescope-autograders
.readthedocs.io/en/latest/specs/, source: github.com/gradescope/autograder_samples,
docs/specs.md): top-level ``score``, ``execution_time`` (seconds), ``output``,
``output_format``, ``visibility``, ``stdout_visibility``, ``extra_data`` and
``tests``; each test ``name``, ``number``, ``score``, ``max_score``, ``status``
("passed" or "failed" only), ``output``, ``tags`` and ``visibility`` (one of
``hidden``, ``after_due_date``, ``after_published``, ``visible``).

A hidden check becomes ``after_published``: students see it (its score and its
feedback, nothing more) once the instructor publishes grades. Gradescope hides
the total score from students while any test is hidden. Every text field is
rendered as plain text, so a student's exception message cannot inject HTML.
The run's stdout (the terminal summary) stays instructor-only.

``grader/schema/gradescope-results.json`` is a JSON Schema of this format.
"""
from __future__ import annotations

import json
from typing import Any

from ._common import PASSED, check_name, hidden, iter_checks, kind, points

DEFAULT_FILENAME = "results.json"


def _summary(report: dict[str, Any]) -> str:
    line = (f"autograd-lab {report['grader_version']}: {points(report['score'])}/"
            f"{points(report['max_score'])} ({points(report.get('percent', 0.0))}%), seed {report['seed']}")
    if report.get("grader_errors"):
        line += (f". The grader failed on {len(report['grader_errors'])} check(s); "
                 "those checks scored 0: ask your instructor to regrade.")
    return line


def _test(number: str, task: dict[str, Any], check: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": check_name(task, check),
        "number": number,
        "score": float(check["score"]),
        "max_score": float(check["max_score"]),
        "status": "passed" if kind(check) == PASSED else "failed",
        "output": check.get("feedback", ""),
        "tags": [task["id"]],
        "visibility": "after_published" if hidden(check) else "visible",
    }


def results(report: dict[str, Any]) -> dict[str, Any]:
    """The results.json object."""
    return {
        "score": float(report["score"]),
        "execution_time": round(float(report.get("duration_seconds", 0.0))),  # whole seconds, as documented
        "output": _summary(report),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "grader_version": report["grader_version"],
            "seed": report["seed"],
            "max_score": float(report["max_score"]),
            "percent": float(report.get("percent", 0.0)),
        },
        "tests": [_test(number, task, check) for number, task, check in iter_checks(report)],
    }


def render(report: dict[str, Any]) -> str:
    return json.dumps(results(report), indent=2, ensure_ascii=False) + "\n"
