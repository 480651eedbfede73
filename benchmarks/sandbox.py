"""What a sandbox child costs: server start, opening a child, and one call's round trip.

Side by side in one run, each measurement in a fresh process, alternating between a
BASELINE tree (a git ref of this repository, extracted with ``git archive``, or a
checkout) and this checkout, so both see the same machine load:

- ``grade run solutions``: wall time, and CPU time of the whole process tree;
- server start: ``spawn.start(fork=True)`` in the parent right after ``preload.load``
  (on ``grade run``'s critical path), and how long until the server is ready;
- open: ``server.open`` plus a first call that returns at once (a child ready to
  serve), and closing it (kill and reap);
- calls: the 238 calls ``grade run solutions`` makes, replayed into one child
  (recorded through ``client.Child.call``), and as many trivial calls;
- where one call's time goes (this checkout and the baseline, in-process, no
  sandbox): the parent's encode, the child's decode, the call itself (recorder,
  argument evidence, student code), the child's encode, the parent's decode and
  checks. What the round trip costs beyond their sum is sockets and scheduling.

    python benchmarks/sandbox.py [--baseline main] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run in a fresh interpreter with the measured tree first on sys.path; prints one JSON line.
PROBE = r'''
import sys
sys.path.insert(0, {tree!r})
import json, os, socket, statistics, time
t0 = time.perf_counter()
try:  # what grade run and a batch worker load before they start the server
    from grader.preload import load
except ImportError:  # an older tree
    import torch
else:
    load()
torch_s = time.perf_counter() - t0
from grader.sandbox import spawn, client, wire
from grader.sandbox import child as child_mod
started = time.perf_counter()
server = spawn.start(fork=True)
start_ms = 1000 * (time.perf_counter() - started)
server.wait_ready()
ready_ms = 1000 * (time.perf_counter() - started)
from grader import api
from grader.tasks import BY_ID
calls = []
original = client.Child.call
def recording(self, module, function, *args, seconds=None):
    calls.append((module, function, args))
    return original(self, module, function, *args, seconds=seconds)
client.Child.call = recording
report = api.grade({solutions!r}, server=server, seed=1)
client.Child.call = original
assert report["score"] == report["max_score"], report["score"]
sources = {{m: open(os.path.join({solutions!r}, m + ".py")).read() for m in {{c[0] for c in calls}}}}
record = sorted(t.id for t in BY_ID.values() if t.forbidden_runtime)
config = {{"sources": sources, "record": record}}
limits = client.Limits(timeout=60)
opens, closes, replays, trivials = [], [], [], []
for _ in range({children}):
    t = time.perf_counter()
    child = server.open(config, limits)
    assert child.call("m", "f").kind == "missing"
    opens.append(1000 * (time.perf_counter() - t))
    t = time.perf_counter()
    child.close()
    closes.append(1000 * (time.perf_counter() - t))
def oncpu(pid):  # nanoseconds the process has run (steadier than wall time on a shared machine)
    with open(f"/proc/{{pid}}/schedstat") as f:
        return int(f.read().split()[0])
parent_cpu, child_cpu = [], []
for _ in range(3):
    child = server.open(config, limits)
    child.call("m", "f")
    t, p, c = time.perf_counter(), time.process_time(), oncpu(child.pid)
    for module, function, args in calls:
        assert child.call(module, function, *args).kind == "returned"
    replays.append(time.perf_counter() - t)
    parent_cpu.append(time.process_time() - p)
    child_cpu.append((oncpu(child.pid) - c) / 1e9)
    t = time.perf_counter()
    for _ in calls:
        child.call("m", "f")
    trivials.append(time.perf_counter() - t)
    child.close()
server.close()

# In-process, no sandbox: each stage of a call on its own.
ours, theirs = socket.socketpair()
inproc = child_mod._Child(ours, config)
inproc.load()
requests = [{{"module": m, "function": f, "args": list(a)}} for m, f, a in calls]
decoded = [wire.decode(wire.encode(q)) for q in requests]
replies = [inproc.call(q) for q in decoded]
encoded_q = [wire.encode(q) for q in requests]
encoded_r = [wire.encode(r) for r in replies]
def best(fn):
    times = []
    for _ in range(5):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return 1e6 * min(times) / len(calls)
stages = {{
    "parent encode": best(lambda: [wire.encode(q) for q in requests]),
    "child decode": best(lambda: [wire.decode(b) for b in encoded_q]),
    "child call": best(lambda: [inproc.call(q) for q in decoded]),
    "child encode": best(lambda: [wire.encode(r) for r in replies]),
    "parent decode + checks": best(lambda: [client._result_from_reply(wire.decode(b, max_bytes=client.MAX_REPLY_BYTES))
                                            for b in encoded_r]),
}}
print(json.dumps({{"torch_s": torch_s, "start_ms": start_ms, "ready_ms": ready_ms, "calls": len(calls),
                  "open_ms": statistics.median(opens), "close_ms": statistics.median(closes),
                  "replay_s": min(replays), "replay_parent_cpu_s": min(parent_cpu),
                  "replay_child_cpu_s": min(child_cpu), "trivial_s": min(trivials), "stages_us": stages}}))
os._exit(0)
'''


def baseline_tree(ref: str, into: Path) -> Path:
    """A checkout path as given, or the ref's ``grader`` package extracted from git."""
    if Path(ref).is_dir():
        return Path(ref).resolve()
    archive = subprocess.run(["git", "archive", "--format=tar", ref, "grader"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    into.mkdir()
    archive_file = into / "tree.tar"
    archive_file.write_bytes(archive)
    with tarfile.open(archive_file) as tar:
        tar.extractall(into, filter="data")
    return into


def grade_run(tree: Path, out: Path) -> dict:
    """``grade run solutions`` with this tree's grader: wall and CPU seconds of the process tree."""
    code = f"import sys; sys.path.insert(0, {str(tree)!r}); from grader.cli import entry; entry()"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "run", str(ROOT / "solutions"), "-o", str(out), "--seed", "1"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"run_wall_s": wall, "run_cpu_s": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime}


def probe(tree: Path, children: int) -> dict:
    code = PROBE.format(tree=str(tree), solutions=str(ROOT / "solutions"), children=children)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"probe failed in {tree}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="main", help="a git ref or a checkout (default: main)")
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per tree, run alternately")
    parser.add_argument("--children", type=int, default=20, help="children opened per process for open()")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="agl-bench-sandbox-") as tmp:
        trees = {"before": baseline_tree(args.baseline, Path(tmp) / "baseline"), "after": ROOT}
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                runs[name].append(probe(tree, args.children) | grade_run(tree, Path(tmp) / f"{name}.json"))

    def med(name: str, key: str, scale: float = 1.0) -> float:
        return statistics.median(r[key] for r in runs[name]) * scale

    calls = runs["after"][0]["calls"]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, uid {os.getuid()}; before = {args.baseline}, "
          f"after = this checkout; medians of {args.rounds} fresh processes each, run alternately")
    rows = [
        ("grade run solutions, wall (s)", "run_wall_s", 1.0, False),
        ("grade run solutions, CPU of all processes (s)", "run_cpu_s", 1.0, False),
        ("server start in the parent (ms)", "start_ms", 1.0, False),
        ("server ready after start (ms)", "ready_ms", 1.0, False),
        ("open + first call (ms)", "open_ms", 1.0, False),
        ("close: kill and reap (ms)", "close_ms", 1.0, False),
        (f"{calls} calls of grade run solutions (ms)", "replay_s", 1000.0, False),
        ("  CPU of the parent for them (ms)", "replay_parent_cpu_s", 1000.0, False),
        ("  CPU of the child for them (ms)", "replay_child_cpu_s", 1000.0, False),
    ]
    for label, key, scale, _ in rows:
        before, after = med("before", key, scale), med("after", key, scale)
        print(f"  {label:<46} before {before:8.2f}   after {after:8.2f}   change {100 * (after / before - 1):+6.1f} %")
    for name in ("before", "after"):
        real = calls / med(name, "replay_s")
        trivial = calls / med(name, "trivial_s")
        print(f"  calls per second, {name:<6}  grade run's calls {real:7.0f}   trivial calls {trivial:7.0f}")
    print("  one call, in-process stages (µs per call, best of 5):")
    for stage in runs["after"][0]["stages_us"]:
        before = statistics.median(r["stages_us"][stage] for r in runs["before"])
        after = statistics.median(r["stages_us"][stage] for r in runs["after"])
        print(f"    {stage:<26} before {before:8.1f}   after {after:8.1f}")
    for name in ("before", "after"):
        per_call = 1e6 * med(name, "replay_s") / calls
        staged = sum(statistics.median(r["stages_us"][s] for r in runs[name]) for s in runs[name][0]["stages_us"])
        print(f"    {name}: round trip {per_call:6.1f} µs per call, of which sockets and scheduling "
              f"{per_call - staged:6.1f} µs")


if __name__ == "__main__":
    main()
