"""GitHub Classroom: the result a runner step hands to the autograding reporter.

The shape is what classroom-resources/autograding-grading-reporter reads and its
official runners (autograding-command-grader, -io-grader, -python-grader) write:
``{"version": 1, "status", "max_score", "tests": [{"name", "status", "message",
"score", "max_score", "line_no", "test_code", "execution_time"}]}`` with status
``pass`` / ``fail`` / ``error``. The reporter adds up ``tests[].score`` for the
points and ``max_score`` for the total, prints ``name`` (with " - line N" unless
``line_no`` is 0, so it is always 0 here), ``test_code`` when present, and
``message`` for tests in error. A status of ``fail`` or ``error`` fails its step.

The runner passes the result as its step output ``result``: the compact JSON,
UTF-8, base64-encoded (``Buffer.from(json).toString('base64')``; the reporter
decodes it from the environment variable ``<RUNNER ID>_RESULTS``).
``render_step_output`` gives that line, for ``>> "$GITHUB_OUTPUT"``.

Top-level status: ``error`` when the grader itself failed on a check, ``fail``
when any check lost points, ``pass`` otherwise.

``grader/schema/github-classroom-result.json`` is a JSON Schema of this format.
"""
from __future__ import annotations

import base64
import json
from typing import Any

from ._common import PASSED, check_name, iter_checks, kind

DEFAULT_FILENAME = "github-classroom-result.json"
STATUS = {PASSED: "pass", "failed": "fail", "error": "error"}


def _test(report: dict[str, Any], task: dict[str, Any], check: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": check_name(task, check),
        "status": STATUS[kind(check)],
        "message": check.get("feedback", ""),
        "score": float(check["score"]),
        "max_score": float(check["max_score"]),
        "line_no": 0,
        "test_code": f"grade run -k {task['id']} --seed {report['seed']}",
        "execution_time": f"{float(check.get('seconds', 0.0)):.3f}s",
    }


def result(report: dict[str, Any]) -> dict[str, Any]:
    """The reporter's result object."""
    tests = [_test(report, task, check) for _, task, check in iter_checks(report)]
    if report.get("grader_errors") or any(c["outcome"] == "grader_error" for _, _, c in iter_checks(report)):
        status = "error"
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    return {"version": 1, "status": status, "max_score": float(report["max_score"]), "tests": tests}


def render(report: dict[str, Any]) -> str:
    return json.dumps(result(report), indent=2, ensure_ascii=False) + "\n"


def encode(report: dict[str, Any]) -> str:
    """The base64 of the compact UTF-8 JSON, as the reporter decodes it."""
    text = json.dumps(result(report), ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def render_step_output(report: dict[str, Any]) -> str:
    """``result=<base64>`` and a newline: append it to ``$GITHUB_OUTPUT``."""
    return f"result={encode(report)}\n"
