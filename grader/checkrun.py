"""The hidden checks under pytest: collected once, run for submission after submission.

One pytest session serves a whole batch worker, or one ``grade run``: the check
modules are imported and collected once; then, for each submission, the plugin
runs the items of the tasks to run through pytest's own run-test protocol, with
that submission's sandbox session and seed behind the ``task`` and ``inputs``
fixtures. Nothing of one submission survives into the next: the sandbox session
(and its child) is the submission's own, and every item is set up and torn down
again.

pytest-json-report records every phase of every check (the ledger). What the
grading plugin decided about a check (its outcome, message, the evidence its
calls left) is attached to that record as metadata, so the report is built from
the ledger's records alone.
"""
from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest
from pytest_jsonreport.plugin import JSONReport

from . import messages
from .checking import MANIFEST, Fail, Inputs, StudentFailed, seeded
from .engine import Session, StudentFunction
from .errors import GraderError
from .status import Outcome
from .untrusted import escape

CHECKS_DIR = Path(__file__).parent / "checks"
ARGS = [
    str(CHECKS_DIR), "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR),
    "--noconftest", "-p", "pytest_jsonreport.plugin", "-p", "no:cacheprovider", "-p", "no:warnings",
    # Plugins the checks do not need and that cost time on every check: logging
    # capture around each phase, and a full gc.collect() at the end.
    "-p", "no:logging", "-p", "no:unraisableexception", "-p", "no:threadexception",
    "-p", "no:faulthandler",
    # Per-check hooks of features no check uses: unittest classes, subtests, skip and
    # xfail marks, tmp_path, --setup-only/--setup-plan, and output capture (the checks
    # print nothing, and run_session catches whatever is printed). legacypath stays:
    # pytest-json-report reads session.fspath.
    "-p", "no:unittest", "-p", "no:subtests", "-p", "no:skipping", "-p", "no:tmpdir",
    "-p", "no:setuponly", "-p", "no:setupplan", "-p", "no:capture",
    "--import-mode=importlib", "-q", "--tb=no",
    "--json-report-file=none", "--json-report-omit", "collectors", "log", "keywords", "streams", "warnings",
]

# run(session, seed, tasks to run) -> the ledger's records of that submission's checks
Run = Callable[[Session, int, set[str]], list[dict[str, Any]]]
Job = Callable[[Run], None]


class Ledger(JSONReport):
    """pytest-json-report, read submission by submission."""

    def take(self) -> list[dict[str, Any]]:
        """The records of the checks run since the last call."""
        tests = list(self._json_tests.values())
        self._json_tests.clear()
        return tests


class _Outcome:
    """What the plugin decided about one check, before pytest-json-report records it."""

    def __init__(self, outcome: Outcome, code: str = "", params: dict[str, Any] | None = None) -> None:
        self.outcome = outcome
        self.code = code
        self.params = params or {}


def _key(item: pytest.Item) -> str | None:
    fn = getattr(item, "function", None)
    return getattr(fn, "autograd_lab_check", None)


def outcome_of_failure(result: Any, task_id: str = "", hints: dict[str, str] | None = None) -> _Outcome:
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
    evidence = result.evidence if isinstance(getattr(result, "evidence", None), dict) else {}
    hint = messages.exception_hint(f"{text['type']}: {full}", task_id, evidence.get("passes"))
    hint = (hints or {}).get(hint, hint) if hint else hint
    if hint:
        text["hint"] = hint
    kind = result.kind
    if kind == "not_implemented":
        return _Outcome(Outcome.NOT_IMPLEMENTED, "not_implemented", text)
    if kind in ("raised", "import_error", "unencodable"):
        return _Outcome(Outcome.ERROR, kind, text)
    if kind == "missing":
        return _Outcome(Outcome.MISSING, "missing_function", text)
    if kind == "timeout":
        return _Outcome(Outcome.TIMEOUT, "timeout", text)
    return _Outcome(Outcome.CRASHED, "crashed" if kind == "crashed" else "garbled", text)


def _plain(value: Any) -> Any:
    """A value pytest-json-report keeps: JSON types as they are (text, a Phrase
    included), anything else as text. Metadata it cannot serialise it drops whole."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value) if type(value) in (list, tuple) else [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return escape(value, 300)


class GradingPlugin:
    """Runs the checks of submission after submission in one pytest session."""

    def __init__(self, jobs: Iterable[Job], ledger: Ledger) -> None:
        self.jobs = jobs
        self.ledger = ledger
        self.items: list[pytest.Item] = []
        self.broken: list[str] = []  # why the checks cannot run at all
        self.session: Session | None = None
        self.seed = 0
        self.decided: dict[str, tuple[_Outcome, float, Any]] = {}
        self.item: pytest.Item | None = None  # the check being run

    # The fixtures read the item being run from the plugin, not from pytest's
    # ``request``: pytest builds a fixture definition anew for every ``request``.
    @pytest.fixture
    def task(self) -> StudentFunction:
        return StudentFunction(self.session, MANIFEST[_key(self.item)].task)

    @pytest.fixture
    def inputs(self) -> Inputs:
        return Inputs(seeded(self.seed, _key(self.item) or self.item.nodeid))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            text = str(report.longreprtext).strip().splitlines() or ["?"]
            self.broken.append(f"{report.nodeid}: {text[-1][:300]}")

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        keep = [item for item in items if _key(item) in MANIFEST]
        unmarked = [item.nodeid for item in items if _key(item) not in MANIFEST]
        if unmarked:
            self.broken.append(f"checks that no @check declares: {', '.join(unmarked[:3])}")
        # Grouped by task: a task's budget and a replaced child stay together.
        keep.sort(key=lambda item: MANIFEST[_key(item)].task)
        items[:] = keep
        self.items = list(keep)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        for job in self.jobs:
            job(self.run)
        return True

    def run(self, grading: Session, seed: int, selected: set[str]) -> list[dict[str, Any]]:
        """Run the checks of the ``selected`` tasks against one submission's session."""
        if self.broken:
            raise GraderError(f"the checks did not run: {'; '.join(self.broken)[:500]}")
        items = [item for item in self.items if MANIFEST[_key(item)].task in selected]
        self.session, self.seed = grading, seed
        self.ledger.take()
        try:
            for i, item in enumerate(items):
                self.item = item
                item._report_sections = []
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=items[i + 1] if i + 1 < len(items)
                                                         else None)
        finally:
            self.session = self.item = None
            self.decided.clear()
            # pytest's terminal reporter keeps every test report it saw: in a session
            # serving a whole class, that is memory growing with every submission.
            reporter = items[0].config.pluginmanager.get_plugin("terminalreporter") if items else None
            if reporter is not None:
                reporter.stats.clear()
        return self.ledger.take()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        evidence = self.session.begin_check() if self.session is not None else None
        started = time.monotonic()
        outcome = yield
        key = _key(item)
        excinfo = outcome.excinfo
        if excinfo is None:
            no_autograd = evidence.no_autograd if evidence is not None else ""
            result = _Outcome(Outcome.FAILED, no_autograd) if no_autograd else _Outcome(Outcome.PASSED)
        else:
            exc = excinfo[1]
            if isinstance(exc, Fail):
                result = _Outcome(Outcome.FORBIDDEN if exc.code == "forbidden_runtime" else Outcome.FAILED, exc.code,
                                  dict(exc.params))
            elif isinstance(exc, StudentFailed):
                result = outcome_of_failure(exc.result, MANIFEST[key].task if key in MANIFEST else "", exc.hints)
            else:
                # The check's own error may quote the child's text: a value, made safe.
                result = _Outcome(Outcome.GRADER_ERROR, "grader_error",
                                  {"detail": escape(f"{type(exc).__name__}: {escape(exc)}", 300)})
        self.decided[item.nodeid] = (result, time.monotonic() - started, evidence)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
        """The report of a phase that passed, or failed the way checks fail (``Fail``,
        ``StudentFailed``), made without rendering the traceback: the ledger reads
        the plugin's own outcome, and pytest's rendering of a failure cost more than
        most checks. Any other exception (a check's own bug) keeps pytest's report."""
        excinfo = call.excinfo
        if excinfo is None:
            outcome, longrepr = "passed", None
        elif isinstance(excinfo.value, (Fail, StudentFailed)):
            outcome, longrepr = "failed", f"{type(excinfo.value).__name__}: {excinfo.value}"
        else:
            return None
        sections = [(f"Captured {key} {when}", content) for when, key, content in item._report_sections]
        return pytest.TestReport(item.nodeid, item.location, {}, outcome, longrepr, call.when, sections,
                                 call.duration, call.start, call.stop, item.user_properties)

    def pytest_json_runtest_metadata(self, item: pytest.Item, call: pytest.CallInfo) -> dict[str, Any] | None:
        if call.when == "setup":
            return {"check": _key(item)}
        if call.when != "call" or item.nodeid not in self.decided:
            return None
        result, seconds, evidence = self.decided.pop(item.nodeid)
        record = {"check": _key(item), "outcome": result.outcome.value, "code": result.code,
                  "params": _plain(result.params), "seconds": round(seconds, 4)}
        if evidence is not None:
            if evidence.printed.text or evidence.printed.truncated:
                record["printed"] = {"text": evidence.printed.text, "truncated": evidence.printed.truncated}
            if evidence.forbidden:
                record["forbidden"] = [str(api) for api in evidence.forbidden]
        return record


class _Interrupt:
    """Notes a Ctrl-C that pytest caught."""

    seen = False

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.seen = True


def run_session(jobs: Iterable[Job]) -> None:
    """One pytest session running every job; each job grades one submission with
    the ``Run`` it is given and handles its own failures."""
    ledger = Ledger()
    plugin = GradingPlugin(jobs, ledger)
    interrupt = _Interrupt()
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("PYTEST_")}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(ARGS, plugins=[ledger, plugin, interrupt])
    finally:
        os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        os.environ.update(saved)
    if interrupt.seen:  # pytest turned Ctrl-C into its exit status 2: it is the user's, pass it on
        raise KeyboardInterrupt
    if int(code) not in (0, 1, 5):
        lines = sink.getvalue().strip().splitlines() or ["no output"]
        raise GraderError(f"the checks did not run (pytest exit {int(code)}): {lines[-1][:300]}")
