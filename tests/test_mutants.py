"""Every known-wrong submission loses points on its task, and on no other."""
from __future__ import annotations

import re

import pytest

from grader.mutants import discover, materialise

from .conftest import MUTANTS, SOLUTIONS, by_task, lost_tasks

ALL = discover(MUTANTS)


@pytest.mark.parametrize("mutant", ALL, ids=[m.name for m in ALL])
def test_mutant_loses_its_task_only(mutant, grade, tmp_path):
    folder = materialise(mutant, SOLUTIONS, tmp_path / "sub")
    report = grade(folder, patterns=(mutant.module,))
    assert lost_tasks(report) == set(mutant.loses), mutant.summary
    tasks = by_task(report)
    for task_id in mutant.loses:
        task = tasks[task_id]
        if mutant.status:
            assert task["status"] == mutant.status, (task_id, task["status"], task["checks"])
    if mutant.hint:
        hints = {c["hint"] for t in mutant.loses for c in tasks[t]["checks"]}
        assert mutant.hint in hints, (mutant.hint, hints)
    for task in report["tasks"]:
        for check in task["checks"]:
            if check["visibility"] == "hidden":
                assert_reveals_no_expected_value(check)


TOLERANCES = {"1e-07", "1e-09", "0.0001", "1e-05"}


def assert_reveals_no_expected_value(check: dict) -> None:
    """Hidden feedback may name shapes, dtypes, lines and tolerances; never a computed value."""
    assert check["code"] != "wrong_values_visible", check
    numbers = set(re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+e[-+]?\d+", check["feedback"]))
    if check["outcome"] == "failed":
        assert numbers <= TOLERANCES, (check["id"], check["feedback"])


def test_there_is_a_mutant_for_every_task():
    from grader.tasks import TASKS

    covered = {t for m in ALL for t in m.loses}
    assert covered == {t.id for t in TASKS}
