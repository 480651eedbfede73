"""The checks themselves: every task is covered, worth its points, and visible somewhere."""
from __future__ import annotations

import pytest

from grader.checking import load_manifest
from grader.tasks import TASKS

MANIFEST = load_manifest()


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_checks_add_up_to_the_task_points(task):
    specs = [s for s in MANIFEST.values() if s.task == task.id]
    assert len(specs) >= 3, "a task needs several checks for partial credit"
    assert sum(s.points for s in specs) == task.points
    assert any(s.visibility == "visible" for s in specs), "students must be able to run one check"
    assert all(s.title for s in specs)
