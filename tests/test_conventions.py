"""Command-line conventions: outputs never overwrite inputs, Ctrl-C exits 130, an internal
error exits 3 with a traceback file, LANGUAGE and NO_COLOR as their specs say, any stdout
encoding, ``python -m grader``, and ``--resume`` that never mixes seeds."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import i18n
from grader.cli import main

from .conftest import EXERCISES, SOLUTIONS

GRADE = Path(sys.executable).parent / "grade"


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env or {"NO_COLOR": "1"}, catch_exceptions=False)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _a_report(tmp_path: Path) -> Path:
    out = tmp_path / "r.json"
    assert invoke("run", SOLUTIONS, "-o", out, "-k", "ex03_vjp.vjp", "--seed", "1").exit_code == 0
    return out


# Never overwrite an input ------------------------------------------------------------


@pytest.mark.parametrize("target", ["ex01_backward.py", "report.json", "sub/deeper.json"])
def test_run_refuses_an_output_inside_the_submission(tmp_path, target):
    sub = tmp_path / "sub"
    shutil.copytree(EXERCISES, sub)
    (sub / "sub").mkdir()
    before = _tree(sub)
    result = invoke("run", sub, "-o", sub / target)
    assert result.exit_code == 2
    assert "inside the submission folder" in result.output and len(result.output.strip().splitlines()) == 1
    assert _tree(sub) == before


def test_run_refuses_an_extra_format_inside_the_submission(tmp_path):
    sub = tmp_path / "sub"
    shutil.copytree(EXERCISES, sub)
    before = _tree(sub)
    result = invoke("run", sub, "-o", tmp_path / "r.json", "--format", f"junit={sub / 'ex02_jacobian.py'}")
    assert result.exit_code == 2 and "inside the submission folder" in result.output
    assert _tree(sub) == before and not (tmp_path / "r.json").exists()


def test_run_refuses_the_submission_through_a_symlink(tmp_path):
    sub = tmp_path / "sub"
    shutil.copytree(EXERCISES, sub)
    (tmp_path / "link").symlink_to(sub / "ex01_backward.py")
    before = _tree(sub)
    assert invoke("run", sub, "-o", tmp_path / "link").exit_code == 2
    assert _tree(sub) == before


def test_convert_refuses_to_overwrite_its_report(tmp_path):
    report = _a_report(tmp_path)
    before = report.read_bytes()
    for extra in ((), ("--append",)):
        result = invoke("convert", report, "-f", "markdown", "-o", report, *extra)
        assert result.exit_code == 2 and "is the input" in result.output
        assert report.read_bytes() == before


def test_collect_refuses_an_output_among_its_inputs(tmp_path):
    reps = tmp_path / "reps"
    reps.mkdir()
    report = _a_report(tmp_path)
    shutil.copyfile(report, reps / "alice.json")
    before = _tree(reps)
    for args in (["-o", reps / "alice.json"], ["-o", tmp_path / "g.csv", "--summary", reps / "summary.json"]):
        result = invoke("collect", reps, *args)
        assert result.exit_code == 2, result.output
        assert "inside the input folder" in result.output or "is the input" in result.output
        assert _tree(reps) == before and not (tmp_path / "g.csv").exists()
    result = invoke("collect", report, "-o", report)
    assert result.exit_code == 2 and "is the input" in result.output
    # A CSV beside the reports is no input: allowed.
    assert invoke("collect", reps, "-o", reps / "gradebook.csv").exit_code == 0


def test_collect_skips_a_class_summary_in_a_folder(tmp_path):
    reps = tmp_path / "graded"
    (reps / "reports").mkdir(parents=True)
    shutil.copyfile(_a_report(tmp_path), reps / "reports" / "alice.json")
    first = invoke("collect", reps, "-o", tmp_path / "g.csv", "--summary", tmp_path / "class-summary.json")
    assert first.exit_code == 0
    shutil.copyfile(tmp_path / "class-summary.json", reps / "class-summary.json")
    again = invoke("collect", reps, "-o", tmp_path / "g2.csv")
    assert again.exit_code == 0, again.output
    assert "1 submission(s)" in again.output and "class summary" not in again.output
    # Named as a file, it is not silently dropped.
    named = invoke("collect", reps / "class-summary.json", "-o", tmp_path / "g3.csv")
    assert named.exit_code == 2 and "a class summary, not a report" in named.output


def test_batch_refuses_an_output_folder_among_its_inputs(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(EXERCISES, subs / "alice")
    listing = tmp_path / "list.txt"
    listing.write_text("subs/alice\n")
    before = _tree(tmp_path)
    for source, out in ((subs, subs), (subs, subs / "graded"), (listing, subs / "alice"),
                        (listing, subs / "alice" / "graded")):
        result = invoke("batch", source, "-o", out)
        assert result.exit_code == 2, (source, out, result.output)
        assert "write the batch's output elsewhere" in result.output
        assert _tree(tmp_path) == before


def test_release_and_gradescope_refuse_outputs_inside_what_they_pack(tmp_path):
    from .conftest import ROOT

    for args in (["release", ROOT / "grader" / "student"], ["release", ROOT / "exercises" / "x"],
                 ["gradescope", ROOT / "grader" / "ag.zip"]):
        result = invoke(*args)
        assert result.exit_code == 2 and "elsewhere" in result.output, args
    assert not (ROOT / "grader" / "student").exists() and not (ROOT / "grader" / "ag.zip").exists()


# Exit statuses ---------------------------------------------------------------------------


def _interrupt(args: list[str], when: Path | float, **kw) -> subprocess.CompletedProcess:
    """Run ``grade ARGS`` in its own session and press Ctrl-C (SIGINT to the whole group, as a
    terminal does) after ``when`` seconds, or once the file ``when`` exists."""
    # A shell's background job starts with SIGINT ignored, and its children inherit that:
    # give the command the default disposition a terminal's foreground job has.
    process = subprocess.Popen([str(GRADE), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                               **kw)
    deadline = time.monotonic() + 300
    if isinstance(when, Path):
        while not when.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
    else:
        time.sleep(when)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_ctrl_c_exits_130_and_writes_no_report(tmp_path):
    out = tmp_path / "r.json"
    done = _interrupt(["run", str(SOLUTIONS), "-o", str(out)], 1.0)
    assert done.returncode == 130, done.stdout[-1000:] + done.stderr
    assert "interrupted" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_ctrl_c_while_student_code_runs_exits_130(tmp_path):
    sub = tmp_path / "sub"
    shutil.copytree(SOLUTIONS, sub)
    with open(sub / "ex03_vjp.py", "a", encoding="utf-8") as f:
        f.write("\n\ndef vjp(f, x, v):\n    while True:\n        pass\n")
    out = tmp_path / "r.json"
    done = _interrupt(["run", str(sub), "-o", str(out), "-k", "ex03_vjp.vjp", "--timeout", "60"], 6.0)
    assert done.returncode == 130, done.stdout[-1000:] + done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_ctrl_c_during_the_checks_exits_130(tmp_path, monkeypatch):
    """pytest catches KeyboardInterrupt itself; the grader must not call that a grader failure."""
    from grader import checkrun

    monkeypatch.setattr("pytest.main", lambda args, plugins: [p for p in plugins if isinstance(p, checkrun._Interrupt)]
                        [0].pytest_keyboard_interrupt(None) or 2)
    result = CliRunner().invoke(main, ["run", str(SOLUTIONS), "-o", str(tmp_path / "r.json"), "-k", "ex03"])
    assert result.exit_code == 130, result.output
    assert not (tmp_path / "r.json").exists()


def test_an_interrupted_batch_says_how_to_resume_and_resume_keeps_its_seed(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("a", "b", "c"):
        shutil.copytree(SOLUTIONS, subs / name)
    out = tmp_path / "out"
    done = _interrupt(["batch", str(subs), "-o", str(out), "--seed", "11", "--jobs", "1", "--timeout", "3"],
                      out / "reports" / "a.json")
    assert done.returncode == 130, done.stderr[-2000:]
    assert f"grade batch {subs} -o {out} --resume" in done.stderr
    assert json.loads((out / "batch.json").read_text())["seed"] == 11
    for bad in (["--seed", "12"], ["--timeout", "4"], ["-k", "ex03"], ["--lang", "zh"]):
        refused = invoke("batch", subs, "-o", out, "--resume", *bad)
        assert refused.exit_code == 2 and "--resume: this batch was started with" in refused.output, bad
    resumed = subprocess.run([str(GRADE), "batch", str(subs), "-o", str(out), "--resume", "--jobs", "1"],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    seeds = {json.loads(p.read_text())["seed"] for p in (out / "reports").glob("*.json")}
    assert seeds == {11} and len(list((out / "reports").glob("*.json"))) == 3
    timeouts = {json.loads(p.read_text())["limits"]["timeout_seconds"] for p in (out / "reports").glob("*.json")}
    assert timeouts == {3.0}


def test_resume_without_a_record_of_the_options_is_refused(tmp_path):
    (tmp_path / "subs" / "a").mkdir(parents=True)
    (tmp_path / "out" / "reports").mkdir(parents=True)
    (tmp_path / "out" / "reports" / "a.json").write_text("{}")
    result = invoke("batch", tmp_path / "subs", "-o", tmp_path / "out", "--resume")
    assert result.exit_code == 2 and "no record of their seed and options" in result.output


def test_an_internal_error_exits_three_with_a_traceback_file(tmp_path, monkeypatch):
    from grader import collect

    def broken(paths):
        raise ZeroDivisionError("a bug in the grader")

    monkeypatch.setattr(collect, "collect", broken)
    result = CliRunner().invoke(main, ["collect", str(tmp_path), "-o", str(tmp_path / "g.csv")])
    assert result.exit_code == 3
    assert "the grader itself failed: ZeroDivisionError: a bug in the grader" in result.output
    assert "Traceback" not in result.output
    path = result.output.split("(traceback: ")[1].split(")")[0]
    assert "ZeroDivisionError" in Path(path).read_text() and "Traceback" in Path(path).read_text()
    os.unlink(path)


# Language, colour, encoding ---------------------------------------------------------------


@pytest.mark.parametrize("env, lang", [
    ({"LANGUAGE": "zh_CN", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LANGUAGE": "fr:zh_CN", "LC_ALL": "en_US.UTF-8"}, "zh"),
    ({"LANGUAGE": "en", "LC_ALL": "zh_CN.UTF-8"}, "en"),
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_MESSAGES": "zh_TW", "LANG": "en_US"}, "zh"),
    ({"LANGUAGE": "", "LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "C"}, "en"),
    ({}, "en"),
])
def test_the_language_follows_gettexts_order(env, lang):
    assert i18n.default_language(env) == lang


def test_language_reaches_the_feedback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    done = subprocess.run([str(GRADE), "run", str(EXERCISES), "-k", "ex03_vjp.vjp", "-o", str(tmp_path / "r.json")],
                          capture_output=True, text=True, env={**env, "LANGUAGE": "zh_CN", "LANG": "C.UTF-8"})
    assert done.returncode == 0, done.stderr
    assert "总分" in done.stdout and json.loads((tmp_path / "r.json").read_text())["language"] == "zh"


@pytest.mark.parametrize("value, colour", [(None, True), ("", True), ("1", False), ("0", False)])
def test_only_a_non_empty_no_color_turns_colour_off(monkeypatch, value, colour):
    from grader import cli

    monkeypatch.delenv("NO_COLOR", raising=False)
    if value is not None:
        monkeypatch.setenv("NO_COLOR", value)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert cli._use_colour() is colour


@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "latin-1"])
def test_any_stdout_encoding_prints_without_a_crash(tmp_path, encoding):
    env = {**os.environ, "PYTHONIOENCODING": encoding, "NO_COLOR": "1"}
    done = subprocess.run([str(GRADE), "run", str(SOLUTIONS), "-k", "ex03", "--lang", "zh",
                           "-o", str(tmp_path / "r.json")], capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    # click takes an ASCII stdout for a misconfigured one and writes UTF-8 to it; to the others,
    # what they cannot encode is written as '?'.
    text = done.stdout.decode("utf-8" if encoding == "ascii" else encoding)
    assert "?" in text or encoding == "ascii"
    from grader.tasks import TASKS

    points = sum(t.points for t in TASKS if t.module == "ex03_vjp")
    assert f"{points}/{points}" in text and "Traceback" not in done.stderr.decode("utf-8", "replace")


def test_python_dash_m_grader_works(tmp_path):
    done = subprocess.run([sys.executable, "-m", "grader", "run", str(SOLUTIONS), "-k", "ex03_vjp.vjp",
                           "-o", str(tmp_path / "r.json")], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "6/6" in done.stdout
    assert subprocess.run([sys.executable, "-m", "grader", "--version"], capture_output=True, text=True,
                          cwd=tmp_path).stdout.startswith("autograd-lab")
