"""``grade()``: grade one submission and return its report (a dict, schema v1);
``grade_each()``: grade many in one pytest session.

The order of work is chosen for speed and safety: read and scan the submission
as text, start the sandbox server (it prepares torch on the other core while this
process goes on with pytest), run the checks under pytest in this process, and
build the report from pytest-json-report's records once every child is gone. The
server is forked from this process right after torch is imported and before any
torch work or any check is loaded, so one import serves both and no check's code
is in its memory.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from . import preload, report, static
from .options import Options
from .submission import Submission, read
from .tasks import Task, select


@dataclass
class Prepared:
    """A submission read and scanned, with what was decided before running it."""

    submission: Submission
    tasks: list[Task]
    verdicts: dict[str, static.Verdict | None]
    options: Options
    started: float

    @property
    def to_run(self) -> set[str]:
        return {task.id for task in self.tasks if self.verdicts[task.id] is None}


def prepare(path: str | Path | Submission, options: Options) -> Prepared:
    """``path`` read (unless it is a Submission already read) and scanned."""
    started = time.monotonic()
    tasks = select(options.patterns)
    if not tasks:
        raise ValueError(f"no task matches {' '.join(options.patterns)!r} (see 'grade list')")
    sub = path if isinstance(path, Submission) else read(path)
    verdicts = {task.id: static.bounded_verdict(sub, task) for task in tasks}
    return Prepared(sub, tasks, verdicts, options.seeded(), started)


def finish(prepared: Prepared, ledger: list[dict[str, Any]], isolation: dict[str, Any] | None) -> dict[str, Any]:
    sub = prepared.submission
    described = {"path": str(sub.root), "files": [dict(module=m, **info) for m, info in sub.files.items()]}
    built = report.build(described, prepared.tasks, prepared.verdicts, ledger, prepared.options,
                         seconds=time.monotonic() - prepared.started, isolation=isolation)
    if sub.built:  # modules graded from notebooks: feedback names their cells
        from .notebook import relabel

        relabel(built, sub.built)
    return built


def check(prepared: Prepared, server: Any, run: Any) -> dict[str, Any]:
    """Run the checks of a prepared submission with ``run`` (a ``checkrun.Run``) in
    its own sandbox session, and build its report."""
    from .engine import Session

    ledger: list[dict[str, Any]] = []
    isolation = None
    if prepared.to_run:
        server.warm(static.warm_up_for(prepared.submission))
        report.prepare_validator()
        runnable = static.runnable_sources(prepared.submission)
        session = Session(runnable, server, prepared.options.limits,
                          withheld=static.withheld(prepared.submission, runnable))
        try:
            ledger = run(session, prepared.options.seed, prepared.to_run)
        finally:
            preload.note_torch_work()
            session.close()
        isolation = dict(server.isolation) if server.isolation else None
    return finish(prepared, ledger, isolation)


def grade(path: str | Path | Submission, options: Options | None = None, *, server: Any = None,
          **changes: Any) -> dict[str, Any]:
    """Grade the submission at ``path`` (or one already read); ``server`` may be shared between calls.

    ``changes`` override single options: ``grade(path, seed=3, patterns=("ex03",))``.
    """
    options = (options or Options()).but(**changes) if changes else (options or Options())
    prepared = prepare(path, options)
    if not prepared.to_run:
        return finish(prepared, [], None)
    own_server = server is None
    if own_server:
        from .sandbox import spawn

        # Forked from this process only while that is safe (grade run: torch loaded
        # and nothing run yet); else a server in a fresh interpreter.
        server = spawn.start(warm=static.warm_up_for(prepared.submission), fork=preload.fork_safe())
    outcome: list[tuple[dict[str, Any] | None, Exception | None]] = []
    try:
        _check_each([(lambda: prepared, lambda built, exc: outcome.append((built, exc)))], server)
    finally:
        if own_server:
            server.close()
    if not outcome:
        from .errors import GraderError

        raise GraderError("the checks did not run")
    built, exc = outcome[0]
    if exc is not None:
        raise exc
    return built


Done = Callable[[dict[str, Any] | None, Exception | None], None]


def grade_each(jobs: Iterable[tuple[str | Path, Options, Done]], server: Any) -> None:
    """Grade submission after submission in one pytest session with one server.

    Each job is (path, options, done); ``done(report, None)`` gets the report, or
    ``done(None, exc)`` the exception that stopped its grading. A submission's
    failure never stops the next one.
    """
    _check_each(((lambda path=path, options=options: prepare(path, options), done) for path, options, done in jobs),
                server)


def _check_each(jobs: Iterable[tuple[Callable[[], Prepared], Done]], server: Any) -> None:
    """Prepare and check each job in one pytest session; its ``done`` gets the outcome."""
    from .checkrun import run_session

    def each():
        for prepared, done in jobs:
            def job(run: Any, prepared=prepared, done=done) -> None:
                try:
                    built = check(prepared(), server, run)
                except Exception as exc:  # noqa: BLE001 - this submission's failure, reported by done
                    done(None, exc)
                else:
                    done(built, None)
            yield job

    run_session(each())
