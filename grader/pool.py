"""The worker pool of ``grade batch``: torch imported and the checks collected once per worker.

The parent hands submissions one at a time to ``--jobs`` worker processes and
shows progress. Each worker keeps one sandbox server and one pytest session, and
grades submission after submission in it (each in its own jailed children),
writing each report atomically, so an interrupted batch loses no finished report
and ``--resume`` completes it.

Parent and worker speak the sandbox's framing (``sandbox.channel``: length-prefixed
JSON) over a socket pair: the parent sends a job, the worker answers it.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .fileio import shown
from .intake import BatchError, Item, digest, unpack, warm_up_for
from .options import Options
from .sandbox import channel

MAX_MESSAGE = 1 << 20
READY = {"ready": True}
WARM_UPS = {"func"}  # the optional parts a sandbox server can load (``sandbox.server._warm``)
# -P: the working directory (often the folder of submissions) is not put on the import
# path, so no submission's module can stand in for one the worker imports.
WORKER = [sys.executable, "-P", "-m", "grader.pool"]  # + the socket's descriptor


def supported() -> bool:
    """Whether workers can be started here: they take their socket by descriptor passing."""
    return os.name == "posix"


# The worker ---------------------------------------------------------------------


def _job_options(job: dict[str, Any]) -> Options:
    return Options.from_json(job.get("options", {}))


def _answer_for(job: dict[str, Any], result: dict[str, Any], started: float) -> dict[str, Any]:
    """What the parent learns of a written (and checked) report: its score, and what the
    gradebook reads of it, so the parent need not read and check the file again."""
    from . import collect

    return {"name": job["name"], "score": result["score"], "max_score": result["max_score"],
            "problem": result.get("problem", ""), "seconds": time.monotonic() - started,
            "kept": collect.kept(result), "files_digest": collect.submission_digest(result)}


def _failed(job: dict[str, Any], options: Options, exc: Exception) -> dict[str, Any]:
    """The grader failed on this submission: its report still says so, and the batch
    counts it as a grader failure."""
    from . import report

    failed = report.grader_failure(str(job["path"]), exc, options)
    failed["submission"]["digest"] = job["digest"]
    report.write(failed, job["out"])
    return {"name": job["name"], "error": f"{type(exc).__name__}: {exc}"[:500]}


def _finish(job: dict[str, Any], options: Options, result: dict[str, Any] | None, exc: Exception | None,
            started: float) -> dict[str, Any]:
    """Write the job's report, whatever happened to its grading; the answer for the parent."""
    from . import report
    from .submission import BadSubmission

    path = Path(job["path"])
    if exc is not None:
        if not isinstance(exc, (BadSubmission, BatchError, zipfile.BadZipFile, tarfile.TarError, OSError, ValueError)):
            return _failed(job, options, exc)
        result = report.not_a_submission(str(path), str(exc), options)
    assert result is not None
    result["submission"]["path"] = shown(str(path))
    result["submission"]["digest"] = job["digest"]
    if options.allow_weak_isolation:
        result["isolation"] = dict(result["isolation"], weak_isolation_allowed=True)
    try:
        report.validate(result)
    except Exception as invalid:  # noqa: BLE001 - the grader's own bug: a failure report instead
        return _failed(job, options, RuntimeError(f"invalid report: {invalid}"))
    report.write(result, job["out"])
    return _answer_for(job, result, started)


def grade_jobs(jobs: Iterable[dict[str, Any]], server: Any, answer: Callable[[dict[str, Any]], None]) -> None:
    """Grade every job in one pytest session with ``server``; ``answer`` gets each job's answer.

    A job: name, path (a folder or an archive), out (its report's path), digest, options.
    """
    from . import api
    from .errors import GraderError
    from .sandbox import isolation

    def each() -> Iterator[tuple[Path, Options, Callable[..., None]]]:
        for job in jobs:
            started = time.monotonic()
            try:
                options = _job_options(job)
            except (ValueError, TypeError) as exc:
                answer({"name": job.get("name", "?"), "error": f"bad job: {exc}"[:500]})
                continue
            path = Path(job["path"])
            with tempfile.TemporaryDirectory(prefix="autograd-lab-batch-") as tmp:
                try:
                    folder = unpack(path, Path(tmp))
                    server.wait_ready()
                    # What the whole batch needs, loaded before the first submission (once).
                    extras = tuple(e for e in job.get("warm", ()) if e in WARM_UPS) \
                        if type(job.get("warm")) is list else ()
                    if extras:
                        server.warm(extras)
                    if not isolation.is_kernel(server.isolation) and not options.allow_weak_isolation:
                        raise GraderError("the sandbox has no kernel isolation here "
                                          f"({server.isolation.get('why', '?')}); see --allow-weak-isolation")
                except Exception as exc:  # noqa: BLE001 - reported in this job's report
                    answer(_finish(job, options, None, exc, started))
                    continue

                def done(result: dict[str, Any] | None, exc: Exception | None, job=job, options=options,
                         started=started) -> None:
                    answer(_finish(job, options, result, exc, started))

                yield folder, options, done

    api.grade_each(each(), server)


def worker_main(fd: int) -> None:
    """Serve jobs arriving on the socket ``fd`` until the parent closes it."""
    from .preload import load
    from .sandbox import spawn

    sock = socket.socket(fileno=fd)
    sys.stdout = sys.stderr  # nothing but answers on the channel, and never on stdout

    def incoming() -> Iterator[dict[str, Any]]:
        while True:
            try:
                yield json.loads(channel.recv(sock, max_bytes=MAX_MESSAGE))
            except channel.ChannelClosed:
                return

    def answer(message: dict[str, Any]) -> None:
        channel.send(sock, json.dumps(message).encode())

    load(serving=True)
    with spawn.start(fork=True) as server:
        answer(READY)
        grade_jobs(incoming(), server, answer)
    os._exit(0)


# The parent ---------------------------------------------------------------------


@dataclass
class Done:
    item: Item
    score: float = 0.0
    max_score: float = 0.0
    problem: str = ""
    error: str = ""
    skipped: bool = False
    seconds: float = 0.0
    report: Path | None = None  # the report this batch wrote
    kept: dict[str, Any] | None = None  # what the gradebook reads of it
    files_digest: str = ""
    stamp: tuple[int, int, int] | None = None  # the report file as it was when ``kept`` was read


class _Worker:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.process = subprocess.Popen(
            [*WORKER, str(theirs.fileno())], pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self.sock = ours
        self.job: Item | None = None
        self.started = 0.0
        self.ready = False

    def send(self, item: Item, job: dict[str, Any]) -> None:
        self.job, self.started = item, time.monotonic()
        channel.send(self.sock, json.dumps(job).encode())

    def receive(self) -> dict[str, Any] | None:
        """The worker's next message, or None if it is gone."""
        try:
            return json.loads(channel.recv(self.sock, deadline=time.monotonic() + 5, max_bytes=MAX_MESSAGE))
        except (channel.ChannelClosed, channel.ChannelTimeout, channel.MessageTooLarge, OSError, ValueError):
            return None

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        self.sock.close()


def run(items: list[Item], outdir: Path, options: Options, *, jobs: int, resume: bool = False,
        progress: Callable[[int, int, Done], None] = lambda done, total, last: None) -> list[Done]:
    reports = outdir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    results: list[Done] = []
    todo: list[Item] = []
    for item in items:
        out = reports / f"{item.name}.json"
        data = _finished(out, item, digest(item.path), options) if resume else None
        if data is not None:
            from . import collect

            results.append(Done(item, data["score"], data["max_score"], data.get("problem", ""), skipped=True,
                                report=out, kept=collect.kept(data), files_digest=collect.submission_digest(data),
                                stamp=stamp(out)))
            progress(len(results), len(items), results[-1])
        else:
            todo.append(item)
    if not todo:
        return results
    per_item_limit = 60.0 + options.timeout * 20
    workers = [_Worker() for _ in range(max(1, min(jobs, len(todo))))]
    warm = list(warm_up_for(todo))  # read while the workers import torch
    queue = list(todo)
    retried: set[str] = set()
    wire = options.to_json()
    # Workers that died before they could take a job: past this many, none will
    # start (a broken install), and every submission left is a grader failure.
    start_failures, most = 0, 3 * len(workers)
    try:
        while queue or any(w.job for w in workers):
            for w in workers:
                if w.ready and w.job is None and queue:
                    item = queue.pop(0)
                    w.send(item, {"name": item.name, "path": str(item.path), "out": str(reports / f"{item.name}.json"),
                                  "digest": digest(item.path), "options": wire, "warm": warm})
            streams = {w.sock: w for w in workers}
            ready, _, _ = select.select(list(streams), [], [], 0.5)
            for stream in ready:
                w = streams[stream]
                answer = w.receive()
                if answer is None:
                    start_failures += not w.ready
                    if start_failures > most:
                        for item in queue + [x.job for x in workers if x.job is not None]:
                            results.append(Done(item, error="the grading worker could not start"))
                            progress(len(results), len(items), results[-1])
                        queue.clear()
                        for x in workers:
                            x.job = None
                        break
                    if _replace(workers, w, queue, retried, results, "the grading worker died"):
                        progress(len(results), len(items), results[-1])
                    continue
                if answer.get("ready"):
                    w.ready = True
                    continue
                item, w.job = w.job, None
                if item is None:
                    continue
                done = Done(item, answer.get("score", 0.0), answer.get("max_score", 0.0), answer.get("problem", ""),
                            answer.get("error", ""), seconds=answer.get("seconds", 0.0),
                            report=reports / f"{item.name}.json", kept=answer.get("kept"),
                            files_digest=str(answer.get("files_digest", "")),
                            stamp=stamp(reports / f"{item.name}.json"))
                results.append(done)
                progress(len(results), len(items), done)
            for w in list(workers):
                if w.job is not None and time.monotonic() - w.started > per_item_limit:
                    if _replace(workers, w, queue, retried, results, f"grading took over {per_item_limit:.0f} s"):
                        progress(len(results), len(items), results[-1])
    except KeyboardInterrupt:
        # Interrupted: stop at once; every finished report is already in place.
        for w in workers:
            w.kill()
        raise
    finally:
        for w in workers:
            try:
                w.sock.shutdown(socket.SHUT_WR)  # no more jobs: the worker finishes and leaves
            except OSError:
                pass
        deadline = time.monotonic() + 10
        for w in workers:
            try:
                w.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            w.kill()
    return results


def _replace(workers: list[_Worker], w: _Worker, queue: list[Item], retried: set[str], results: list[Done],
             why: str) -> bool:
    """Kill a stuck or dead worker, start another, retry its item once; True if the item failed for good."""
    item = w.job
    w.kill()
    workers[workers.index(w)] = _Worker()
    if item is None:
        return False
    if item.name not in retried:
        retried.add(item.name)
        queue.insert(0, item)
        return False
    results.append(Done(item, error=why))
    return True


def _finished(out: Path, item: Item, current: str, options: Options) -> dict[str, Any] | None:
    """The report at ``out`` if ``--resume`` may keep it, else None (the submission is graded).

    Kept only if it is a valid report made by this grader with this batch's options
    (seed, tasks, limits, language) for this submission (its path, and files unchanged)
    and the grader did not fail on it: a report of an earlier batch with other options,
    or of another submission that had this name, is never taken for this one's.
    """
    from . import collect
    from .report import made_with

    try:
        data = collect.load_report(out)
    except collect.ReportError:
        return None
    submission = data["submission"]
    wanted = made_with(options)
    if (submission.get("path") != shown(str(item.path)) or submission.get("digest") != current
            or any(data.get(key) != value for key, value in wanted.items())
            or data.get("grader_errors")
            or any(c["outcome"] == "grader_error" for t in data["tasks"] for c in t["checks"])):
        return None
    return data


def stamp(path: Path) -> tuple[int, int, int] | None:
    """What identifies one version of a file on disk (inode, size, modification time), or None."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


if __name__ == "__main__":
    worker_main(int(sys.argv[1]))
