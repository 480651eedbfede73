"""``grade()``: grade one submission and return its report (a dict, schema v1).

The order of work is chosen for speed and safety: read and scan the submission
as text, start the sandbox server (it imports torch on the other core while this
process goes on with pytest), run the checks under pytest in this process, and
build the report once every child is gone. The server is forked from this
process right after torch is imported and before any torch work or any check
is loaded, so one import serves both and no check's code is in its memory.
"""
from __future__ import annotations

import contextlib
import io
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GraderError
from .sandbox import client
from .submission import MAX_MODULE_BYTES, Submission, read
from .tasks import Task, select
from .untrusted import escape

CHECKS_DIR = Path(__file__).parent / "checks"
# Code using these needs torch.func / vmap machinery (about a second to load) in
# the sandbox; other submissions start without it.
NEEDS_FUNC_WARM_UP = {"func", "vmap", "jacrev", "jacfwd", "forward_ad", "functional_call", "linearize",
                      "is_grads_batched", "vectorize", "make_dual", "dual_level"}


@dataclass
class Verdict:
    """A task's fate decided without running it."""

    status: str  # missing, error, forbidden
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def static_verdict(sub: Submission, task: Task) -> Verdict | None:
    scan = sub.scans[task.module]
    if not scan.present:
        return Verdict("missing", "missing_module", {"module": task.module})
    if task.module in sub.oversized:
        return Verdict("error", "too_large", {"module": task.module, "limit": MAX_MODULE_BYTES})
    if scan.syntax_error is not None:
        f = scan.syntax_error
        return Verdict("error", "syntax_error", {"module": task.module, "line": f.line, "detail": escape(f.detail, 200)})
    escapes = scan.escapes_for(task)
    if escapes:
        f = escapes[0]
        return Verdict("forbidden", "escape", {"module": task.module, "line": f.line, "detail": escape(f.detail, 200),
                                                "kind": f.code, "count": len(escapes)})
    if task.name not in scan.defined:
        return Verdict("missing", "missing_function", {"function": task.name})
    uses = scan.forbidden_uses(task)
    if uses:
        return Verdict("forbidden", "forbidden_api", {"line": uses[0].line, "detail": escape(uses[0].detail, 200)})
    return None


def warm_up_for(sub: Submission) -> tuple[str, ...]:
    return ("func",) if any(scan.identifiers & NEEDS_FUNC_WARM_UP for scan in sub.scans.values()) else ()


class _Interrupt:
    """Notes a Ctrl-C that pytest caught."""

    seen = False

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.seen = True


def run_checks(session: Any, seed: int, selected: set[str]) -> tuple[Any, Any]:
    import pytest
    from pytest_jsonreport.plugin import JSONReport

    from .plugin import GradingPlugin

    plugin = GradingPlugin(session, seed, selected)
    json_plugin = JSONReport()
    interrupt = _Interrupt()
    args = [
        str(CHECKS_DIR), "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR),
        "--noconftest", "-p", "pytest_jsonreport.plugin", "-p", "no:cacheprovider", "-p", "no:warnings",
        # Plugins the checks do not need and that cost time on every run: logging
        # capture around each phase, and a full gc.collect() at the end.
        "-p", "no:logging", "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
        "--import-mode=importlib", "-q", "--capture=sys", "--tb=no", "--json-report-file=none",
    ]
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("PYTEST_")}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[json_plugin, plugin, interrupt])
    finally:
        os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        os.environ.update(saved)
    if interrupt.seen:  # pytest turned Ctrl-C into its exit status 2: it is the user's, pass it on
        raise KeyboardInterrupt
    if int(code) not in (0, 1, 5) or plugin.unmarked:
        lines = sink.getvalue().strip().splitlines() or ["no output"]
        raise GraderError(f"the checks did not run (pytest exit {int(code)}): {lines[-1][:300]}")
    return plugin, json_plugin.report


def grade(path: str | Path, *, seed: int | None = None, patterns: tuple[str, ...] = (),
          timeout: float = 10.0, memory_mb: int = 1024, lang: str = "en",
          server: client.Server | None = None) -> dict[str, Any]:
    """Grade the submission at ``path``; ``server`` may be shared between calls."""
    started = time.monotonic()
    sub = read(path)
    tasks = select(patterns)
    if not tasks:
        raise ValueError(f"no task matches {' '.join(patterns)!r} (see 'grade list')")
    seed = secrets.randbelow(2**31) if seed is None else seed
    verdicts = {task.id: static_verdict(sub, task) for task in tasks}
    to_run = {task.id for task in tasks if verdicts[task.id] is None}
    limits = client.Limits(timeout=timeout, memory_mb=memory_mb)
    own_server = server is None and bool(to_run)
    if own_server:
        from .sandbox import spawn

        server = spawn.start(warm=warm_up_for(sub), fork=True)  # forked, or spawned where fork is unsafe
    plugin = json_report = session = None
    isolation = None
    try:
        if to_run:
            from .engine import Session

            # Only modules that passed the scan reach the sandbox, even as imports of
            # another module.
            clean = {m: text for m, text in sub.sources.items()
                     if sub.scans[m].syntax_error is None and not sub.scans[m].module_level_escapes}
            server.warm(warm_up_for(sub))
            session = Session(clean, server, limits)
            try:
                plugin, json_report = run_checks(session, seed, to_run)
            finally:
                session.close()
            isolation = dict(server.isolation) if server.isolation else None
    finally:
        if own_server:
            server.close()
    from . import report

    from .sandbox import isolation as isolation_mod

    result = report.build(sub, tasks, verdicts, plugin, json_report, session, seed=seed, patterns=patterns,
                          limits=limits, lang=lang, seconds=time.monotonic() - started)
    result["isolation"] = isolation or isolation_mod.not_needed()
    return result
