"""The static side's cost: reading a submission and every task's static verdict.

Per submission this is what `grade run` and every batch worker pay before any
check runs: `submission.read` (read, hash, parse, scan) then `static_verdict`
for each of the 24 tasks and `warm_up_for`. Three submissions: the solutions,
the stubs, and a large honest one (the solutions with --helpers extra helper
functions in each module, half of them reached from module level, so every
task's scan reads them).

Timed in fresh processes, one per checkout and round, alternately (--rounds), so
that a BASELINE checkout (e.g. `git archive main | tar -x -C /tmp/base`) and this
one share the machine's noise; wall and CPU time (the work is one thread, so CPU
time is the steadier figure on a busy machine). torch and numpy are imported
before timing: the scan may look modules up, and every grading process has them
loaded anyway.

    python benchmarks/scan.py [--baseline /tmp/base] [--rounds 5] [--repeat 10] [--helpers 60]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HELPER = '''
def _helper_{i}(x, scale=1.0):
    """An ordinary helper: small tensor arithmetic, a loop, a guard."""
    total = torch.zeros_like(x)
    for k in range(3):
        total = total + torch.sin(x * k) * scale
    if total.numel() > 1:
        total = total / total.numel()
    return {call}
'''


def large_submission(folder: Path, helpers: int) -> Path:
    """The solutions with ``helpers`` extra functions per module; the first half is a
    chain that a module-level table reaches, the rest is never called."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted((ROOT / "solutions").glob("ex*.py")):
        text = source.read_text(encoding="utf-8")
        parts = [text, "\nimport torch\n"]
        reached = helpers // 2
        for i in range(helpers):
            call = f"_helper_{i + 1}(total)" if i + 1 < reached else "total"
            parts.append(HELPER.format(i=i, call=call))
        parts.append("\nHELPERS = {'first': _helper_0}\n" if reached else "")
        (folder / source.name).write_text("".join(parts), encoding="utf-8")
    return folder


def worker(tree: str, folders: dict[str, str], repeat: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU milliseconds per submission for each folder, with the
    grader of ``tree``."""
    sys.path.insert(0, tree)
    import numpy  # noqa: F401  (see the module docstring)
    import torch  # noqa: F401

    from grader import submission
    from grader.tasks import TASKS

    # A checkout from before grader/static.py had these in api (asked by file: the
    # editable install would supply a static.py from another checkout).
    if (Path(tree) / "grader" / "static.py").is_file():
        from grader import static
    else:
        from grader import api as static  # type: ignore[no-redef]
    assert Path(static.__file__).resolve().is_relative_to(Path(tree).resolve()), static.__file__

    def once(folder: str) -> None:
        sub = submission.read(folder)
        for task in TASKS:
            static.static_verdict(sub, task)
        static.warm_up_for(sub)

    result: dict[str, tuple[float, float]] = {}
    for name, folder in folders.items():
        once(folder)  # modules the scan looks up are imported once per process
        wall, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            once(folder)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        result[name] = (statistics.median(wall), statistics.median(cpu))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="another checkout to time side by side")
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per checkout")
    parser.add_argument("--repeat", type=int, default=10, help="timed submissions per process")
    parser.add_argument("--helpers", type=int, default=60, help="extra functions per module")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        json.dump(worker(args.worker, json.loads(sys.stdin.read()), args.repeat), sys.stdout)
        return
    scratch = Path(tempfile.mkdtemp(prefix="agl-bench-scan-"))
    try:
        folders = {"solutions": str(ROOT / "solutions"), "stubs": str(ROOT / "exercises"),
                   f"large (+{args.helpers} helpers/module)": str(large_submission(scratch / "large", args.helpers))}
        trees = {"this": str(ROOT)} | ({"baseline": str(Path(args.baseline).resolve())} if args.baseline else {})
        samples: dict[str, dict[str, list[tuple[float, float]]]] = {t: {f: [] for f in folders} for t in trees}
        for _ in range(args.rounds):
            for label, tree in trees.items():
                out = subprocess.run([sys.executable, __file__, "--worker", tree, "--repeat", str(args.repeat)],
                                     input=json.dumps(folders), capture_output=True, text=True, check=True).stdout
                for name, times in json.loads(out).items():
                    samples[label][name].append(tuple(times))
        lines = sum(len(m.read_text(encoding="utf-8").splitlines()) for m in (ROOT / "solutions").glob("ex*.py"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"read + 24 static verdicts, ms per submission, median of {args.rounds} processes x {args.repeat} "
          f"(the solutions: {lines} lines)")
    print(f"  {'submission':<28}" + "".join(f"{label + ' ' + kind:>16}" for label in trees for kind in ("wall", "cpu"))
          + ("   speed-up wall, cpu" if args.baseline else ""))
    for name in folders:
        medians = {label: [statistics.median(s[k] for s in samples[label][name]) for k in (0, 1)] for label in trees}
        row = f"  {name:<28}" + "".join(f"{value:16.1f}" for label in trees for value in medians[label])
        if args.baseline:
            row += "".join(f"{medians['baseline'][k] / medians['this'][k]:10.1f}x" for k in (0, 1))
        print(row)


if __name__ == "__main__":
    main()
