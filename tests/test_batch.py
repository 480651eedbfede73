"""`grade batch`: a class of submissions, hostile ones included, and resuming after a kill."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from grader import intake as batch, report
from grader.tasks import BY_ID, MAX_SCORE, TASKS

from .conftest import EXERCISES, SOLUTIONS

HANG = "\n\ndef vjp(f, x, v):\n    while True:\n        pass\n"
BOMB = "\n\ndef hvp(f, x, v):\n    return torch.ones(1 << 34)\n"
CRASH_AT_IMPORT = "\n\nraise SystemExit(3)\n"


def _copy(src: Path, dst: Path, append: dict[str, str] | None = None) -> Path:
    shutil.copytree(src, dst)
    for module, text in (append or {}).items():
        with open(dst / f"{module}.py", "a", encoding="utf-8") as f:
            f.write(text)
    return dst


def make_class(root: Path, n: int, hostile: int) -> dict[str, str]:
    """n submissions: a mix of solutions, stubs, archives, and `hostile` bad ones."""
    root.mkdir()
    kinds: dict[str, str] = {}
    bad = [
        ("hang", lambda p: _copy(SOLUTIONS, p, {"ex03_vjp": HANG})),
        ("bomb", lambda p: _copy(SOLUTIONS, p, {"ex07_higher_order": BOMB})),
        ("exit", lambda p: _copy(SOLUTIONS, p, {"ex01_backward": CRASH_AT_IMPORT})),
        ("empty", lambda p: p.mkdir()),
        ("binary", lambda p: (p.mkdir(), (p / "ex01_backward.py").write_bytes(os.urandom(2048)))),
        ("wrong_layout", lambda p: (p.mkdir(), (p / "notes.txt").write_text("hello"))),
        ("corrupt_zip", None),
    ]
    for i in range(n):
        name = f"s{i:03d}"
        if i < hostile:
            kind, make = bad[i % len(bad)]
            if kind == "corrupt_zip":
                (root / f"{name}.zip").write_bytes(b"PK\x03\x04 not really a zip")
            else:
                make(root / name)
        elif i % 5 == 0:
            kind = "zip"
            with zipfile.ZipFile(root / f"{name}.zip", "w") as zf:
                for p in SOLUTIONS.glob("*.py"):
                    zf.write(p, f"{name}/{p.name}")
        elif i % 5 == 1:
            kind = "stubs"
            _copy(EXERCISES, root / name)
        elif i % 5 == 2:
            kind = "tar"
            with tarfile.open(root / f"{name}.tar.gz", "w:gz") as tf:
                for p in SOLUTIONS.glob("*.py"):
                    tf.add(p, f"exercises/{p.name}")
        else:
            kind = "solutions"
            _copy(SOLUTIONS, root / name)
        kinds[name] = kind
    return kinds


def run_batch(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    grade = Path(sys.executable).parent / "grade"
    return subprocess.run([str(grade), "batch", str(src), "-o", str(out), "--seed", "5", "--timeout", "2",
                           "--jobs", "2", *extra], capture_output=True, text=True, timeout=1800)


def gradebook(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))


def test_a_class_with_hostile_submissions_gets_a_report_each(tmp_path):
    kinds = make_class(tmp_path / "class", 100, hostile=10)
    result = run_batch(tmp_path / "class", tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    reports = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "out" / "reports").glob("*.json")}
    assert len(reports) == 100
    for name, data in reports.items():
        report.validate(data)
        kind = kinds[name]
        if kind in ("solutions", "zip", "tar"):
            assert data["score"] == MAX_SCORE, name
        elif kind == "stubs":
            assert data["score"] == 0, name
        elif kind == "hang":
            assert {t["id"]: t["status"] for t in data["tasks"]}["ex03_vjp.vjp"] == "timeout"
            assert data["score"] == MAX_SCORE - BY_ID["ex03_vjp.vjp"].points
        elif kind == "bomb":
            assert {t["id"]: t["status"] for t in data["tasks"]}["ex07_higher_order.hvp"] == "error"
        elif kind == "exit":
            assert data["score"] == MAX_SCORE - sum(t.points for t in TASKS if t.module == "ex01_backward")
        else:
            assert data["score"] == 0 and (data.get("problem") or kind == "binary"), name
    rows = gradebook(tmp_path / "out")
    assert len(rows) == 100
    # The gradebook and summary were made from the workers' answers: the same as reading
    # and checking every report file again.
    from grader import collect

    again = collect.collect([str(tmp_path / "out" / "reports")])
    assert (tmp_path / "out" / "gradebook.csv").read_text(encoding="utf-8") == collect.render_csv(again)
    assert json.loads((tmp_path / "out" / "class-summary.json").read_text(encoding="utf-8")) == \
        json.loads(json.dumps(collect.summary(again)))


def test_an_interrupted_batch_resumes_to_the_same_gradebook(tmp_path):
    make_class(tmp_path / "class", 12, hostile=2)
    whole = run_batch(tmp_path / "class", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr[-2000:]

    grade = Path(sys.executable).parent / "grade"
    process = subprocess.Popen([str(grade), "batch", str(tmp_path / "class"), "-o", str(tmp_path / "cut"),
                                "--seed", "5", "--timeout", "2", "--jobs", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    reports = tmp_path / "cut" / "reports"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(reports.glob("*.json"))) < 4:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = len(list(reports.glob("*.json")))
    assert 4 <= finished < 12
    for path in reports.glob("*.json"):
        report.validate(json.loads(path.read_text()))  # no half-written report
    resumed = run_batch(tmp_path / "class", tmp_path / "cut", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("created", "duration")} for r in rows]  # noqa: E731
    assert strip(gradebook(tmp_path / "cut")) == strip(gradebook(tmp_path / "whole"))


def test_shards_partition_the_class(tmp_path):
    items = [batch.Item(f"s{i}", tmp_path / f"s{i}") for i in range(10)]
    parts = [batch.shard(items, f"{k}/3") for k in (1, 2, 3)]
    assert sorted(i.name for p in parts for i in p) == sorted(i.name for i in items)
    with pytest.raises(batch.BatchError):
        batch.shard(items, "4/3")


def test_a_list_file_names_submissions(tmp_path):
    _copy(SOLUTIONS, tmp_path / "a")
    _copy(EXERCISES, tmp_path / "b")
    (tmp_path / "list.txt").write_text("a\nb\n# a comment\n\nmissing\n")
    items = batch.discover(tmp_path / "list.txt")
    assert [i.name for i in items] == ["a", "b", "missing"]


def test_an_archive_cannot_write_outside_its_folder(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escaped.py", "x = 1\n")
        zf.writestr("sub/ex01_backward.py", "x = 1\n")
    into = tmp_path / "into"
    into.mkdir()
    root = batch.extract(evil, into)
    assert not (tmp_path / "escaped.py").exists()
    assert (root / "ex01_backward.py").exists()


def test_a_broken_archive_is_the_students_problem_named_by_the_archive(tmp_path):
    """An interrupted upload (a truncated .tgz), garbage, an empty zip or a zip in a zip:
    'not a submission' with one line naming the archive, never a failure of the grader
    nor the temporary folder it was unpacked in."""
    with tarfile.open(tmp_path / "full.tgz", "w:gz") as tf:
        for p in SOLUTIONS.glob("*.py"):
            tf.add(p, p.name)
    (tmp_path / "truncated.tgz").write_bytes((tmp_path / "full.tgz").read_bytes()[:3000])
    (tmp_path / "garbage.zip").write_bytes(b"PK\x03\x04 not really a zip")
    zipfile.ZipFile(tmp_path / "empty.zip", "w").close()
    with zipfile.ZipFile(tmp_path / "nested.zip", "w") as zf:
        zf.write(tmp_path / "empty.zip", "inner.zip")
    for name, why in (("truncated.tgz", "not a readable archive (EOFError"), ("garbage.zip", "not a readable archive"),
                      ("empty.zip", "holds no exercise modules"), ("nested.zip", "holds no exercise modules")):
        into = tmp_path / f"into-{name}"
        into.mkdir()
        with pytest.raises(batch.BatchError) as caught:
            batch.unpack(tmp_path / name, into)
        problem = str(caught.value)
        assert problem.startswith(f"{tmp_path / name}: ") and why in problem, problem
        assert str(into) not in problem and "\n" not in problem
    (tmp_path / "into-full").mkdir()
    assert (batch.unpack(tmp_path / "full.tgz", tmp_path / "into-full") / "ex01_backward.py").is_file()

    from grader import pool
    from grader.options import Options

    truncated = tmp_path / "truncated.tgz"
    job = {"name": "t", "path": str(truncated), "out": str(tmp_path / "t.json"), "digest": batch.digest(truncated)}
    with pytest.raises(batch.BatchError) as caught:
        batch.unpack(truncated, tmp_path / "into-truncated.tgz")
    answer = pool._finish(job, Options(seed=1), None, caught.value, 0.0)
    assert not answer.get("error") and answer["problem"].startswith(str(tmp_path / "truncated.tgz"))


@pytest.mark.parametrize("bad, message", [("nowhere", "no such file"), ("one", "this is one submission")])
def test_bad_batch_input_is_refused(tmp_path, bad, message):
    from click.testing import CliRunner

    from grader.cli import main

    _copy(SOLUTIONS, tmp_path / "one")
    result = CliRunner().invoke(main, ["batch", str(tmp_path / bad), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in result.output


def test_a_tar_archive_cannot_write_outside_its_folder(tmp_path):
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tf:
        for name in ("../escaped.py", "sub/ex01_backward.py"):
            data = b"x = 1\n"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    into = tmp_path / "into"
    into.mkdir()
    root = batch.extract(evil, into)
    assert not (tmp_path / "escaped.py").exists()
    assert (root / "ex01_backward.py").exists()


def test_every_submission_gets_a_name_of_its_own(tmp_path):
    """"s!" cleans to "s"; its "-2" must not be another student's own "s-2"."""
    for name in ("s", "s!", "s-2", "s?"):
        (tmp_path / name).mkdir()
    names = [i.name for i in batch.discover(tmp_path)]
    assert len(names) == 4 and len({n.casefold() for n in names}) == 4
    assert dict(zip(sorted(p.name for p in tmp_path.iterdir()), names))["s-2"] == "s-2"


def test_a_link_out_of_a_submission_is_never_followed(tmp_path):
    sub = tmp_path / "sub"
    _copy(SOLUTIONS, sub)
    (sub / "ex01_backward.py").unlink()
    (sub / "ex01_backward.py").symlink_to(SOLUTIONS / "ex01_backward.py")
    before = batch.digest(sub)
    (tmp_path / "other.py").write_text("x = 1\n")
    (sub / "ex01_backward.py").unlink()
    (sub / "ex01_backward.py").symlink_to(tmp_path / "other.py")
    assert batch.digest(sub) != before  # the link itself is the content, never its target

    from grader import api
    from grader.options import Options
    from grader.status import Status

    prepared = api.prepare(sub, Options(seed=1, patterns=("ex01", "ex02")))
    for task in prepared.tasks:
        verdict = prepared.verdicts[task.id]
        if task.module == "ex01_backward":
            assert (verdict.status, verdict.code) == (Status.ERROR, "linked_module")
        else:
            assert verdict is None
    assert "ex01_backward" not in prepared.submission.sources
    # A linked exercises/ folder is no way out either.
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "exercises").symlink_to(SOLUTIONS)
    prepared = api.prepare(outer, Options(seed=1, patterns=("ex03",)))
    assert {v.code for v in prepared.verdicts.values()} == {"linked_module"}


SHADOW = """
import os
open(os.environ["SHADOW_MARK"], "w").write("ran in the grader")
"""


@pytest.mark.parametrize("how", ["batch", "python -m grader run"])
def test_a_submission_named_like_a_standard_module_never_runs_in_the_grader(how, tmp_path):
    """Graded from inside the class folder, a submission folder named like a standard
    module the grader has not loaded (with an ``__init__.py``) sits first on
    ``python -m``'s import path: the scan must not import it, nor the worker find it."""
    folder = tmp_path / "class"
    folder.mkdir()
    _copy(SOLUTIONS, folder / "alice")
    shadow = _copy(EXERCISES, folder / "telnetlib", {"ex01_backward": "\nimport telnetlib\nTELNET = telnetlib.Telnet\n"})
    (shadow / "__init__.py").write_text(SHADOW)
    (folder / "nntplib.py").write_text(SHADOW)
    with open(shadow / "ex02_jacobian.py", "a", encoding="utf-8") as f:
        f.write("\nimport nntplib\nNNTP = nntplib.NNTP\n")
    mark = tmp_path / "mark"
    env = dict(os.environ, SHADOW_MARK=str(mark))
    if how == "batch":
        command = [str(Path(sys.executable).parent / "grade"), "batch", ".", "-o", str(tmp_path / "out"), "--jobs", "1"]
    else:
        command = [sys.executable, "-m", "grader", "run", "telnetlib", "-o", str(tmp_path / "out.json")]
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not mark.exists()
    if how == "batch":
        scores = {p.stem: json.loads(p.read_text())["score"] for p in (tmp_path / "out" / "reports").glob("*.json")}
        assert scores == {"alice": MAX_SCORE, "telnetlib": 0}
    else:
        assert json.loads((tmp_path / "out.json").read_text())["score"] == 0


def _quick_batch(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    grade = Path(sys.executable).parent / "grade"
    return subprocess.run([str(grade), "batch", str(src), "-o", str(out), "--jobs", "2", "--timeout", "5", *extra],
                          capture_output=True, text=True, timeout=600)


def _reports(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (out / "reports").glob("*.json")}


def _two_graded(tmp_path: Path) -> tuple[Path, Path]:
    """A class of two solutions (a, b) graded on one task with seed 1: (class, output)."""
    cls = tmp_path / "class"
    cls.mkdir()
    for name in ("a", "b"):
        _copy(SOLUTIONS, cls / name)
    out = tmp_path / "out"
    first = _quick_batch(cls, out, "--seed", "1", "-k", "grad_of_2xtx")
    assert first.returncode == 0, first.stderr[-2000:]
    return cls, out


def test_resume_regrades_reports_made_with_other_options(tmp_path):
    cls, out = _two_graded(tmp_path)
    # The record now says seed 2 and two tasks (as an interrupted later batch leaves it):
    # reports of seed 1 and one task are not this batch's and must not be kept.
    recorded = json.loads((out / "batch.json").read_text())
    (out / "batch.json").write_text(json.dumps(dict(recorded, seed=2, patterns=["grad_of_2xtx", "backward_twice"])))
    resumed = _quick_batch(cls, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed (unchanged)    0" in resumed.stdout
    reports = _reports(out)
    assert {r["seed"] for r in reports.values()} == {2}
    assert {r["max_score"] for r in reports.values()} == {8.0}
    rows = gradebook(out)
    assert [(r["seed"], r["max_score"]) for r in rows] == [("2", "8"), ("2", "8")]
    # Resumed again with the same options: nothing to regrade.
    again = _quick_batch(cls, out, "--resume")
    assert again.returncode == 0 and "resumed (unchanged)    2" in again.stdout, again.stdout


def test_a_fresh_batch_into_a_folder_of_reports_is_refused(tmp_path):
    cls = tmp_path / "class"
    cls.mkdir()
    _copy(SOLUTIONS, cls / "a")
    out = tmp_path / "out"
    first = _quick_batch(cls, out, "--seed", "1", "-k", "grad_of_2xtx")
    assert first.returncode == 0, first.stderr[-2000:]
    def files() -> dict[str, bytes]:  # but the lock, which names the batch holding it
        return {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".grade-batch.lock"}

    before = files()
    again = _quick_batch(cls, out, "--seed", "9", "-k", "grad_of_2xtx")
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "earlier batch" in again.stderr and "--resume" in again.stderr
    assert files() == before


def test_a_late_identical_submission_never_takes_another_ones_report(tmp_path):
    """'li na' arrives after 'li_na' was graded, with the same files: it takes the name
    li_na and li_na becomes li_na-2. Each must still get a report and a row of its own."""
    cls = tmp_path / "class"
    cls.mkdir()
    _copy(SOLUTIONS, cls / "li_na")
    _copy(EXERCISES, cls / "zhou")
    out = tmp_path / "out"
    first = _quick_batch(cls, out, "--seed", "1", "-k", "grad_of_2xtx")
    assert first.returncode == 0, first.stderr[-2000:]
    _copy(SOLUTIONS, cls / "li na")
    resumed = _quick_batch(cls, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert {r["submission"]["path"] for r in _reports(out).values()} == {str(cls / n) for n in ("li_na", "li na", "zhou")}
    assert sorted(r["submission"] for r in gradebook(out)) == sorted(str(cls / n) for n in ("li_na", "li na", "zhou"))
    assert "resumed (unchanged)    1" in resumed.stdout  # zhou only


def test_a_withdrawn_submission_is_left_out_of_the_gradebook_and_named(tmp_path):
    cls, out = _two_graded(tmp_path)
    shutil.rmtree(cls / "b")
    resumed = _quick_batch(cls, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert [r["submission"] for r in gradebook(out)] == [str(cls / "a")]
    assert f"{out / 'reports' / 'b.json'}: not a report of this batch's submissions" in resumed.stderr
    assert (out / "reports" / "b.json").exists()  # set aside from the gradebook, never deleted


def test_a_second_batch_into_a_folder_in_use_is_refused(tmp_path):
    from click.testing import CliRunner

    from grader.cli import LOCK_FILE, main
    from grader.fileio import lock_exclusive

    cls = tmp_path / "class"
    cls.mkdir()
    _copy(SOLUTIONS, cls / "a")
    out = tmp_path / "out"
    out.mkdir()
    fd = lock_exclusive(out / LOCK_FILE)  # as a running batch holds it
    try:
        for extra in ([], ["--resume"]):
            result = CliRunner().invoke(main, ["batch", str(cls), "-o", str(out), "--seed", "1", *extra])
            assert result.exit_code == 2, result.output
            assert "another grade batch is writing into it" in result.output and f"process {os.getpid()}" in result.output
            assert result.output.strip().count("\n") == 0
        assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]
    finally:
        os.close(fd)
    # Released: the next batch runs.
    done = _quick_batch(cls, out, "--seed", "1", "-k", "grad_of_2xtx")
    assert done.returncode == 0, done.stderr[-2000:]


def test_two_batches_at_once_into_one_folder(tmp_path):
    cls = tmp_path / "class"
    cls.mkdir()
    _copy(SOLUTIONS, cls / "a", {"ex01_backward": "\nimport time\ndef grad_of_2xtx(x):\n    time.sleep(30)\n"})
    out = tmp_path / "out"
    grade = Path(sys.executable).parent / "grade"
    first = subprocess.Popen([str(grade), "batch", str(cls), "-o", str(out), "--seed", "1", "-k", "grad_of_2xtx",
                              "--timeout", "20", "--jobs", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "batch.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        second = _quick_batch(cls, out, "--seed", "2", "-k", "grad_of_2xtx", "--resume")
        assert second.returncode == 2 and "another grade batch is writing into it" in second.stderr, second.stderr
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert json.loads((out / "batch.json").read_text())["seed"] == 1
    assert [r["seed"] for r in gradebook(out)] == ["1"]


def test_the_gradebook_reads_a_report_that_changed_since_its_answer(tmp_path):
    """The parent keeps what each worker answered, but a report file replaced since is read again."""
    from grader import collect
    from grader.cli import _write_gradebook
    from grader.pool import Done, stamp

    out = tmp_path / "out"
    (out / "reports").mkdir(parents=True)
    result = _quick_batch(_copy(SOLUTIONS, tmp_path / "cls" / "a").parent, tmp_path / "graded", "--seed", "3",
                          "-k", "grad_of_2xtx")
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads((tmp_path / "graded" / "reports" / "a.json").read_text())
    path = out / "reports" / "a.json"
    report.write(data, path)
    item = batch.Item("a", tmp_path / "cls" / "a")
    stale = dict(collect.kept(data), seed=99)
    done = Done(item, data["score"], data["max_score"], report=path, kept=stale,
                files_digest=collect.submission_digest(data), stamp=stamp(path))
    _write_gradebook(out, [done], [item])
    assert [r["seed"] for r in gradebook(out)] == ["99"]  # unchanged: the answer is used
    time.sleep(0.01)
    report.write(data, path)  # another version of the file
    _write_gradebook(out, [done], [item])
    assert [r["seed"] for r in gradebook(out)] == ["3"]


@pytest.mark.parametrize("where", ["/proc/autograd-lab-out", "file/out"])
def test_an_output_folder_that_cannot_be_made_is_bad_input(tmp_path, where):
    from click.testing import CliRunner

    from grader.cli import main

    cls = tmp_path / "class"
    cls.mkdir()
    _copy(SOLUTIONS, cls / "a")
    (tmp_path / "file").write_text("not a folder\n")
    out = where if where.startswith("/") else str(tmp_path / where)
    result = CliRunner().invoke(main, ["batch", str(cls), "-o", out, "--seed", "1"])
    assert result.exit_code == 2, result.output
    assert "cannot create the folder" in result.output and "grader itself failed" not in result.output
    assert result.output.strip().count("\n") == 0




def _notebook(module: str, src: Path, into: Path) -> None:
    import nbformat

    from grader import notebook

    into.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook.from_module(module, (src / f"{module}.py").read_text(encoding="utf-8")), str(into))


def test_batch_grades_notebooks_and_broken_uploads_as_grade_run_does(tmp_path, grade):
    """Notebook-only, mixed and release-clone submissions score in the batch what grade run
    gives them; a broken archive is the student's problem; a name that is not UTF-8 is kept."""
    cls = tmp_path / "class"
    cls.mkdir()
    _notebook("ex03_vjp", SOLUTIONS, cls / "nb_only" / "ex03_vjp.ipynb")
    _notebook("ex01_backward", SOLUTIONS, cls / "nb_only" / "lab.ipynb")
    _copy(SOLUTIONS, cls / "mixed")
    (cls / "mixed" / "ex03_vjp.py").unlink()
    _notebook("ex03_vjp", SOLUTIONS, cls / "mixed" / "ex03_vjp.ipynb")
    _copy(EXERCISES, cls / "clone" / "exercises")
    _notebook("ex03_vjp", SOLUTIONS, cls / "clone" / "notebooks" / "ex03_vjp.ipynb")
    _notebook("ex01_backward", EXERCISES, cls / "clone" / "notebooks" / "ex01_backward.ipynb")
    _notebook("ex03_vjp", SOLUTIONS, cls / "single.ipynb")
    with zipfile.ZipFile(cls / "zipped.zip", "w") as zf:
        zf.write(cls / "mixed" / "ex03_vjp.ipynb", "ex03_vjp.ipynb")
    with tarfile.open(tmp_path / "full.tgz", "w:gz") as tf:
        for p in SOLUTIONS.glob("*.py"):
            tf.add(p, p.name)
    (cls / "truncated.tgz").write_bytes((tmp_path / "full.tgz").read_bytes()[:3000])
    zipfile.ZipFile(cls / "empty.zip", "w").close()
    odd = cls / os.fsdecode(b"wang_\xcd\xf5")  # a GBK name, as an LMS download unzipped on Linux gives it
    _copy(SOLUTIONS, odd)

    result = run_batch(cls, tmp_path / "out", "-k", "ex01", "-k", "ex03")
    assert result.returncode == 0, result.stderr[-2000:]
    reports = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "out" / "reports").glob("*.json")}
    for name in ("nb_only", "mixed", "clone", "single"):
        path = cls / name if name != "single" else cls / "single.ipynb"
        alone = grade(path, seed=5, patterns=("ex01", "ex03"))
        assert reports[name]["score"] == alone["score"], name
        assert [t["status"] for t in reports[name]["tasks"]] == [t["status"] for t in alone["tasks"]], name
    ex03 = sum(t.points for t in TASKS if t.module == "ex03_vjp")
    ex01 = sum(t.points for t in TASKS if t.module == "ex01_backward")
    assert reports["nb_only"]["score"] == reports["mixed"]["score"] == ex01 + ex03
    assert reports["clone"]["score"] == reports["single"]["score"] == reports["zipped"]["score"] == ex03
    for name, why in (("truncated", "not a readable archive"), ("empty", "holds no exercise modules")):
        problem = reports[name]["problem"]
        assert problem.startswith(str(cls / f"{name}.")) and why in problem and "autograd-lab-batch" not in problem
        assert "\n" not in problem
    assert reports["wang"]["submission"]["path"] == str(cls) + "/wang_\\xcd\\xf5"
    assert reports["wang"]["score"] == ex01 + ex03
    assert "grader_error" not in {row["status"] for row in gradebook(tmp_path / "out")}
    assert len(gradebook(tmp_path / "out")) == len(reports) == 8

    # --resume: a changed notebook is a changed submission.
    _notebook("ex03_vjp", EXERCISES, cls / "mixed" / "ex03_vjp.ipynb")
    resumed = run_batch(cls, tmp_path / "out", "-k", "ex01", "-k", "ex03", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "reports" / "mixed.json").read_text())["score"] == ex01


def test_a_list_file_that_names_no_submission_is_refused(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    (tmp_path / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\nbin:x:1:1::/:/usr/sbin/nologin\n")
    for source in (tmp_path / "passwd", SOLUTIONS / "ex01_backward.py"):
        result = CliRunner().invoke(main, ["batch", str(source), "-o", str(tmp_path / "out")])
        assert result.exit_code == 2 and "no line of it names an existing path" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    _copy(SOLUTIONS, tmp_path / "class" / "a")
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "class"), "-o", ""])
    assert result.exit_code == 2 and "--output" in result.output
    assert not (Path.cwd() / "batch.json").exists() and not (tmp_path / "out").exists()


def test_what_the_grading_user_cannot_read_costs_only_that(tmp_path):
    """A submission folder, or one module, the grading user cannot read (mode 000, as an
    unzip by another account leaves it): that submission's report says so, that module's
    tasks are errors saying so; everything else is graded."""
    import tempfile

    from .test_jail import _user, as_user, run_staged

    uid, gid = _user()
    work = Path(tempfile.mkdtemp(prefix="agl-unreadable-"))
    try:
        os.chmod(work, 0o755)
        os.chown(work, uid, gid)
        cls = work / "class"
        for name in ("alice", "closed", "partial"):
            _copy(SOLUTIONS, cls / name)
        os.chmod(cls / "closed", 0)
        os.chmod(cls / "partial" / "ex02_jacobian.py", 0)
        grade = Path(sys.executable).parent / "grade"
        commands = [[str(grade), "batch", str(cls), "-o", str(work / "out"), "--seed", "5", "-k", "ex01", "-k", "ex02"],
                    [str(grade), "run", str(cls / "partial"), "-o", str(work / "run.json"), "--seed", "5",
                     "-k", "ex01", "-k", "ex02"]]
        env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"}
        done = run_staged(["set +e"] + [as_user(command, env) + '; echo "exit $?"' for command in commands], work,
                          timeout=900)
        assert done.stdout.count("exit 0") == 2, done.stdout[-2000:] + done.stderr[-2000:]
        reports = {p.stem: json.loads(p.read_text()) for p in (work / "out" / "reports").glob("*.json")}
        points = {m: sum(t.points for t in TASKS if t.module == m) for m in ("ex01_backward", "ex02_jacobian")}
        assert reports["alice"]["score"] == sum(points.values())
        assert reports["closed"]["score"] == 0
        assert reports["closed"]["problem"] == f"{cls / 'closed'}: cannot be read (Permission denied)"
        for partial in (reports["partial"], json.loads((work / "run.json").read_text())):
            assert partial["score"] == points["ex01_backward"] and not partial.get("problem")
            for task in partial["tasks"]:
                if task["module"] == "ex02_jacobian":
                    assert task["status"] == "error"
                    assert task["checks"][0]["feedback"] == \
                        "ex02_jacobian.py could not be read by the grader (Permission denied); it was not graded"
    finally:
        os.chmod(work / "class" / "closed", 0o755)
        shutil.rmtree(work, ignore_errors=True)
