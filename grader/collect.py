"""Merge many reports into a gradebook (CSV) and a class summary (JSON).

``collect(paths)`` takes report files and folders (searched recursively for
``*.json``, as CI leaves downloaded artifacts: one folder per artifact, nested)
and returns a ``Collection``. Every file is read as plain JSON (no torch) and
validated against ``grader/schema/report-v1.json``; anything else is a problem
with a one-line reason and is never counted: corrupt JSON, JSON that is not a
report, a report of another schema version, a report that breaks the schema or
does not add up. Two reports of the same submission (the same path and the same
files digest: an artifact downloaded twice, a regrade) count once; the later one
is reported as a duplicate. Identical files under different paths (two students
who both left the stubs untouched, or copied) are two submissions: both count,
and the class summary lists them under ``identical_files``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from . import report as report_mod
from .tasks import TASKS

MAX_BYTES = 20 * 1024 * 1024  # a report is tens of kilobytes
CSV_HEAD = ("submission", "digest", "seed", "score", "max_score", "percent")
TOP_FAILURES = 5


class ReportError(ValueError):
    """A file that cannot be used as a report; ``str()`` is the one-line reason."""


class ClassSummary(ReportError):
    """The class summary this module writes (``grade collect --summary``, ``grade batch``):
    found in a folder of reports it is skipped, not counted as a problem."""


SUMMARY_KEYS = frozenset({"submissions", "score", "percent", "tasks", "problems", "duplicates", "identical_files"})


@dataclass(frozen=True)
class Submission:
    source: str            # the report file
    report: dict[str, Any]  # what the gradebook and the summary read of it (``kept``)
    digest: str            # sha256 of the submission's files (relative path and sha256 of each)

    @property
    def path(self) -> str:
        return str(self.report["submission"]["path"])


@dataclass(frozen=True)
class Problem:
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True)
class Duplicate:
    source: str
    duplicate_of: str
    digest: str

    @property
    def message(self) -> str:
        return (f"duplicate of {self.duplicate_of} (same submission path and files, sha256 {self.digest[:12]}…); "
                "counted once")

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def submission_digest(report: dict[str, Any]) -> str:
    """sha256 over the submission's files: each file's relative path and sha256, sorted by path."""
    files = sorted((str(f["path"]), str(f["sha256"])) for f in report["submission"]["files"])
    text = "".join(f"{path}\0{sha}\n" for path, sha in files)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_report(data: Any) -> dict[str, Any]:
    """``data`` if it is a usable schema-1 report; else ``ReportError`` with the reason."""
    if isinstance(data, dict) and "schema_version" not in data and SUMMARY_KEYS <= data.keys():
        raise ClassSummary("a class summary, not a report")
    if not isinstance(data, dict) or "schema_version" not in data:
        what = type(data).__name__ if not isinstance(data, dict) else "object"
        raise ReportError(f"not a grade report (a JSON {what} without schema_version)")
    version = data["schema_version"]
    if version != report_mod.SCHEMA_VERSION:
        raise ReportError(f"schema_version {json.dumps(version)}: this grader reads schema_version "
                          f"{report_mod.SCHEMA_VERSION} only")
    import jsonschema

    try:
        report_mod.validate(data)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise ReportError(f"not a valid schema-1 report: {_one_line(exc.message, 120)} (at {where})") from None
    total = sum(float(t["score"]) for t in data["tasks"])
    if abs(total - float(data["score"])) > 0.005:  # both rounded to 4 decimals
        raise ReportError(f"does not add up: score {data['score']:g} but its tasks add up to {total:g}")
    for task in data["tasks"]:
        if float(task["score"]) > float(task["max_score"]) + 1e-9:
            raise ReportError(f"does not add up: task {task['id']} scores {task['score']:g} "
                              f"of {task['max_score']:g}")
    return data


def load_report(path: str | Path) -> dict[str, Any]:
    """Read and check one report file; ``ReportError`` with a one-line reason if unusable."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ReportError(f"cannot read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_BYTES:
        raise ReportError(f"larger than {MAX_BYTES // (1024 * 1024)} MB: not a grade report")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReportError("corrupt JSON: not UTF-8 text") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ReportError(f"corrupt JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise ReportError(f"corrupt JSON: {_one_line(str(exc), 120)}") from None
    return check_report(data)


@dataclass
class Collection:
    submissions: list[Submission] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def bad(self) -> list[str]:
        """One line per input that was not counted: problems, then duplicates."""
        return [str(p) for p in self.problems] + [str(d) for d in self.duplicates]

    def task_ids(self) -> list[str]:
        """The tasks in ``grader.tasks`` order, then any other task a report holds (sorted)."""
        known = [t.id for t in TASKS]
        extra = sorted({t["id"] for s in self.submissions for t in s.report["tasks"]} - set(known))
        return known + extra

    def render_csv(self) -> str:
        return render_csv(self)

    def summary(self) -> dict[str, Any]:
        return summary(self)


def _json_files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.rglob("*.json") if p.is_file()), key=lambda p: p.as_posix())


def collect(paths: Iterable[str | Path], known: dict[Path, Submission] | None = None) -> Collection:
    """Read every report among ``paths`` (files, or folders searched recursively).

    ``known``: reports already read, by resolved file path (``grade batch`` keeps what
    its workers wrote and checked, rather than reading and checking each file again).
    """
    known = known or {}
    result = Collection()
    seen_files: set[Path] = set()
    by_key: dict[tuple[str, str], Submission] = {}
    for given in paths:
        given = Path(given)
        if given.is_dir():
            files = _json_files(given)
            if not files:
                result.problems.append(Problem(str(given), "no *.json file in this folder"))
        elif given.exists():
            files = [given]
        else:
            result.problems.append(Problem(str(given), "does not exist"))
            continue
        for path in files:
            key = path.resolve()
            if key in seen_files:  # the same file named twice (a folder and a file inside it)
                continue
            seen_files.add(key)
            sub = known.get(key)
            if sub is None:
                try:
                    data = load_report(path)
                except ClassSummary:
                    if given.is_dir():  # a batch's own output folder holds one beside the reports
                        continue
                    result.problems.append(Problem(str(path), "a class summary, not a report"))
                    continue
                except ReportError as exc:
                    result.problems.append(Problem(str(path), str(exc)))
                    continue
                sub = Submission(str(path), kept(data), submission_digest(data))
            else:
                sub = Submission(str(path), sub.report, sub.digest)
            key = (sub.path, sub.digest)
            if key in by_key:
                result.duplicates.append(Duplicate(sub.source, by_key[key].source, sub.digest))
                continue
            by_key[key] = sub
            result.submissions.append(sub)
    return result


def kept(report: dict[str, Any]) -> dict[str, Any]:
    """What the gradebook and the class summary read of a report, and nothing else: a
    class of a thousand reports is held in memory at once."""
    kept = {k: report[k] for k in ("seed", "score", "max_score", "percent", "problem", "grader_errors")
            if k in report}
    kept["submission"] = {"path": report["submission"]["path"]}
    kept["tasks"] = [{"id": t["id"], "score": t["score"], "max_score": t["max_score"], "status": t["status"],
                      "checks": [{k: c[k] for k in ("outcome", "code", "hint", "score", "max_score") if k in c}
                                 for c in t["checks"]
                                 if c["score"] < c["max_score"] or c["outcome"] == "grader_error"]}
                     for t in report["tasks"]]
    return kept


def _num(x: float) -> str:
    return f"{float(x):g}"


def _cell(text: str) -> str:
    """Text a spreadsheet will not read as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _status(report: dict[str, Any], task_ids: list[str]) -> str:
    """``grader_error`` (regrade it), ``not_a_submission`` (nothing gradable: see the
    report's problem), ``incomplete`` (some tasks were not graded) or ``ok``."""
    if report.get("grader_errors") or any(c["outcome"] == "grader_error"
                                          for t in report["tasks"] for c in t["checks"]):
        return "grader_error"
    if report.get("problem"):
        return "not_a_submission"
    graded = {t["id"] for t in report["tasks"]}
    if any(tid not in graded for tid in task_ids if tid in {t.id for t in TASKS}):
        return "incomplete"
    return "ok"


def render_csv(collection: Collection) -> str:
    """The gradebook: a row per submission; a column per task (its score; empty if not graded)."""
    task_ids = collection.task_ids()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_HEAD, *task_ids, "status"])
    for sub in sorted(collection.submissions, key=lambda s: (s.path, s.source)):
        r = sub.report
        scores = {t["id"]: _num(t["score"]) for t in r["tasks"]}
        writer.writerow([_cell(sub.path), sub.digest, r["seed"], _num(r["score"]),
                         _num(r["max_score"]), _num(r.get("percent", 0.0)),
                         *(scores.get(tid, "") for tid in task_ids), _status(r, task_ids)])
    return out.getvalue()


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"mean": round(statistics.fmean(values), 4), "median": round(statistics.median(values), 4),
            "min": round(min(values), 4), "max": round(max(values), 4)}


def summary(collection: Collection) -> dict[str, Any]:
    """The class summary: totals; per task its mean score, pass rate, statuses and the
    most frequent failure reasons (``code``/``hint``, counted once per submission); the
    inputs not counted; submissions whose files are identical."""
    reports = [s.report for s in collection.submissions]
    tasks = []
    for tid in collection.task_ids():
        entries = [t for r in reports for t in r["tasks"] if t["id"] == tid]
        if not entries:
            continue
        reasons: Counter[tuple[str, str]] = Counter()
        for entry in entries:
            reasons.update({(c.get("code", ""), c.get("hint", "")) for c in entry["checks"]
                            if c["score"] < c["max_score"] and c.get("code")})
        top = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_FAILURES]
        tasks.append({
            "id": tid,
            "max_score": float(entries[0]["max_score"]),
            "graded": len(entries),
            "mean_score": round(statistics.fmean(float(t["score"]) for t in entries), 4),
            "pass_rate": round(sum(t["status"] == "passed" for t in entries) / len(entries), 4),
            "statuses": dict(sorted(Counter(t["status"] for t in entries).items())),
            "top_failures": [{"code": code, "hint": hint, "submissions": n} for (code, hint), n in top],
        })
    paths_by_digest: dict[str, list[str]] = {}
    for sub in sorted(collection.submissions, key=lambda s: s.path):
        paths_by_digest.setdefault(sub.digest, []).append(sub.path)
    return {
        "submissions": len(reports),
        "score": _stats([float(r["score"]) for r in reports]),
        "percent": _stats([float(r.get("percent", 0.0)) for r in reports]),
        "tasks": tasks,
        "problems": [{"source": p.source, "message": p.message} for p in collection.problems],
        "duplicates": [{"source": d.source, "duplicate_of": d.duplicate_of, "digest": d.digest}
                       for d in collection.duplicates],
        "identical_files": [{"digest": digest, "submissions": paths}
                            for digest, paths in sorted(paths_by_digest.items()) if len(paths) > 1],
    }
