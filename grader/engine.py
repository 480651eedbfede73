"""The grading session: the trusted side's link between checks and the sandbox.

One sandbox child per module holds the student's module; every check of its tasks
calls into it, each task within its own time budget. A task decided before running
(missing, syntax error, forbidden) never reaches the sandbox.
"""
from __future__ import annotations

from typing import Any

from .checking import Answer, Fail, StudentFailed
from .sandbox import client
from .tasks import BY_ID, Task


def runtime_forbidden(task: Task, used: list[str]) -> list[str]:
    hits = []
    for api in used:
        if type(api) is not str:
            continue
        for rule in task.forbidden:
            if rule.startswith("torch") and (api == rule or api.startswith(rule + ".") or api.startswith(rule + "(")):
                hits.append(api)
                break
    return hits


class Session:
    """Sandbox children for one submission: one per module, shared by its tasks.

    Each task has its own wall-clock budget (``limits.timeout``) across all its
    calls. A child that times out or dies is replaced for the module's next task;
    a task that timed out is not called again.
    """

    def __init__(self, sources: dict[str, str], server: client.Server, limits: client.Limits) -> None:
        self.sources = sources
        self.server = server
        self.limits = limits
        self.children: dict[str, client.Child] = {}
        self.spent: dict[str, float] = {}
        self.timed_out: dict[str, client.CallResult] = {}
        self.forbidden_at_runtime: dict[str, list[str]] = {}

    def call(self, task: Task, *args: Any) -> client.CallResult:
        if task.id in self.timed_out:
            return self.timed_out[task.id]
        child = self.children.get(task.module)
        if child is None or child.dead is not None:
            tasks_in_module = sum(1 for t in BY_ID.values() if t.module == task.module)
            limits = client.Limits(timeout=self.limits.timeout * tasks_in_module, memory_mb=self.limits.memory_mb)
            child = self.server.open({"module": task.module, "sources": self.sources}, limits)
            self.children[task.module] = child
        left = self.limits.timeout - self.spent.get(task.id, 0.0)
        result = child.call(task.name, *args, seconds=left)
        self.spent[task.id] = self.spent.get(task.id, 0.0) + result.seconds
        if result.kind == "timeout":
            result.detail = "time limit {seconds:g} s"
            result.detail_params = {"seconds": self.limits.timeout}
            self.timed_out[task.id] = result
        return result

    def end_module(self, module: str) -> None:
        child = self.children.pop(module, None)
        if child is not None:
            child.close()

    def close(self) -> None:
        for module in list(self.children):
            self.end_module(module)


class StudentFunction:
    """The student's function as a check sees it: call it, get an ``Answer``."""

    def __init__(self, session: Session, task_id: str) -> None:
        self.session = session
        self.task = BY_ID[task_id]

    def __call__(self, *args: Any) -> Answer:
        result = self.session.call(self.task, *args)
        used = result.evidence.get("used", []) if type(result.evidence.get("used")) is list else []
        hits = runtime_forbidden(self.task, used)
        if hits:
            self.session.forbidden_at_runtime.setdefault(self.task.id, []).extend(hits)
            raise Fail("forbidden_runtime", api=", ".join(sorted(set(hits))))
        if result.kind != "returned":
            raise StudentFailed(result)
        return Answer(result.value, result.evidence)
