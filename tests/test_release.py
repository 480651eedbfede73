"""The student release: visible checks only, no solution, and it works on its own."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import release
from grader.checking import load_manifest
from grader.tasks import MODULES, TASKS

from .conftest import ROOT, SOLUTIONS

# Stubs that ship working code: their bodies may equal the reference's.
FIX_THE_BUG = {t.name for t in TASKS if t.fix_the_bug or t.given}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "student"
    hidden = release.build(ROOT, out)
    return out, hidden


def _solution_functions() -> list[str]:
    found = []
    for module in MODULES:
        tree = ast.parse((SOLUTIONS / f"{module}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name not in FIX_THE_BUG and node.name != "f":
                found.append(ast.unparse(ast.Module(body=node.body, type_ignores=[])))
    return found


def _hidden_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for path in (ROOT / "grader" / "checks").glob("check_*.py"):
        tree = ast.parse(path.read_text())
        names[path.name] = {n.name for n in tree.body if release._is_hidden_check(n)}
    return names


def _texts(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8", errors="replace")
            for p in root.rglob("*") if p.is_file()}


def _assert_clean(files: dict[str, str]) -> None:
    assert not [n for n in files if n.endswith((".pyc", ".pyo"))]
    assert not [n for n in files if n.split("/")[0] in ("solutions", "mutants", "tests")]
    hidden = _hidden_names()
    for name, text in files.items():
        base = Path(name).name
        for fn in hidden.get(base, ()):
            assert f"def {fn}(" not in text, (name, fn)
        bodies = []
        if name.endswith(".py"):
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            bodies = [ast.unparse(ast.Module(body=n.body, type_ignores=[])) for n in ast.walk(tree)
                      if isinstance(n, ast.FunctionDef)]
        for solution in _solution_functions():
            assert solution not in bodies, name


def test_the_release_has_no_solution_and_no_hidden_check(built):
    out, hidden = built
    _assert_clean(_texts(out))
    assert sorted(p.name for p in (out / "exercises").glob("*.py")) == sorted(f"{m}.py" for m in MODULES)
    assert hidden["checks"] > 0
    assert f"{hidden['checks']} hidden checks" in (out / "README.md").read_text()


def test_the_released_checks_import(built):
    out, _ = built
    for path in (out / "grader" / "checks").glob("check_*.py"):
        compile(path.read_text(), str(path), "exec")


def test_every_task_keeps_a_visible_check(built):
    out, _ = built
    text = "\n".join((out / "grader" / "checks" / p.name).read_text()
                     for p in (ROOT / "grader" / "checks").glob("check_*.py"))
    manifest = load_manifest()
    for task in TASKS:
        visible = [s for s in manifest.values() if s.task == task.id and s.visibility == "visible"]
        assert visible, task.id
        assert any(f"def test_{s.name}(" in text for s in visible), task.id


def _wheel(tree: Path, into: Path) -> Path:
    into.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    str(tree), "-w", str(into)], check=True, capture_output=True)
    (wheel,) = into.glob("*.whl")
    return wheel


def _wheel_files(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as zf:
        return {n: zf.read(n).decode("utf-8", errors="replace") for n in zf.namelist()}


def _installed(wheel: Path, target: Path) -> dict[str, str]:
    """Install ``wheel`` alone into ``target`` (its dependencies are this environment's);
    the environment to run ``python -m grader`` from it, not from this checkout."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    return {**__import__("os").environ, "PYTHONPATH": str(target), "NO_COLOR": "1"}


def _metadata(files: dict[str, str]) -> str:
    return next(text for name, text in files.items() if name.endswith(".dist-info/METADATA"))


def test_the_student_wheel_holds_no_hidden_check_and_no_solution(built, tmp_path):
    out, hidden = built
    wheel = _wheel(out, tmp_path / "wheel")
    assert wheel.name.startswith("autograd_lab-")
    files = _wheel_files(wheel)
    assert any(n.startswith("grader/checks/check_") for n in files)
    _assert_clean(files)
    meta = _metadata(files)
    # Pins honoured: exactly the tested versions, and the Python they need.
    assert "Requires-Dist: torch==2.13.0" in meta and "Requires-Dist: numpy==2.4.6" in meta
    assert "Requires-Python: >=3.11" in meta
    requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and all("==" in line for line in requires)
    # Installed and run from a folder without exercises: it says where they are; given
    # the solutions, it grades them with the visible checks and counts the hidden ones.
    env = _installed(wheel, tmp_path / "site")
    work = tmp_path / "elsewhere"
    work.mkdir()
    lost = subprocess.run([sys.executable, "-m", "grader", "run"], cwd=work, env=env, capture_output=True, text=True)
    assert lost.returncode == 2 and "student repository" in lost.stderr
    done = subprocess.run([sys.executable, "-m", "grader", "run", str(SOLUTIONS), "-o", "r.json", "-k", "ex03"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    data = json.loads((work / "r.json").read_text())
    assert data["score"] == data["max_score"] > 0 and data["hidden_checks"]["count"] > 0
    assert all(c["visibility"] == "visible" for t in data["tasks"] for c in t["checks"])


def test_the_repositorys_own_wheel_is_the_instructors_and_grades_with_everything(tmp_path):
    wheel = _wheel(ROOT, tmp_path / "wheel")
    assert wheel.name.startswith("autograd_lab_instructor-")  # never what `pip install autograd-lab` gets
    files = _wheel_files(wheel)
    for path in (ROOT / "grader" / "checks").glob("check_*.py"):
        assert files[f"grader/checks/{path.name}"] == path.read_text(encoding="utf-8")
    env = _installed(wheel, tmp_path / "site")
    work = tmp_path / "elsewhere"
    work.mkdir()
    done = subprocess.run([sys.executable, "-m", "grader", "run", str(SOLUTIONS), "-o", "r.json", "-k", "ex03"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    data = json.loads((work / "r.json").read_text())
    assert data["score"] == data["max_score"] > 0
    assert any(c["visibility"] == "hidden" for t in data["tasks"] for c in t["checks"])
    assert "site" in subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], env=env,
                                    cwd=work, capture_output=True, text=True).stdout


def test_the_release_installs_from_its_readme_and_grades(built, tmp_path):
    out, hidden = built
    student = tmp_path / "student"
    shutil.copytree(out, student)
    readme = (student / "README.md").read_text()
    setup = readme.split("```bash\n", 1)[1].splitlines()[0]
    assert setup.startswith("python3 -m venv .venv")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in setup
    # This machine reaches only PyPI's mirrors: without retries pip moves past the CPU index at once.
    done = subprocess.run(["bash", "-c", setup + " -o stubs.json --seed 2"], cwd=student, capture_output=True,
                          text=True, timeout=1500, env={**__import__("os").environ, "PIP_RETRIES": "0"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Total 0/" in done.stdout
    assert f"{hidden['checks']} hidden checks" in done.stdout
    for path in SOLUTIONS.glob("*.py"):
        shutil.copyfile(path, student / "exercises" / path.name)
    graded = subprocess.run([str(student / ".venv" / "bin" / "grade"), "run", "exercises", "-o", "sol.json"],
                            cwd=student, capture_output=True, text=True, timeout=600)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
    import json

    data = json.loads((student / "sol.json").read_text())
    assert data["score"] == data["max_score"] > 0
    assert data["hidden_checks"]["count"] == hidden["checks"]
    assert all(c["visibility"] == "visible" for t in data["tasks"] for c in t["checks"])


def test_release_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("x")
    with pytest.raises(release.ReleaseError):
        release.build(ROOT, tmp_path)


# The modules whose checks were written to show every known mistake in the student's own run.
LOCAL_MODULES = ("ex01_backward", "ex02_jacobian", "ex03_vjp", "ex04_detach", "ex05_control_flow", "ex06_losses",
                 "ex07_higher_order")

GRADE_WITH_RELEASE = """
import json, sys
import grader
from grader import api
assert grader.__file__.startswith(sys.argv[1]), grader.__file__
out = {}
for name, folder, task in json.loads(sys.argv[2]):
    report = api.grade(folder, patterns=(task,), seed=3)
    (entry,) = report["tasks"]
    out[name] = {"score": entry["score"], "max_score": entry["max_score"],
                 "visibility": sorted({c["visibility"] for c in entry["checks"]}),
                 "codes": sorted({c["code"] for c in entry["checks"] if c["score"] < c["max_score"]}),
                 "hints": sorted({c["hint"] for c in entry["checks"]})}
print(json.dumps(out))
"""


def test_the_student_release_shows_the_classic_mistakes(built, tmp_path):
    """The release's own (visible) checks cost every known mistake points, a transposed
    Jacobian and an attached result included, so a student sees them before the
    instructor's hidden checks do. Forbidden APIs are found by the scan, not by checks."""
    import json
    import os

    from grader.mutants import discover, materialise

    from .conftest import MUTANTS

    out, _ = built
    jobs = []
    for i, mutant in enumerate(discover(MUTANTS)):
        if mutant.module in LOCAL_MODULES and mutant.status != "forbidden":
            folder = materialise(mutant, SOLUTIONS, tmp_path / str(i))
            jobs.append((mutant.name, str(folder), mutant.loses[0]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(out)
    done = subprocess.run([sys.executable, "-c", GRADE_WITH_RELEASE, str(out), json.dumps(jobs)], cwd=out, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(results) == len(jobs) > 50
    slipped = {name: got for name, got in results.items() if got["score"] >= got["max_score"]}
    assert not slipped, slipped
    assert all(got["visibility"] == ["visible"] for got in results.values())
    assert "transposed" in results["ex02_jacobian/vjps_transposed"]["hints"]
    assert "transposed" in results["ex02_jacobian/polar_transposed"]["hints"]
    assert "requires_grad" in results["ex06_losses/loss_attached"]["codes"]


def test_every_task_has_a_visible_contract_check():
    manifest = load_manifest()
    for task in TASKS:
        visible = [s.title for s in manifest.values() if s.task == task.id and s.visibility == "visible"]
        assert any("detached" in title for title in visible), (task.id, visible)
