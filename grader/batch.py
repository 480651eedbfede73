"""``grade batch``: grade a whole class, torch imported once per worker.

The parent discovers the submissions, hands them one at a time to ``--jobs``
worker processes, and shows progress. Each worker keeps one sandbox server and
grades submission after submission in-process, writing each report atomically,
so an interrupted batch loses no finished report and ``--resume`` completes it.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .tasks import MODULES

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
MAX_ARCHIVE_BYTES = 20 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 2000
OPTIONS_FILE = "batch.json"  # the seed and options a batch started with, for --resume


class BatchError(ValueError):
    """The batch's input cannot be used at all (exit status 2)."""


@dataclass(frozen=True)
class Item:
    name: str      # unique, safe as a file name
    path: Path     # a folder or an archive


def _safe(name: str) -> str:
    stem = name
    for suffix in ARCHIVE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "submission"


def discover(source: str | Path) -> list[Item]:
    """The submissions in a folder (sub-folders and archives) or in a CSV/text list of paths."""
    root = Path(source)
    if not root.exists():
        raise BatchError(f"{source}: no such file or directory")
    if root.is_dir():
        if any((root / f"{m}.py").is_file() for m in MODULES):
            raise BatchError(f"{source}: this is one submission; give the folder that holds the submissions")
        paths = sorted(p for p in root.iterdir() if not p.name.startswith(".")
                       and (p.is_dir() or p.name.lower().endswith(ARCHIVE_SUFFIXES)))
    else:
        paths = _listed(root)
    items: list[Item] = []
    seen: dict[str, int] = {}
    for path in paths:
        base = _safe(path.name)
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base}-{seen[base]}"
        items.append(Item(name, path))
    if not items:
        raise BatchError(f"{source}: no submissions found (folders or .zip/.tar archives)")
    return items


def _listed(listing: Path) -> list[Path]:
    try:
        text = listing.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"{listing}: cannot be read as a list of paths ({exc})") from None
    rows = csv.reader(text.splitlines()) if listing.suffix.lower() == ".csv" else ([line] for line in text.splitlines())
    paths = []
    for row in rows:
        if not row or not row[0].strip() or row[0].strip().startswith("#"):
            continue
        entry = Path(row[0].strip())
        path = entry if entry.is_absolute() else listing.parent / entry
        if path.exists():
            paths.append(path)
        elif not paths and listing.suffix.lower() == ".csv":
            continue  # a header row
        else:
            paths.append(path)  # graded as "not a submission", never silently dropped
    return paths


def shard(items: list[Item], spec: str | None) -> list[Item]:
    if not spec:
        return items
    match = re.fullmatch(r"(\d+)/(\d+)", spec)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise BatchError(f"--shard {spec}: expected K/N with 1 <= K <= N")
    k, n = int(match.group(1)), int(match.group(2))
    return items[k - 1 :: n]


def digest(path: Path) -> str:
    """What identifies a submission's content: its archive's bytes or its modules' bytes."""
    h = hashlib.sha256()
    try:
        if path.is_file():
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            return h.hexdigest()
        folder = path / "exercises" if not any((path / f"{m}.py").is_file() for m in MODULES) else path
        for module in MODULES:
            file = folder / f"{module}.py"
            h.update(module.encode() + b"\0")
            h.update(hashlib.sha256(file.read_bytes()).digest() if file.is_file() else b"-")
    except OSError:
        h.update(b"unreadable")
    return h.hexdigest()


def extract(archive: Path, into: Path) -> Path:
    """Unpack a student's archive safely (no links, no paths outside, size-capped)."""
    total = 0
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise BatchError("too many files in the archive")
            for info in members:
                target = (into / info.filename).resolve()
                if not str(target).startswith(str(into.resolve())) or info.external_attr >> 28 == 0xA:
                    continue
                total += info.file_size
                if total > MAX_ARCHIVE_BYTES:
                    raise BatchError("the archive unpacks to more than 20 MB")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
    else:
        with tarfile.open(archive) as tf:
            members = [m for m in tf.getmembers() if m.isfile() or m.isdir()]
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise BatchError("too many files in the archive")
            if sum(m.size for m in members) > MAX_ARCHIVE_BYTES:
                raise BatchError("the archive unpacks to more than 20 MB")
            root = into.resolve()
            members = [m for m in members if str((into / m.name).resolve()).startswith(str(root))]
            if hasattr(tarfile, "data_filter"):
                tf.extractall(into, members=members, filter="data")
            else:  # Python before 3.10.12 / 3.11.4: members were checked above
                tf.extractall(into, members=members)
    entries = [p for p in into.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return into


# The worker ---------------------------------------------------------------------


def grade_item(job: dict[str, Any], server: Any) -> dict[str, Any]:
    """Grade one submission (folder or archive) into a report; never raises for bad input."""
    from . import api, report
    from .submission import BadSubmission

    path = Path(job["path"])
    options = dict(seed=job["seed"], patterns=tuple(job.get("patterns", ())), timeout=job["timeout"],
                   memory_mb=job["memory_mb"], lang=job.get("lang", "en"))
    with tempfile.TemporaryDirectory(prefix="autograd-lab-batch-") as tmp:
        try:
            folder = extract(path, Path(tmp)) if path.is_file() else path
            result = api.grade(folder, server=server, **options)
        except (BadSubmission, BatchError, zipfile.BadZipFile, tarfile.TarError, OSError, ValueError) as exc:
            result = report.not_a_submission(str(path), str(exc), **options)
        # The grader failed on this submission: its report still says so, and the
        # batch counts it as a grader failure.
        except Exception as exc:  # noqa: BLE001
            failed = report.grader_failure(str(path), exc, **options)
            failed["submission"]["digest"] = job["digest"]
            report.write(failed, job["out"])
            raise
    result["submission"]["path"] = str(path)
    result["submission"]["digest"] = job["digest"]
    if "isolation" not in result:
        from .sandbox.isolation import not_needed

        result["isolation"] = not_needed()
    if job.get("allow_weak_isolation"):
        result["isolation"] = dict(result["isolation"], weak_isolation_allowed=True)
    report.validate(result)
    report.write(result, job["out"])
    return result


def worker_main() -> None:
    """Read jobs as JSON lines on stdin, answer one JSON line per job on stdout."""
    from .errors import GraderError
    from .sandbox import isolation, spawn

    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but answers on the channel
    with spawn.start(fork=True) as server:
        out.write(json.dumps({"ready": True}) + "\n")
        out.flush()
        for line in sys.stdin:
            job = json.loads(line)
            started = time.monotonic()
            try:
                server.wait_ready()
                if not isolation.is_kernel(server.isolation) and not job.get("allow_weak_isolation"):
                    raise GraderError("the sandbox has no kernel isolation here "
                                      f"({server.isolation.get('why', '?')}); see --allow-weak-isolation")
                result = grade_item(job, server)
                answer = {"name": job["name"], "score": result["score"], "max_score": result["max_score"],
                          "problem": result.get("problem", ""), "seconds": time.monotonic() - started}
            except Exception as exc:  # reported by the parent as a grader failure for this item
                answer = {"name": job["name"], "error": f"{type(exc).__name__}: {exc}"[:500]}
            out.write(json.dumps(answer) + "\n")
            out.flush()
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


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1, start_new_session=True)
        self.job: Item | None = None
        self.started = 0.0
        self.ready = False

    def send(self, item: Item, job: dict[str, Any]) -> None:
        self.job, self.started = item, time.monotonic()
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()


def run(items: list[Item], outdir: Path, *, jobs: int, seed: int, timeout: float, memory_mb: int,
        lang: str = "en", patterns: tuple[str, ...] = (), resume: bool = False,
        progress: Callable[[int, int, Done], None] = lambda done, total, last: None,
        allow_weak_isolation: bool = False) -> list[Done]:
    reports = outdir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    results: list[Done] = []
    todo: list[Item] = []
    for item in items:
        out = reports / f"{item.name}.json"
        if resume and _finished(out, digest(item.path)):
            data = json.loads(out.read_text(encoding="utf-8"))
            results.append(Done(item, data["score"], data["max_score"], data.get("problem", ""), skipped=True))
            progress(len(results), len(items), results[-1])
        else:
            todo.append(item)
    if not todo:
        return results
    per_item_limit = 60.0 + timeout * 20
    workers = [_Worker() for _ in range(max(1, min(jobs, len(todo))))]
    queue = list(todo)
    retried: set[str] = set()
    try:
        while queue or any(w.job for w in workers):
            for w in workers:
                if w.ready and w.job is None and queue:
                    item = queue.pop(0)
                    w.send(item, {"name": item.name, "path": str(item.path), "out": str(reports / f"{item.name}.json"),
                                  "digest": digest(item.path), "seed": seed, "timeout": timeout,
                                  "memory_mb": memory_mb, "lang": lang, "patterns": list(patterns),
                                  "allow_weak_isolation": allow_weak_isolation})
            streams = {w.process.stdout: w for w in workers if w.process.stdout}
            ready, _, _ = select.select(list(streams), [], [], 0.5)
            for stream in ready:
                w = streams[stream]
                line = stream.readline()
                if not line:
                    if _replace(workers, w, queue, retried, results, "the grading worker died"):
                        progress(len(results), len(items), results[-1])
                    continue
                answer = json.loads(line)
                if answer.get("ready"):
                    w.ready = True
                    continue
                item, w.job = w.job, None
                done = Done(item, answer.get("score", 0.0), answer.get("max_score", 0.0), answer.get("problem", ""),
                            answer.get("error", ""), seconds=answer.get("seconds", 0.0))
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
            if w.process.stdin:
                try:
                    w.process.stdin.close()
                except OSError:
                    pass
        deadline = time.monotonic() + 10
        for w in workers:
            try:
                w.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
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


def _finished(out: Path, current: str) -> bool:
    try:
        data = json.loads(out.read_text(encoding="utf-8"))
        return data.get("submission", {}).get("digest") == current and "score" in data
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    worker_main()
