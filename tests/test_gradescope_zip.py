"""`grade gradescope OUT.zip`: the autograder zip, unpacked as Gradescope lays it out
(``source/``, ``submission/``, ``results/`` under a root moved by ``AUTOGRADER_ROOT``),
grades any upload into a results.json valid against Gradescope's documented format.

setup.sh's ``pip install`` is not run here: ``run_autograder`` uses this test
environment's interpreter (``AUTOGRADER_PYTHON``), whose packages are the pinned ones,
with the zip's own grader first on the path.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from grader import notebook
from grader.cli import main
from grader.tasks import MODULES

from .conftest import EXERCISES, MUTANTS, ROOT, SOLUTIONS

SCHEMA = json.loads((ROOT / "grader" / "schema" / "gradescope-results.json").read_text(encoding="utf-8"))
ZIP_VERSION = "0.1.0+from-the-zip"


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def source(autograder_zip, tmp_path_factory) -> Path:
    """The zip unpacked as /autograder/source, its grader marked so a test can tell it ran."""
    src = tmp_path_factory.mktemp("unpacked") / "source"
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(src)
        for info in zf.infolist():
            os.chmod(src / info.filename, (info.external_attr >> 16) & 0o777)
    init = src / "grader" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.1.0"', f'__version__ = "{ZIP_VERSION}"'))
    return src


def run_autograder(source: Path, tmp_path: Path, fill) -> tuple[dict, subprocess.CompletedProcess]:
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copytree(source, root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    fill(root / "submission")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=600)
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(results, SCHEMA)
    return results, done


def _copy(folder: Path, names: dict[str, str] | None = None, src: Path = SOLUTIONS) -> None:
    for module in MODULES:
        shutil.copyfile(src / f"{module}.py", folder / (names or {}).get(module, f"{module}.py"))


def test_the_zip_holds_the_scripts_the_pins_and_every_check_but_no_solution(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = zf.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        text = {n: zf.read(n).decode("utf-8", "replace") for n in names}
    assert {"setup.sh", "run_autograder", "requirements.txt", "setup.cfg", "pyproject.toml"} <= set(names)
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert text["requirements.txt"] == (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt" in text["setup.sh"]
    for path in (ROOT / "grader" / "checks").glob("check_*.py"):
        assert text[f"grader/checks/{path.name}"] == path.read_text(encoding="utf-8")  # hidden checks too
    assert not [n for n in names if n.split("/")[0] in ("solutions", "mutants", "tests", "exercises")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert json.loads(text["autograd-lab.json"])["seed"] == 3
    for script in ("setup.sh", "run_autograder"):
        assert subprocess.run(["bash", "-n", "-c", text[script]]).returncode == 0


def test_a_good_submission_scores_full_marks(source, tmp_path):
    results, done = run_autograder(source, tmp_path, _copy)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert results["extra_data"]["grader_version"] == ZIP_VERSION  # the zip's grader graded it
    assert results["score"] == results["extra_data"]["max_score"] > 0
    assert any(t["visibility"] == "after_published" for t in results["tests"])  # hidden checks ran
    assert (tmp_path / "autograder" / "results" / "grade-report.json").is_file()


def test_a_wrong_submission_says_what_is_wrong(source, tmp_path):
    def fill(folder: Path) -> None:
        _copy(folder)
        with open(folder / "ex03_vjp.py", "a", encoding="utf-8") as f:
            f.write((MUTANTS / "ex03_vjp" / "jv_instead_of_jtv.py").read_text(encoding="utf-8"))

    results, _ = run_autograder(source, tmp_path, fill)
    assert 0 < results["score"] < results["extra_data"]["max_score"]
    lost = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert lost and all(t["tags"] == ["ex03_vjp.vjp"] for t in lost)
    assert any("J·v" in t["output"] for t in lost)


def test_misnamed_files_are_graded_and_the_output_says_so(source, tmp_path):
    names = {"ex01_backward": "ex01_backward (1).py", "ex02_jacobian": "Ex02_Jacobian.py", "ex03_vjp": "ex03.py"}

    def fill(folder: Path) -> None:
        (folder / "my-work").mkdir()
        _copy(folder / "my-work", names)
        (folder / "my-work" / "scratch.py").write_text("x = 1\n")

    results, _ = run_autograder(source, tmp_path, fill)
    assert results["score"] == results["extra_data"]["max_score"]
    out = results["output"]
    assert "my-work/ex01_backward (1).py was graded as ex01_backward.py" in out
    assert "my-work/ex03.py was graded as ex03_vjp.py" in out
    assert "my-work/scratch.py" in out and "Not graded" in out


def test_an_upload_without_exercise_files_scores_zero_and_says_what_to_upload(source, tmp_path):
    def fill(folder: Path) -> None:
        (folder / "homework.py").write_text("def f():\n    pass\n")
        (folder / "notes.txt").write_text("hello")

    results, done = run_autograder(source, tmp_path, fill)
    assert done.returncode == 0
    assert results["score"] == 0
    assert "No exercise file found in your submission (it holds: homework.py, notes.txt)" in results["output"]
    assert "Upload the exercise files: ex01_backward.py" in results["output"]


def test_an_empty_upload_scores_zero_and_says_so(source, tmp_path):
    results, _ = run_autograder(source, tmp_path, lambda folder: None)
    assert results["score"] == 0 and "Your submission is empty." in results["output"]
    assert results["tests"] and all(t["score"] == 0 for t in results["tests"])


def test_a_notebook_upload_is_graded_from_its_code_cells(source, tmp_path):
    def fill(folder: Path) -> None:
        notebook.write_notebooks(SOLUTIONS, folder)
        notebook.write_notebooks(EXERCISES, folder / "unused-stubs")  # same names deeper: not graded

    results, _ = run_autograder(source, tmp_path, fill)
    assert results["score"] == results["extra_data"]["max_score"]


def test_a_release_clone_uploaded_whole_is_graded_from_its_notebooks(source, tmp_path):
    """The stubs of exercises/ left as handed out, the work done in notebooks/."""
    def fill(folder: Path) -> None:
        shutil.copytree(EXERCISES, folder / "exercises")
        notebook.write_notebooks(SOLUTIONS, folder / "notebooks")

    results, _ = run_autograder(source, tmp_path, fill)
    assert results["score"] == results["extra_data"]["max_score"]
    assert "ex03_vjp.py is the exercise as handed out, unchanged: ex03_vjp.ipynb is graded as ex03_vjp.py." \
        in results["output"]


def test_a_broken_grader_still_writes_results(source, tmp_path):
    """The grader's own failure: score 0, saying it is not the student's mistake."""
    broken = tmp_path / "broken-source"
    shutil.copytree(source, broken)
    (broken / "grader" / "api.py").write_text("raise RuntimeError('broken on purpose')\n")
    results, done = run_autograder(broken, tmp_path, _copy)
    assert results["score"] == 0 and "not your mistake" in results["output"]
    assert "broken on purpose" in done.stdout and results["stdout_visibility"] == "hidden"


def test_gradescope_refuses_a_student_release_and_a_bad_name(tmp_path):
    from grader import release

    student = tmp_path / "student"
    release.build(ROOT, student)
    refused = CliRunner().invoke(main, ["gradescope", str(tmp_path / "a.zip"), "--root", str(student)])
    assert refused.exit_code == 2 and "no hidden checks" in refused.output
    assert CliRunner().invoke(main, ["gradescope", str(tmp_path / "a.tar")]).exit_code == 2
    assert not (tmp_path / "a.zip").exists()


def test_a_file_name_that_is_not_utf8_is_shown_escaped_and_the_upload_is_scored(source, tmp_path):
    """A zip made on a Chinese-locale Windows machine leaves GBK names (作业.py) after unzip."""
    def fill(folder: Path) -> None:
        _copy(folder)
        with open(os.path.join(os.fsencode(folder), "作业.py".encode("gbk")), "w") as f:
            f.write("x = 1\n")
        (folder / "notes").mkdir()
        with open(os.path.join(os.fsencode(folder / "notes"), b"ex03\xff.py"), "w") as f:
            f.write("x = 1\n")

    results, done = run_autograder(source, tmp_path, fill)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert results["score"] == results["extra_data"]["max_score"] > 0
    assert "\\xd7\\xf7" in results["output"] and "notes/ex03\\xff.py" in results["output"]
    assert not list((tmp_path / "autograder" / "results").glob(".*.tmp"))


def test_results_json_is_always_written_whole(tmp_path, monkeypatch):
    """Whatever the grading returned, results.json is valid JSON (never empty), written atomically."""
    from grader import gradescope

    root = tmp_path / "ag"
    (root / "submission").mkdir(parents=True)
    monkeypatch.setattr(gradescope, "grade_upload", lambda root: {"score": 1.0, "output": "name \udcd7\udcf7.py"})
    assert gradescope.main(["--root", str(root)]) == 0
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 1.0 and results["output"] == "name \\xd7\\xf7.py"

    def broken(root):
        raise RuntimeError("a bug in the grader")

    monkeypatch.setattr(gradescope, "grade_upload", broken)
    assert gradescope.main(["--root", str(root)]) == 0
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 0.0 and "not your mistake" in results["output"]
    jsonschema.validate(results, SCHEMA)
