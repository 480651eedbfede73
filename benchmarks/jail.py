"""The jail's cost: per-child setup, and `grade run` / `grade batch` against a baseline.

1. Setup per child: a helper process prepares the jail as a sandbox server does
   (namespaces, read-only root, Landlock ruleset), then forks N children that
   each apply it (chroot, uid, no_new_privs, Landlock, seccomp) and time that.
2. Side by side, alternately, with this checkout and a BASELINE checkout (e.g.
   `git worktree add /tmp/base main`), each run as a fresh process: `grade run
   solutions` (median of --runs) and `grade batch` over a class of --class
   submissions (half solutions, a quarter stubs, a quarter mutants; 2 workers).

    python benchmarks/jail.py --baseline /tmp/base [--runs 5] [--class 20] [--children 200]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The grader of a given checkout, whatever is installed in the environment.
GRADE = "import sys; sys.path.insert(0, {root!r}); from grader.cli import entry; entry()"


def setup_cost(children: int) -> list[float]:
    """Milliseconds each child spends applying the jail."""
    read, write = os.pipe()
    jail_dir = tempfile.mkdtemp(prefix="agl-bench-jail-")
    helper = os.fork()
    if helper == 0:
        os.close(read)
        try:
            from grader.sandbox import jail

            backend = jail.choose(jail_dir)
            backend.prepare()
            for _ in range(children):
                r, w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    started = time.perf_counter()
                    backend.apply()
                    os.write(w, f"{(time.perf_counter() - started) * 1000:.4f}\n".encode())
                    os._exit(0)
                os.close(w)
                os.write(write, os.read(r, 64))
                os.close(r)
                os.waitpid(pid, 0)
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.waitpid(helper, 0)
    os.rmdir(jail_dir)  # mounted over only inside the helper's own namespace
    return [float(x) for x in data.split()]


CPU: dict[str, list[float]] = {}


def timed(cmd: list[str], cwd: Path, label: str = "") -> float:
    """Wall seconds; the CPU seconds of the whole process tree go to CPU[label]
    (steadier than wall time on a shared machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if label:
        CPU.setdefault(label, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def make_class(checkout: Path, folder: Path, n: int) -> None:
    sys.path.insert(0, str(checkout))
    from benchmarks.batch import make_class as build

    build(folder, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the grader to compare with")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--class", dest="size", type=int, default=20)
    parser.add_argument("--children", type=int, default=200)
    args = parser.parse_args()

    costs = setup_cost(args.children)
    print(f"jail setup per child: median {statistics.median(costs):.3f} ms, max {max(costs):.3f} ms "
          f"({len(costs)} children, uid {os.getuid()})")

    trees = {"baseline": args.baseline.resolve(), "this": ROOT}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        make_class(ROOT, base / "class", args.size)
        runs: dict[str, list[float]] = {name: [] for name in trees}
        batches: dict[str, list[float]] = {name: [] for name in trees}
        for name, tree in trees.items():  # warm the file cache
            timed([sys.executable, "-c", GRADE.format(root=str(tree)), "run", str(tree / "solutions"),
                   "-o", str(base / "warm.json"), "--seed", "1"], tree)
        for i in range(args.runs):
            for name, tree in trees.items():
                runs[name].append(timed([sys.executable, "-c", GRADE.format(root=str(tree)), "run",
                                         str(tree / "solutions"), "-o", str(base / f"{name}.json"), "--seed", "1"],
                                        tree, f"run-{name}"))
        for i in range(max(1, args.runs // 2)):
            for name, tree in trees.items():
                out = base / f"out-{name}-{i}"
                batches[name].append(timed([sys.executable, "-c", GRADE.format(root=str(tree)), "batch",
                                            str(base / "class"), "-o", str(out), "--seed", "1", "--jobs", "2"],
                                           tree, f"batch-{name}") / args.size)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians")
    for label, samples in (("grade run solutions (s)", runs), (f"grade batch, s per submission (N={args.size})", batches)):
        before, after = statistics.median(samples["baseline"]), statistics.median(samples["this"])
        print(f"  {label:<40} before {before:6.3f}   after {after:6.3f}   change {100 * (after / before - 1):+5.1f} %")
    for kind in ("run", "batch"):
        before, after = statistics.median(CPU[f"{kind}-baseline"]), statistics.median(CPU[f"{kind}-this"])
        print(f"  CPU seconds of grade {kind:<26} before {before:6.2f}   after {after:6.2f}   "
              f"change {100 * (after / before - 1):+5.1f} %")


if __name__ == "__main__":
    main()
