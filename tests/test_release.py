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

FIX_THE_BUG = {"sequential_grads", "train_linear_regression"}


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


def test_the_built_wheel_is_clean_too(built, tmp_path):
    out, _ = built
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    str(out), "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        files = {n: zf.read(n).decode("utf-8", errors="replace") for n in zf.namelist()}
    assert any(n.startswith("grader/checks/check_") for n in files)
    _assert_clean(files)


def test_the_release_installs_from_its_readme_and_grades(built, tmp_path):
    out, hidden = built
    student = tmp_path / "student"
    shutil.copytree(out, student)
    readme = (student / "README.md").read_text()
    setup = readme.split("```bash\n", 1)[1].splitlines()[0]
    assert setup.startswith("python3 -m venv .venv")
    done = subprocess.run(["bash", "-c", setup + " -o stubs.json --seed 2"], cwd=student, capture_output=True,
                          text=True, timeout=1500)
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
