"""The JSON report (schema version 1): built from the run, validated, written atomically.

A check counts only if the grader's manifest knows it, pytest ran its call phase,
and the grading plugin recorded its outcome; anything else is a grading error,
never a score.
"""
from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__, messages
from .fileio import write_atomic
from .tasks import Task
from .untrusted import escape

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schema" / "report-v1.json"
STATUSES = ("passed", "partial", "failed", "not_implemented", "missing", "error", "timeout", "crashed", "forbidden")


def _environment() -> dict[str, str]:
    try:
        from importlib.metadata import version

        torch_version = version("torch")
    except Exception:  # the report must not fail over a version lookup
        torch_version = "unknown"
    return {"python": platform.python_version(), "torch": torch_version,
            "platform": f"{sys.platform}-{platform.machine()}"}


def _called(json_report: Any) -> set[str]:
    """Node ids whose call phase pytest completed, from pytest-json-report's report."""
    done = set()
    for test in (json_report or {}).get("tests", []):
        if isinstance(test, dict) and isinstance(test.get("call"), dict):
            done.add(test.get("nodeid", ""))
    return done


def _why_not_run(json_report: Any, nodeid: str | None) -> str:
    """What pytest said about a check whose call phase never completed."""
    for test in (json_report or {}).get("tests", []):
        if isinstance(test, dict) and test.get("nodeid") == nodeid:
            for phase in ("setup", "teardown"):
                info = test.get(phase)
                if isinstance(info, dict) and info.get("outcome") != "passed":
                    crash = info.get("crash") or {}
                    return f" ({phase} {escape(info.get('outcome'), 20)}: {escape(crash.get('message', ''), 200)})"
    return " (not collected)" if nodeid is None else ""


def _task_status(checks: list[dict[str, Any]], score: float, max_score: float) -> str:
    if max_score and score >= max_score:
        return "passed"
    if score > 0:
        return "partial"
    outcomes = {c["outcome"] for c in checks}
    for status in ("forbidden", "timeout", "crashed"):
        if status in outcomes:
            return status
    # "error" says the code raised; a wrong value that ran without raising is a failure
    # even when another check's input made the code raise.
    if "failed" in outcomes:
        return "failed"
    for status in ("error", "missing"):
        if status in outcomes:
            return status
    if "grader_error" in outcomes:
        return "error"  # the check's feedback and the report's grader_errors say whose
    if outcomes and outcomes <= {"not_implemented", "skipped"}:
        return "not_implemented"
    return "failed"


def _check_entry(spec, outcome: str, code: str, params: dict[str, Any], lang: str, seconds: float = 0.0) -> dict[str, Any]:
    score = float(spec.points) if outcome == "passed" else 0.0
    return {
        "id": spec.name,
        "title": spec.title,
        "visibility": spec.visibility,
        "outcome": outcome,
        "score": score,
        "max_score": float(spec.points),
        "code": code,
        "hint": str(params.get("hint") or ""),
        "feedback": "" if outcome == "passed" else messages.render(code, params, lang),
        "seconds": round(seconds, 4),
    }


# A visible check's detailed message, read as the kind of mistake it shares with hidden checks.
GENERIC = {"wrong_values_visible": "wrong_values", "wrong_entry_visible": "wrong_values"}


def lost_points(lost: list[tuple[dict[str, Any], str, dict[str, Any]]], lang: str,
                fallback: str = "") -> list[dict[str, Any]]:
    """The task's lost points, one entry per distinct reason: what went wrong, the
    points it cost, on how many checks, and the hint (once, not per check).

    ``lost``: (check entry, code, params) for every check that scored below its
    points. Checks share a reason when their message, read without the visible
    check's details, and their hint are the same. Every lost point is in exactly
    one entry, so the entries add up to what the task lost.
    """
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for check, code, params in lost:
        hint = messages.render_hint(params, lang) if check["outcome"] != "passed" else ""
        if check["outcome"] == "passed":  # scored 0 by the task's verdict (forbidden at run time)
            reason, detailed = fallback, fallback
        else:
            detailed = messages.render_message(code, params, lang)
            reason = messages.render_message(GENERIC.get(code, code), params, lang)
        if GENERIC.get(code, code) == "wrong_values":
            # The same wrong value in float32 and float64 checks is one reason, whatever the tolerance.
            same = messages.render_message("wrong_values_several", params, lang)
        else:
            same = reason
        key = (check["outcome"] if check["outcome"] != "passed" else "forbidden", same, hint)
        group = groups.setdefault(key, {"reason": detailed, "points": 0.0, "checks": 0, "hint": hint,
                                        "check_ids": [], "same": same})
        if detailed != reason and check.get("visibility") == "visible" and "example" not in group:
            # What a visible check saw (where, and what it should be) stays worth reading.
            group["example"] = {"check_id": check["id"], "detail": detailed}
        group["points"] += check["max_score"] - check["score"]
        group["checks"] += 1
        group["check_ids"].append(check["id"])
    out = []
    for group in groups.values():
        same = group.pop("same")
        if group["checks"] > 1:  # the details of one check (its input, its tolerance) are not all of theirs
            group["reason"] = same
        else:
            group.pop("example", None)  # its details are the reason already
        group["points"] = round(group["points"], 4)
        out.append(group)
    return out


def build(sub, tasks: list[Task], verdicts: dict, plugin, json_report, session, *, seed: int,
          patterns: tuple[str, ...], limits, lang: str, seconds: float) -> dict[str, Any]:
    from .checking import load_manifest

    manifest = load_manifest()
    called_nodes = _called(json_report)
    nodeids = plugin.nodeids if plugin else {}
    grader_errors: list[str] = []
    entries = []
    for task in tasks:
        try:
            entries.append(_task_entry(task, manifest, verdicts, plugin, called_nodes, nodeids, json_report,
                                       session, lang, grader_errors))
        # A failure while building one task's entry costs that task, never the report.
        except Exception as exc:  # noqa: BLE001
            detail = failure_text(exc)
            grader_errors.append(f"{task.id}: {detail}")
            entries.append(_failed_task(task, detail, lang))
    return _document(entries, sub, seed=seed, patterns=patterns, limits=limits, lang=lang, seconds=seconds,
                     grader_errors=grader_errors)


def _task_entry(task: Task, manifest: dict, verdicts: dict, plugin, called_nodes: set[str], nodeids: dict,
                json_report, session, lang: str, grader_errors: list[str]) -> dict[str, Any]:
    specs = [(key, spec) for key, spec in manifest.items() if spec.task == task.id]
    verdict = verdicts.get(task.id)
    checks = []
    raw: list[tuple[str, dict[str, Any]]] = []  # each check's code and parameters, for lost_points
    forbidden = (session.forbidden_at_runtime.get(task.id) if session else None)
    for key, spec in specs:
        if verdict is not None:
            checks.append(_check_entry(spec, verdict.status, verdict.code, verdict.params, lang))
            raw.append((verdict.code, verdict.params))
            continue
        result = plugin.outcomes.get(key) if plugin else None
        if result is None or nodeids.get(key) not in called_nodes:
            why = _why_not_run(json_report, nodeids.get(key))
            grader_errors.append(f"{task.id}::{spec.name} did not run{why}")
            params = {"detail": "the check did not run"}  # detail is a gettext id
            checks.append(_check_entry(spec, "grader_error", "grader_error", params, lang))
            raw.append(("grader_error", params))
            continue
        if result.outcome == "grader_error":
            grader_errors.append(f"{task.id}::{spec.name}: {result.params.get('detail', '')}")
        checks.append(_check_entry(spec, result.outcome, result.code, result.params, lang, result.seconds))
        raw.append((result.code, result.params))
    # The student release carries only the visible checks: a task is then worth
    # what its checks here are worth.
    max_score = float(sum(c["max_score"] for c in checks)) if checks else float(task.points)
    score = sum(c["score"] for c in checks)
    if forbidden:
        score = 0.0
        for c in checks:
            c["score"] = 0.0
    status = "forbidden" if forbidden else _task_status(checks, score, max_score)
    if verdict is not None:
        status = verdict.status
    why_zero = (messages.render_message("forbidden_runtime", {"api": ", ".join(sorted(set(forbidden)))}, lang)
                if forbidden else "")
    lost = lost_points([(c, code, params) for c, (code, params) in zip(checks, raw)
                        if c["score"] < c["max_score"]], lang, why_zero)
    entry = {
        "id": task.id,
        "module": task.module,
        "name": task.name,
        "score": round(score, 4),
        "max_score": max_score,
        "status": status,
        "checks": checks,
        "lost": lost,
    }
    captured = session.output.get(task.id) if session is not None and hasattr(session, "output") else None
    if captured is not None and captured.text:
        entry["output"] = {"text": escape(captured.text, len(captured.text), multiline=True),
                           "truncated": captured.truncated}
    return entry


def _document(entries: list[dict[str, Any]], sub, *, seed: int, patterns: tuple[str, ...], limits, lang: str,
              seconds: float, grader_errors: list[str]) -> dict[str, Any]:
    score = round(sum(t["score"] for t in entries), 4)
    max_score = float(sum(t["max_score"] for t in entries))
    counts = {s: sum(1 for t in entries if t["status"] == s) for s in STATUSES}
    return {
        "schema_version": SCHEMA_VERSION,
        "grader_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "score": score,
        "max_score": max_score,
        "percent": round(100.0 * score / max_score, 2) if max_score else 0.0,
        "language": lang,
        "selection": list(patterns),
        "submission": {
            "path": str(sub.root),
            "files": [dict(module=m, **info) for m, info in sub.files.items()],
        },
        "environment": _environment(),
        "limits": {"timeout_seconds": limits.timeout, "memory_mb": limits.memory_mb},
        "duration_seconds": round(seconds, 3),
        "summary": {k: v for k, v in counts.items() if v},
        "grader_errors": grader_errors,
        "tasks": entries,
        **_hidden_note(),
    }


def failure_text(exc: BaseException) -> str:
    """One safe line naming a failure of the grader (its text may quote the child's)."""
    return escape(f"{type(exc).__name__}: {escape(exc)}", 300)


def _failed_task(task: Task, detail: str, lang: str) -> dict[str, Any]:
    """A task the grader failed on: ``error``, one grader_error check worth its points."""
    check = {"id": "grading", "title": "grading", "outcome": "grader_error", "score": 0.0,
             "max_score": float(task.points), "code": "grader_error", "hint": "",
             "feedback": messages.render("grader_error", {"detail": detail}, lang), "seconds": 0.0}
    lost = [{"reason": check["feedback"], "points": float(task.points), "checks": 1, "hint": "",
             "check_ids": [check["id"]]}]
    return {"id": task.id, "module": task.module, "name": task.name, "score": 0.0,
            "max_score": float(task.points), "status": "error", "checks": [check], "lost": lost}


def grader_failure(path: str, exc: BaseException, *, seed: int | None, patterns: tuple[str, ...] = (),
                   timeout: float = 10.0, memory_mb: int = 1024, lang: str = "en") -> dict[str, Any]:
    """The report when grading itself failed: every selected task ``error``, the
    failure in ``grader_errors``. Built from the task catalogue alone (no checks,
    no sandbox), so that it can be written whatever broke."""
    from types import SimpleNamespace

    from .sandbox.client import Limits
    from .tasks import select

    detail = failure_text(exc)
    entries = [_failed_task(task, detail, lang) for task in select(patterns)]
    return _document(entries, SimpleNamespace(root=path, files={}), seed=seed if seed is not None else 0,
                     patterns=patterns, limits=Limits(timeout, memory_mb), lang=lang, seconds=0.0,
                     grader_errors=[detail])


def not_a_submission(path: str, problem: str, *, seed: int | None, patterns: tuple[str, ...] = (),
                     timeout: float = 10.0, memory_mb: int = 1024, lang: str = "en") -> dict[str, Any]:
    """The report of something that is not a submission at all: every task missing."""
    from types import SimpleNamespace

    from .api import Verdict
    from .sandbox.client import Limits
    from .tasks import select

    tasks = select(patterns)
    sub = SimpleNamespace(root=path, files={})
    verdicts = {t.id: Verdict("missing", "not_a_submission", {"problem": problem}) for t in tasks}
    built = build(sub, tasks, verdicts, None, None, None, seed=seed if seed is not None else 0, patterns=patterns,
                  limits=Limits(timeout, memory_mb), lang=lang, seconds=0.0)
    built["problem"] = problem
    return built


def _hidden_note() -> dict[str, Any]:
    """In the student release: how many hidden checks the instructor's grader adds."""
    path = Path(__file__).parent / "checks" / "hidden.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"hidden_checks": {"count": int(data.get("checks", 0)), "points": float(data.get("points", 0))}}
    except (OSError, ValueError, TypeError, AttributeError):  # no note rather than no report
        return {}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate(report: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if the report breaks the shipped schema."""
    import jsonschema

    jsonschema.validate(report, schema())


def write(report: dict[str, Any], path: str | Path) -> None:
    """Write atomically: a temporary file beside the target, then os.replace."""
    write_atomic(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
