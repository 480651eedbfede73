"""``grade release OUT``: the student repository, built from this one.

It carries the exercise stubs, a student README, the student workflow, and a
grader whose checks are only the visible ones; no solutions, no hidden checks,
no known-wrong submissions, no tests, no compiled files. Hidden checks are
counted (``grader/checks/hidden.json``) so that the student's grader can say
how many exist without carrying them.
"""
from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

from .tasks import MODULES, markdown_table

STUDENT_FILES = ("requirements.txt", "pyproject.toml", "setup.cfg", ".gitignore")
WORKFLOWS = (".github/workflows/grade.yml",)


class ReleaseError(ValueError):
    """The release cannot be built where asked (exit status 2)."""


def hidden_manifest() -> dict:
    """Counts of hidden checks per task, from the instructor's own checks."""
    from .checking import load_manifest

    by_task: dict[str, dict[str, float]] = {}
    for spec in load_manifest().values():
        if spec.visibility == "hidden":
            entry = by_task.setdefault(spec.task, {"checks": 0, "points": 0.0})
            entry["checks"] += 1
            entry["points"] += float(spec.points)
    return {"checks": sum(int(e["checks"]) for e in by_task.values()),
            "points": sum(e["points"] for e in by_task.values()), "by_task": by_task}


def _is_hidden_check(node: ast.AST) -> bool:
    if not isinstance(node, ast.FunctionDef):
        return False
    for deco in node.decorator_list:
        if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "check":
            visibility = next((k.value for k in deco.keywords if k.arg == "visibility"), None)
            return not (isinstance(visibility, ast.Constant) and visibility.value == "visible")
    return False


def strip_hidden(source: str) -> str:
    """The check module without its hidden checks and the helpers only they used."""
    tree = ast.parse(source)
    tree.body = [node for node in tree.body if not _is_hidden_check(node)]
    while True:
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        keep = [node for node in tree.body
                if not (isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not _is_check(node)
                        and node.name not in used)]
        if len(keep) == len(tree.body):
            break
        tree.body = keep
    note = ast.Expr(ast.Constant("Visible checks only: the hidden ones run where the instructor grades."))
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(getattr(tree.body[0], "value", None), ast.Constant):
        tree.body[0] = note
    else:
        tree.body.insert(0, note)
    return ast.unparse(tree) + "\n"


def _is_check(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef) and any(
        isinstance(d, ast.Call) and getattr(d.func, "id", None) == "check" for d in node.decorator_list)


def student_readme(hidden: dict) -> str:
    return f"""# autograd-lab — exercises

Fill in the functions in `exercises/`. Each stub's docstring (English and 简体中文) says
what to compute, the rules (return plain detached tensors with the input's dtype, never
change the arguments) and which APIs are not allowed.

## Quick start

```bash
python3 -m venv .venv && . .venv/bin/activate && pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt -e . && grade run exercises
grade run exercises --lang zh
```

The first command installs the exact tested versions (Python 3.11 or later; the CPU
build of torch, without GBs of CUDA libraries) and grades your work with the visible
checks; the second prints the same feedback in Chinese. If `grade` is not on your
PATH, `python -m grader run exercises` does the same.

On Windows, in PowerShell: `py -3.11 -m venv .venv`, `.venv\\Scripts\\Activate.ps1`, then the
same `pip install ...` and `grade run exercises`. The grader is tested on Linux with
Python 3.11; on Windows and macOS it runs your code in a fresh Python process per
submission (its tests check that this gives the same verdicts; it has not been run on
those systems themselves).

## The tasks

{markdown_table()}
## Grading

`grade run` runs the visible checks here, on fresh random inputs each time (`--seed N`
repeats a run). Your instructor's grader also runs {hidden['checks']} hidden checks
({hidden['points']:g} points): passing every visible check is a good sign, not a
guarantee. `grade run -k ex03` grades one module; `grade run --help` lists the options.

## What the grader runs

Only the eight exercise modules, with torch, numpy and the standard library: a helper
file of your own (`utils.py`) is not loaded, so keep helpers in the module that uses
them, and put your own experiments (plots, timing, extra imports) under
`if __name__ == "__main__":`. Your code runs in a sandbox that cannot write files or
reach the network: print or log to the screen, not to a file (`logging.basicConfig()`
without `filename=`).

评分器只运行八个练习模块（可用 torch、numpy 和标准库）：你自己的辅助文件（如 `utils.py`）
不会被加载，请把辅助函数写在使用它的模块里；自己的实验（画图、计时、额外的导入）请放在
`if __name__ == "__main__":` 之下。代码在沙箱中运行，不能写文件、不能联网：请把输出打印或
记录到屏幕，而不是文件（`logging.basicConfig()` 不要带 `filename=`）。

## How to submit

Commit your changes to `exercises/` and push. The workflow in `.github/workflows/`
grades your submission: the run's summary shows every lost point, and the report is
kept as an artifact for your instructor. If your course uses Gradescope, upload the
files of `exercises/` (or your notebooks) there instead.
"""


STUDENT_NAME = "autograd-lab"


def student_setup_cfg(text: str) -> str:
    """The instructor's setup.cfg under the student package's name, its comment on the
    instructor wheel left out."""
    lines, out = text.splitlines(), []
    for line in lines:
        if line.startswith("name = "):
            while out and out[-1].startswith("#"):
                out.pop()
            line = f"name = {STUDENT_NAME}"
        out.append(line)
    if f"name = {STUDENT_NAME}" not in out:
        raise ReleaseError("setup.cfg: no 'name = ' line to rename")
    return "\n".join(out) + "\n"


def build(repo: Path, out: Path, *, notebooks: bool = False) -> dict:
    """Write the student release of ``repo`` into ``out`` (absent or empty); with
    ``notebooks``, also ``notebooks/<module>.ipynb`` built from the stubs."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out}: exists and is not an empty folder")
    for needed in ("exercises", "grader", "setup.cfg"):
        if not (repo / needed).exists():
            raise ReleaseError(f"{repo}: not the instructor repository (no {needed})")
    out.mkdir(parents=True, exist_ok=True)
    (out / "exercises").mkdir()
    for module in MODULES:
        shutil.copyfile(repo / "exercises" / f"{module}.py", out / "exercises" / f"{module}.py")
    for name in STUDENT_FILES:
        if (repo / name).exists():
            shutil.copyfile(repo / name, out / name)
    (out / "setup.cfg").write_text(student_setup_cfg((repo / "setup.cfg").read_text(encoding="utf-8")),
                                   encoding="utf-8")
    for name in WORKFLOWS:
        if (repo / name).exists():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(repo / name, out / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "check_*.py")
    shutil.copytree(repo / "grader", out / "grader", ignore=ignore)
    for path in sorted((repo / "grader" / "checks").glob("check_*.py")):
        (out / "grader" / "checks" / path.name).write_text(strip_hidden(path.read_text(encoding="utf-8")),
                                                            encoding="utf-8")
    hidden = hidden_manifest()
    (out / "grader" / "checks" / "hidden.json").write_text(json.dumps(hidden, indent=2) + "\n", encoding="utf-8")
    readme = student_readme(hidden)
    if notebooks:
        from .notebook import write_notebooks

        write_notebooks(out / "exercises", out / "notebooks")
        readme += NOTEBOOK_README
    (out / "README.md").write_text(readme, encoding="utf-8")
    return hidden


NOTEBOOK_README = """
## Working in notebooks

`notebooks/` holds one notebook per module (`ex03_vjp.ipynb` …): each task's text in
English and 简体中文, its code cell to fill in, and a check cell:

```python
from grader import notebook
notebook.check("vjp")            # grades this notebook's saved code for one task
notebook.check("vjp", hints=1)   # … and shows the hints your answer earned
notebook.check("vjp", hints=2)   # … and restates the task and its example
```

Open them with the kernel of this folder's `.venv` (it has the grader). Save the notebook
before a check: the grader reads the file, never runs it. `grade run notebooks` grades
every notebook at once; `grade run notebooks/ex03_vjp.ipynb` one module.

What is graded in a code cell: imports, functions, classes and assignments, also
inside an `if` or `try` that holds only those. Other statements (trying a
function out, printing, plotting), `%`/`!` lines and `%%` cells other than `%%time`
and `%%capture` are left out, so experiment freely. Feedback names a line as "cell N, line M", counting every cell
from the top, markdown included. One notebook may also hold several modules' functions
(any name, e.g. `lab.ipynb`): each module whose functions it defines is graded from it.
"""
