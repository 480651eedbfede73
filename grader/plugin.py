"""The pytest plugin that runs the hidden checks against one submission.

It hands each check its ``task`` (the student's function, sandboxed) and
``inputs`` (seeded random inputs), turns each check's end into an outcome
(passed, failed, error, timeout, ...) and closes a task's sandbox child when its
last check is done.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from . import messages
from .checking import MANIFEST, Fail, Inputs, StudentFailed, seeded
from .engine import Session, StudentFunction
from .untrusted import escape


@dataclass
class CheckOutcome:
    outcome: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _key(item: pytest.Item) -> str | None:
    fn = getattr(item, "function", None)
    return getattr(fn, "autograd_lab_check", None)


def outcome_of_failure(result: Any, task_id: str = "", hints: dict[str, str] | None = None) -> CheckOutcome:
    """Turn a call that did not return into a check outcome with its message."""
    exc = result.exception or {}
    where: dict[str, Any] = {}
    frames = exc.get("frames") if type(exc.get("frames")) is list else []
    if frames and type(frames[-1]) is list and len(frames[-1]) >= 2:
        where = {"file": str(frames[-1][0]), "line": frames[-1][1]}
    full = str(exc.get("message", ""))
    # torch's messages run to several sentences: the first name the problem.
    text = {"type": str(exc.get("type", ""))[:80], "message": messages.first_sentences(full),
            "detail": result.detail, **where}
    hint = messages.exception_hint(full, task_id)
    hint = (hints or {}).get(hint, hint) if hint else hint
    if hint:
        text["hint"] = hint
    kind = result.kind
    if kind == "not_implemented":
        return CheckOutcome("not_implemented", "not_implemented", text)
    if kind in ("raised", "import_error", "unencodable"):
        return CheckOutcome("error", kind, text)
    if kind == "missing":
        return CheckOutcome("missing", "missing_function", text)
    if kind == "timeout":
        return CheckOutcome("timeout", "timeout", text)
    return CheckOutcome("crashed", "crashed" if kind == "crashed" else "garbled", text)


class GradingPlugin:
    def __init__(self, session: Session, seed: int, selected: set[str]) -> None:
        self.session = session
        self.seed = seed
        self.selected = selected
        self.outcomes: dict[str, CheckOutcome] = {}
        self.unmarked: list[str] = []
        self.nodeids: dict[str, str] = {}

    @pytest.fixture
    def task(self, request: pytest.FixtureRequest) -> StudentFunction:
        return StudentFunction(self.session, MANIFEST[_key(request.node)].task)

    @pytest.fixture
    def inputs(self, request: pytest.FixtureRequest) -> Inputs:
        return Inputs(seeded(self.seed, _key(request.node) or request.node.nodeid))

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        keep, drop = [], []
        for item in items:
            key = _key(item)
            if key is None or key not in MANIFEST:
                self.unmarked.append(item.nodeid)
                drop.append(item)
            elif MANIFEST[key].task in self.selected:
                keep.append(item)
            else:
                drop.append(item)
        # Group checks by task: a task's budget and a replaced child stay together.
        keep.sort(key=lambda item: MANIFEST[_key(item)].task)
        items[:] = keep
        if drop:
            config.hook.pytest_deselected(items=drop)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        started = time.monotonic()
        outcome = yield
        key = _key(item)
        excinfo = outcome.excinfo
        if excinfo is None:
            result = CheckOutcome("passed")
        else:
            exc = excinfo[1]
            if isinstance(exc, Fail):
                result = CheckOutcome("forbidden" if exc.code == "forbidden_runtime" else "failed",
                                      exc.code, dict(exc.params))
            elif isinstance(exc, StudentFailed):
                result = outcome_of_failure(exc.result, MANIFEST[key].task if key in MANIFEST else "", exc.hints)
            else:
                # The check's own error may quote the child's text: a value, made safe.
                result = CheckOutcome("grader_error", "grader_error",
                                      {"detail": escape(f"{type(exc).__name__}: {escape(exc)}", 300)})
        result.seconds = time.monotonic() - started
        if key is not None:
            self.outcomes[key] = result
            self.nodeids[key] = item.nodeid
