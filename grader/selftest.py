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
from typing import Callable

from . import mutants as mutants_mod


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


def run(root: Path, grade: Callable[..., dict], progress: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Grade solutions, stubs and every mutant under ``root`` with ``grade(path, **kw)``."""
    outcomes: list[Outcome] = []

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        progress(outcome)

    solutions = grade(root / "solutions")
    record(Outcome("solutions", "full marks", f"{solutions['score']:g}/{solutions['max_score']:g}",
                   solutions["score"] == solutions["max_score"],
                   "" if solutions["score"] == solutions["max_score"]
                   else f"the reference solutions lost points on {', '.join(sorted(_lost(solutions)))}"))
    stubs = grade(root / "exercises")
    record(Outcome("exercises (stubs)", "0", f"{stubs['score']:g}/{stubs['max_score']:g}", stubs["score"] == 0,
                   "" if stubs["score"] == 0 else
                   "the stubs scored on " + ", ".join(t["id"] for t in stubs["tasks"] if t["score"] > 0)))
    with tempfile.TemporaryDirectory(prefix="autograd-lab-selftest-") as tmp:
        for i, mutant in enumerate(mutants_mod.discover(root / "mutants")):
            folder = mutants_mod.materialise(mutant, root / "solutions", Path(tmp) / str(i))
            record(_judge_mutant(mutant, grade(folder, patterns=(mutant.module,))))
    return outcomes
