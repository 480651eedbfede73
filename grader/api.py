"""``grade()``: grade one submission and return its report (a dict, schema v1).

The order of work is chosen for speed and safety: read and scan the submission
as text, start the sandbox server (it imports torch in parallel with us), run
the checks under pytest in this process, and build the report once every child
is gone.
"""
from __future__ import annotations

import contextlib
import io
import os
import secrets
import time
from pathlib import Path
from typing import Any

from . import report as report_mod
from .engine import Session, Verdict
from .sandbox import client
from .submission import MAX_MODULE_BYTES, Submission, read
from .tasks import Task, select

CHECKS_DIR = Path(__file__).parent / "checks"


class GraderError(RuntimeError):
    """The grader itself failed (exit status 3)."""


def static_verdict(sub: Submission, task: Task) -> Verdict | None:
    scan = sub.scans[task.module]
    if not scan.present:
        return Verdict("missing", "missing_module", {"module": task.module})
    if task.module in sub.oversized:
        return Verdict("error", "too_large", {"module": task.module, "limit": MAX_MODULE_BYTES})
    if scan.syntax_error is not None:
        f = scan.syntax_error
        return Verdict("error", "syntax_error", {"module": task.module, "line": f.line, "detail": f.detail})
    if scan.escapes:
        f = scan.escapes[0]
        return Verdict("forbidden", "escape", {"module": task.module, "line": f.line, "detail": f.detail,
                                                "kind": f.code, "count": len(scan.escapes)})
    if task.name not in scan.defined:
        return Verdict("missing", "missing_function", {"function": task.name})
    uses = scan.forbidden_uses(task)
    if uses:
        return Verdict("forbidden", "forbidden_api", {"line": uses[0].line, "detail": uses[0].detail})
    return None


def run_checks(session: Session, seed: int, selected: set[str]) -> tuple[Any, Any]:
    import pytest
    from pytest_jsonreport.plugin import JSONReport

    from .plugin import GradingPlugin

    plugin = GradingPlugin(session, seed, selected)
    json_plugin = JSONReport()
    args = [
        str(CHECKS_DIR), "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR),
        "--noconftest", "-p", "pytest_jsonreport.plugin", "-p", "no:cacheprovider", "-p", "no:warnings",
        "--import-mode=importlib", "-q", "--capture=sys", "--json-report-file=none",
    ]
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("PYTEST_")}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[json_plugin, plugin])
    finally:
        os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        os.environ.update(saved)
    if int(code) not in (0, 1, 5) or plugin.unmarked:
        raise GraderError(f"the checks did not run (pytest exit {int(code)}): "
                          + (sink.getvalue().strip().splitlines() or ["no output"])[-1][:300])
    return plugin, json_plugin.report


def grade(path: str | Path, *, seed: int | None = None, patterns: tuple[str, ...] = (),
          timeout: float = 10.0, memory_mb: int = 1024, lang: str = "en") -> dict[str, Any]:
    started = time.monotonic()
    sub = read(path)
    tasks = select(patterns)
    if not tasks:
        raise ValueError(f"no task matches {' '.join(patterns)!r} (see 'grade list')")
    seed = secrets.randbelow(2**31) if seed is None else seed
    verdicts = {task.id: static_verdict(sub, task) for task in tasks}
    to_run = {task.id for task in tasks if verdicts[task.id] is None}
    limits = client.Limits(timeout=timeout, memory_mb=memory_mb)
    plugin = json_report = None
    session = None
    if to_run:
        server = client.Server()
        try:
            session = Session(sub.sources, server, limits)
            try:
                plugin, json_report = run_checks(session, seed, to_run)
            finally:
                session.close()
        finally:
            server.close()
    return report_mod.build(
        sub, tasks, verdicts, plugin, json_report, session,
        seed=seed, patterns=patterns, limits=limits, lang=lang,
        seconds=time.monotonic() - started,
    )
