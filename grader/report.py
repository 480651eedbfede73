"""The JSON report (schema version 1): built from data, validated, written atomically.

``build`` is a pure function of the submission's description, the tasks, the
verdicts decided before running, the ledger (pytest-json-report's records of the
checks that ran) and the options. A check counts only if the grader's manifest
knows it, pytest ran its call phase, and the grading plugin's outcome is attached
to that record; anything else is a grading error, never a score.
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
from .fileio import shown, shown_all, write_atomic
from .options import Options
from .status import Outcome, Status, task_status
from .tasks import Task
from .untrusted import escape

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schema" / "report-v1.json"
MAX_TASK_OUTPUT = 4096  # characters of printed output kept per task


def _environment() -> dict[str, str]:
    try:
        from importlib.metadata import version

        torch_version = version("torch")
    except Exception:  # the report must not fail over a version lookup
        torch_version = "unknown"
    return {"python": platform.python_version(), "torch": torch_version,
            "platform": f"{sys.platform}-{platform.machine()}"}


def _why_not_run(record: dict[str, Any] | None) -> str:
    """What pytest said about a check whose call phase never completed."""
    if record is None:
        return " (not collected)"
    for phase in ("setup", "teardown"):
        info = record.get(phase)
        if isinstance(info, dict) and info.get("outcome") != "passed":
            crash = info.get("crash") or {}
            return f" ({phase} {escape(info.get('outcome'), 20)}: {escape(crash.get('message', ''), 200)})"
    return ""


def _check_entry(spec, outcome: str, code: str, params: dict[str, Any], lang: str, seconds: float = 0.0) -> dict[str, Any]:
    score = float(spec.points) if outcome == Outcome.PASSED else 0.0
    return {
        "id": spec.name,
        "title": spec.title,
        "visibility": spec.visibility,
        "outcome": str(outcome),
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


def build(submission: dict[str, Any], tasks: list[Task], verdicts: dict[str, Any], ledger: list[dict[str, Any]],
          options: Options, *, seconds: float, isolation: dict[str, Any] | None = None,
          manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report. ``submission``: its ``path`` and ``files``; ``verdicts``: task id ->
    the ``static.Verdict`` decided before running, or None; ``ledger``:
    pytest-json-report's records of the checks that ran; ``manifest``: check key ->
    spec (default: every check there is)."""
    if manifest is None:
        from .checking import load_manifest

        manifest = load_manifest()
    records: dict[str, dict[str, Any]] = {}
    for record in ledger:
        meta = record.get("metadata") if isinstance(record, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("check"), str):
            records[meta["check"]] = record
    grader_errors: list[str] = []
    entries = []
    for task in tasks:
        try:
            entries.append(_task_entry(task, manifest, verdicts.get(task.id), records, options.lang, grader_errors))
        # A failure while building one task's entry costs that task, never the report.
        except Exception as exc:  # noqa: BLE001
            detail = failure_text(exc)
            grader_errors.append(f"{task.id}: {detail}")
            entries.append(_failed_task(task, detail, options.lang))
    document = _document(entries, submission, options, seconds=seconds, grader_errors=grader_errors)
    if isolation is None:
        from .sandbox.isolation import not_needed

        isolation = not_needed()
    document["isolation"] = isolation
    return document


def _task_entry(task: Task, manifest: dict, verdict, records: dict[str, dict[str, Any]], lang: str,
                grader_errors: list[str]) -> dict[str, Any]:
    specs = [(key, spec) for key, spec in manifest.items() if spec.task == task.id]
    checks = []
    raw: list[tuple[str, dict[str, Any]]] = []  # each check's code and parameters, for lost_points
    forbidden: list[str] = []
    printed: list[dict[str, Any]] = []
    for key, spec in specs:
        if verdict is not None:
            checks.append(_check_entry(spec, verdict.status, verdict.code, verdict.params, lang))
            raw.append((verdict.code, verdict.params))
            continue
        record = records.get(key)
        meta = record.get("metadata", {}) if record is not None else {}
        if record is None or not isinstance(record.get("call"), dict) or "outcome" not in meta:
            why = _why_not_run(record)
            grader_errors.append(f"{task.id}::{spec.name} did not run{why}")
            params = {"detail": "the check did not run"}  # detail is a gettext id
            checks.append(_check_entry(spec, Outcome.GRADER_ERROR, "grader_error", params, lang))
            raw.append(("grader_error", params))
            continue
        outcome, code, params = str(meta["outcome"]), str(meta.get("code", "")), dict(meta.get("params") or {})
        if outcome == Outcome.GRADER_ERROR:
            grader_errors.append(f"{task.id}::{spec.name}: {params.get('detail', '')}")
        checks.append(_check_entry(spec, outcome, code, params, lang, float(meta.get("seconds", 0.0))))
        raw.append((code, params))
        forbidden += [str(api) for api in meta.get("forbidden", [])]
        if isinstance(meta.get("printed"), dict):
            printed.append(meta["printed"])
    # The student release carries only the visible checks: a task is then worth
    # what its checks here are worth.
    max_score = float(sum(c["max_score"] for c in checks)) if checks else float(task.points)
    score = sum(c["score"] for c in checks)
    if forbidden:
        score = 0.0
        for c in checks:
            c["score"] = 0.0
    status = Status.FORBIDDEN if forbidden else task_status({c["outcome"] for c in checks}, score, max_score)
    if verdict is not None:
        status = Status(verdict.status)
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
        "status": status.value,
        "checks": checks,
        "lost": lost,
    }
    output = _task_output(printed)
    if output is not None:
        entry["output"] = output
    return entry


def _task_output(printed: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What a task's checks printed, in order, capped at ``MAX_TASK_OUTPUT`` characters."""
    text = "".join(str(p.get("text", "")) for p in printed)
    truncated = any(bool(p.get("truncated")) for p in printed) or len(text) > MAX_TASK_OUTPUT
    text = text[:MAX_TASK_OUTPUT]
    if not text:
        return None
    return {"text": escape(text, len(text), multiline=True), "truncated": truncated}


def made_with(options: Options) -> dict[str, Any]:
    """What a report records of the options that made it (``grade batch --resume``
    keeps a report only if this batch's options would record the same)."""
    return {"grader_version": __version__, "seed": options.seed if options.seed is not None else 0,
            "language": options.lang, "selection": list(options.patterns),
            "limits": {"timeout_seconds": options.timeout, "memory_mb": options.memory_mb}}


def _document(entries: list[dict[str, Any]], submission: dict[str, Any], options: Options, *, seconds: float,
              grader_errors: list[str]) -> dict[str, Any]:
    score = round(sum(t["score"] for t in entries), 4)
    max_score = float(sum(t["max_score"] for t in entries))
    counts = {s.value: sum(1 for t in entries if t["status"] == s) for s in Status}
    made = made_with(options)
    return {
        "schema_version": SCHEMA_VERSION,
        "grader_version": made["grader_version"],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": made["seed"],
        "score": score,
        "max_score": max_score,
        "percent": round(100.0 * score / max_score, 2) if max_score else 0.0,
        "language": made["language"],
        "selection": made["selection"],
        "submission": {
            "path": shown(str(submission.get("path", ""))),
            "files": [dict(f) for f in submission.get("files", [])],
        },
        "environment": _environment(),
        "limits": made["limits"],
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
    check = {"id": "grading", "title": "grading", "outcome": Outcome.GRADER_ERROR.value, "score": 0.0,
             "max_score": float(task.points), "code": "grader_error", "hint": "",
             "feedback": messages.render("grader_error", {"detail": detail}, lang), "seconds": 0.0}
    lost = [{"reason": check["feedback"], "points": float(task.points), "checks": 1, "hint": "",
             "check_ids": [check["id"]]}]
    return {"id": task.id, "module": task.module, "name": task.name, "score": 0.0,
            "max_score": float(task.points), "status": Status.ERROR.value, "checks": [check], "lost": lost}


def grader_failure(path: str, exc: BaseException, options: Options) -> dict[str, Any]:
    """The report when grading itself failed: every selected task ``error``, the
    failure in ``grader_errors``. Built from the task catalogue alone (no checks,
    no sandbox), so that it can be written whatever broke."""
    from .tasks import select

    detail = shown(failure_text(exc))
    entries = [_failed_task(task, detail, options.lang) for task in select(options.patterns)]
    return _document(entries, {"path": path}, options, seconds=0.0, grader_errors=[detail])


def not_a_submission(path: str, problem: str, options: Options) -> dict[str, Any]:
    """The report of something that is not a submission at all: every task missing."""
    from . import static
    from .tasks import select

    tasks = select(options.patterns)
    problem = shown(problem)
    built = build({"path": path}, tasks, static.not_a_submission(problem, tasks), [], options, seconds=0.0)
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


@lru_cache(maxsize=1)
def _validator() -> Any:
    """The schema's validator, built once: ``jsonschema.validate`` checks the schema
    itself on every call, which cost seven times the report's own validation. The
    shipped schema is checked against its metaschema by the tests, not on every run
    (a sixth of a second of ``grade run``'s own time)."""
    import jsonschema

    return jsonschema.validators.validator_for(schema())(schema())


_building: list[Any] = []  # the thread building the validator, while it runs


def prepare_validator() -> None:
    """Build the validator on a thread of its own while the checks run, when the
    grading process mostly waits for the sandbox child: importing jsonschema is a
    few tens of milliseconds that ``grade run`` would otherwise add at its end. A
    short switch interval meanwhile keeps the checks from waiting long for the
    interpreter lock when a reply comes."""
    import threading

    if _validator.cache_info().currsize or _building:
        return

    def build() -> None:
        try:
            _validator()
        except Exception:  # noqa: BLE001 - validate() builds it again and raises there
            pass
        finally:
            sys.setswitchinterval(previous)

    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, 0.0005))
    thread = threading.Thread(target=build, name="report-validator", daemon=True)
    _building.append(thread)
    thread.start()


def validate(report: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if the report breaks the shipped schema."""
    while _building:
        _building.pop().join()
    _validator().validate(report)


def write(report: dict[str, Any], path: str | Path) -> None:
    """Write atomically: a temporary file beside the target, then os.replace."""
    # A path that is not UTF-8 (a folder name in GBK) is written escaped, never lost.
    write_atomic(path, json.dumps(shown_all(report), indent=2, ensure_ascii=False) + "\n")
