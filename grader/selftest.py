"""``grade selftest``: prove the checks against known answers.

The reference solutions must score full marks, the stubs zero, and every
known-wrong submission in ``mutants/`` must lose exactly the tasks it declares
(with its declared status and hint). Any surprise is a failure that names the
mistake that slipped through.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import mutants as mutants_mod
from .options import Options


@dataclass
class Outcome:
    name: str
    expected: str
    got: str
    ok: bool
    problem: str = ""


def _lost(report: dict) -> set[str]:
    return {t["id"] for t in report["tasks"] if t["score"] < t["max_score"]}


def _judge_mutant(mutant: mutants_mod.Mutant, report: dict) -> Outcome:
    lost = _lost(report)
    tasks = {t["id"]: t for t in report["tasks"]}
    expected = f"loses {' '.join(mutant.loses)}"
    got = f"loses {' '.join(sorted(lost)) or 'nothing'}"
    problems = []
    slipped = [t for t in mutant.loses if t not in lost]
    if slipped:
        problems.append(f"the mistake \"{mutant.summary}\" slipped through: {', '.join(slipped)} scored full marks")
    extra = sorted(lost - set(mutant.loses))
    if extra:
        problems.append(f"correct tasks lost points: {', '.join(extra)}")
    for task_id in mutant.loses:
        if task_id in lost and mutant.status and tasks[task_id]["status"] != mutant.status:
            problems.append(f"{task_id} got status {tasks[task_id]['status']}, expected {mutant.status}")
    if mutant.hint:
        hints = {c.get("hint") for t in mutant.loses if t in tasks for c in tasks[t]["checks"]}
        if mutant.hint not in hints:
            problems.append(f"no check gave the hint {mutant.hint!r}")
    return Outcome(mutant.name, expected, got, not problems, "; ".join(problems))


def run(root: Path, server: Any, options: Options,
        progress: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Grade solutions, stubs and every mutant under ``root`` in one pytest session with
    ``server`` (``options``' seed for all; a mutant graded on its module's tasks)."""
    from . import api

    outcomes: list[Outcome] = []

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        progress(outcome)

    def judged(name: str, expected: str, judge: Callable[[dict], Outcome]) -> Callable[..., None]:
        def done(report: dict | None, exc: Exception | None) -> None:
            if report is None:
                record(Outcome(name, expected, "the grader failed", False, f"{type(exc).__name__}: {exc}"[:300]))
            else:
                record(judge(report))
        return done

    def solutions(report: dict) -> Outcome:
        full = report["score"] == report["max_score"]
        return Outcome("solutions", "full marks", f"{report['score']:g}/{report['max_score']:g}", full,
                       "" if full else f"the reference solutions lost points on {', '.join(sorted(_lost(report)))}")

    def stubs(report: dict) -> Outcome:
        return Outcome("exercises (stubs)", "0", f"{report['score']:g}/{report['max_score']:g}", report["score"] == 0,
                       "" if report["score"] == 0 else
                       "the stubs scored on " + ", ".join(t["id"] for t in report["tasks"] if t["score"] > 0))

    with tempfile.TemporaryDirectory(prefix="autograd-lab-selftest-") as tmp:
        jobs = [(root / "solutions", options, judged("solutions", "full marks", solutions)),
                (root / "exercises", options, judged("exercises (stubs)", "0", stubs))]
        for i, mutant in enumerate(mutants_mod.discover(root / "mutants")):
            folder = mutants_mod.materialise(mutant, root / "solutions", Path(tmp) / str(i))
            jobs.append((folder, options.but(patterns=(mutant.module,)),
                         judged(mutant.name, f"loses {' '.join(mutant.loses)}",
                                lambda report, mutant=mutant: _judge_mutant(mutant, report))))
        api.grade_each(jobs, server)
    return outcomes
