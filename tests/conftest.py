from __future__ import annotations

import ctypes
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
MUTANTS = ROOT / "mutants"

# Every process this test session starts stays its descendant, orphans included (they
# are reparented here rather than to init), so the leak check sees exactly its own.
# Sandbox processes carry no marker: they inherit nothing of the environment.
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


@pytest.fixture(scope="session")
def server():
    """One sandbox server shared by every grading run of the test session."""
    from grader.sandbox.spawn import start

    with start() as srv:
        yield srv
    # After every grading run of the session: nothing a submission started survives.
    from .test_sandbox import _sandbox_processes

    assert _sandbox_processes() == [], "sandbox processes outlived the test session"


@pytest.fixture
def grade(server):
    """Grade a folder in-process with the shared server; the report is validated."""
    from grader import api, report

    def run(path, **kwargs):
        kwargs.setdefault("seed", 1234)
        result = api.grade(path, server=server, **kwargs)
        report.validate(result)
        return result

    return run


@pytest.fixture
def submission(tmp_path):
    """Build a submission from the solutions, with some modules' text replaced or extended."""

    def build(replace: dict[str, str] | None = None, append: dict[str, str] | None = None,
              drop: tuple[str, ...] = ()) -> Path:
        from grader.tasks import MODULES

        folder = tmp_path / "submission"
        folder.mkdir(exist_ok=True)
        for module in MODULES:
            if module in drop:
                continue
            text = (SOLUTIONS / f"{module}.py").read_text(encoding="utf-8")
            if replace and module in replace:
                text = replace[module]
            if append and module in append:
                text += "\n\n" + append[module]
            (folder / f"{module}.py").write_text(text, encoding="utf-8")
        return folder

    return build


def by_task(report: dict) -> dict[str, dict]:
    return {t["id"]: t for t in report["tasks"]}


def lost_tasks(report: dict) -> set[str]:
    return {t["id"] for t in report["tasks"] if t["score"] < t["max_score"]}
