"""`grade batch` against a loop of `grade run`, per submission, side by side.

The class is a mix: half reference solutions, a quarter untouched stubs, a
quarter known-wrong submissions (mutants). For each N (default 20, 40, 200, 1000):

- batch: `grade batch` over all N submissions with --jobs = the machine's cores;
  wall time and CPU time (user + system of the whole process tree: workers,
  sandbox servers and children) divided by N, and the peak resident memory of the
  whole process tree: the sum of RSS, sampled every 50 ms (it counts the pages a
  forked child shares with its server once per process), and the sum of PSS, sampled
  every 500 ms (it counts them once);
- loop: `grade run` one submission after another, measured the same way. Each run
  is independent of N, so the loop is timed on the first LOOP (default 10)
  submissions of the same class.

    python benchmarks/batch.py [--sizes 20 40 200 1000] [--loop 10]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.mutants import discover, materialise  # noqa: E402


def make_class(folder: Path, n: int) -> list[Path]:
    mutants = discover(ROOT / "mutants")
    paths = []
    for i in range(n):
        target = folder / f"s{i:04d}"
        if i % 4 in (0, 2):
            shutil.copytree(ROOT / "solutions", target)
        elif i % 4 == 1:
            shutil.copytree(ROOT / "exercises", target)
        else:
            materialise(mutants[(i // 4) % len(mutants)], ROOT / "solutions", target)
        paths.append(target)
    return paths


def _pss(pid: int) -> int:
    """Proportional set size (bytes): shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory(pid: int, pss: bool = True) -> tuple[int, int]:
    """Resident memory (bytes) of pid and all its descendants: the sum of their RSS (a
    page shared by forked processes counts in each) and of their PSS (counted once)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as f:
                rss[int(entry)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    total, proportional, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        proportional += _pss(p) if pss else 0
        todo.extend(children.get(p, []))
    return total, proportional


def tree_cpu() -> float:
    """CPU seconds (user + system) of every finished descendant this process waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_sampled(cmd: list[str]) -> tuple[float, tuple[int, int]]:
    started = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = (0, 0)
    done = threading.Event()

    def sample() -> None:
        # RSS every 50 ms; PSS (smaps_rollup, dearer to read) every 10th sample, so that
        # sampling takes little of the machine the batch runs on.
        nonlocal peak
        i = 0
        while not done.is_set():
            rss, pss = tree_memory(process.pid, pss=i % 10 == 0)
            peak = (max(peak[0], rss), max(peak[1], pss))
            i += 1
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {process.returncode}")
    return time.perf_counter() - started, peak


def _mib(peak: tuple[int, int]) -> str:
    return f"{peak[0] / 2**20:,.0f} MiB RSS / {peak[1] / 2**20:,.0f} MiB PSS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 40, 200, 1000])
    parser.add_argument("--loop", type=int, default=10)
    args = parser.parse_args()
    grade = shutil.which("grade") or str(Path(sys.executable).parent / "grade")
    jobs = os.cpu_count() or 1
    print(f"machine: {jobs} cores, python {sys.version.split()[0]}; class: 1/2 solutions, 1/4 stubs, 1/4 mutants")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        loop_class = make_class(base / "loop", args.loop)
        cpu = tree_cpu()
        started = time.perf_counter()
        loop_peak = (0, 0)
        for i, path in enumerate(loop_class):
            _wall, peak = run_sampled([grade, "run", str(path), "-o", str(base / f"loop-{i}.json"), "--seed", "1"])
            loop_peak = (max(loop_peak[0], peak[0]), max(loop_peak[1], peak[1]))
        loop_each = (time.perf_counter() - started) / args.loop
        loop_cpu = (tree_cpu() - cpu) / args.loop
        print(f"loop of grade run (measured on {args.loop}): {loop_each * 1000:7.0f} ms per submission, "
              f"CPU {loop_cpu * 1000:6.0f} ms per submission, peak memory {_mib(loop_peak)}")
        for n in args.sizes:
            make_class(base / f"class{n}", n)
            cpu = tree_cpu()
            wall, peak = run_sampled([grade, "batch", str(base / f"class{n}"), "-o", str(base / f"out{n}"),
                                      "--seed", "1", "--jobs", str(jobs)])
            each, each_cpu = wall / n, (tree_cpu() - cpu) / n
            print(f"N={n:<5} grade batch --jobs {jobs}: {each * 1000:6.0f} ms per submission "
                  f"({wall:6.1f} s in all), CPU {each_cpu * 1000:5.0f} ms per submission, "
                  f"speed-up {loop_each / each:5.1f}x over the loop, peak memory {_mib(peak)}")
            shutil.rmtree(base / f"class{n}")
            shutil.rmtree(base / f"out{n}")


if __name__ == "__main__":
    main()
