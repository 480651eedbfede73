"""Wall time of `grade run solutions` against `python -c "import torch"`, side by side.

The commands run as fresh processes, alternately, N times each (default 5); the
medians and their ratio are printed. The floor of any grading run is importing
torch, so the ratio is the grader's overhead over that floor. A third command
imports torch and what torch.autograd.functional imports on its first call with
explicit grad_outputs (sympy, through torch.fx.experimental.symbolic_shapes). The
grading process, the sandbox server and its children answer those calls with a
stand-in (grader/shapes.py), which loads the real module only when something else
is asked of it: that command shows what the stand-in saves.

    python benchmarks/run.py [--runs N]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    grade = shutil.which("grade") or str(Path(sys.executable).parent / "grade")
    out = Path(tempfile.mkdtemp()) / "bench.json"
    commands = {
        "import torch": [sys.executable, "-c", "import torch"],
        # What the first torch.autograd.functional call with explicit grad_outputs
        # imports (torch.fx.experimental.symbolic_shapes, with sympy): what the
        # stand-in for it saves every grade run.
        "+ symbolic_shapes": [sys.executable, "-c", "import torch, torch.fx.experimental.symbolic_shapes"],
        "grade run solutions": [grade, "run", str(ROOT / "solutions"), "-o", str(out), "--seed", "1"],
        # The quick start's run: the untouched stubs.
        "grade run exercises": [grade, "run", str(ROOT / "exercises"), "-o", str(out), "--seed", "1"],
    }
    for cmd in commands.values():  # warm the file cache once
        timed(cmd)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"machine: {sys.platform}, python {sys.version.split()[0]}, median of {args.runs} runs each")
    for name, value in medians.items():
        spread = f"{min(samples[name]):.2f}-{max(samples[name]):.2f}"
        print(f"  {name:<22} {value:6.2f} s   (range {spread} s)")
    ratio = medians["grade run solutions"] / medians["import torch"]
    stubs = medians["grade run exercises"] / medians["import torch"]
    floor = medians["+ symbolic_shapes"] / medians["import torch"]
    print(f"ratio grade/import: {ratio:.2f}x   (target <= 1.3x)")
    print(f"ratio grade (the stubs)/import: {stubs:.2f}x")
    print(f"ratio (import torch + symbolic_shapes)/import: {floor:.2f}x   "
          "(what torch loads for its first explicit grad_outputs; the grader's stand-in puts it off)")


if __name__ == "__main__":
    main()
