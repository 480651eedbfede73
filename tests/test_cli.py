"""The command line, as a user meets it: options, exit statuses, the report on disk."""
from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner

from grader import report
from grader.cli import main
from grader.tasks import TASKS

from .conftest import EXERCISES, SOLUTIONS


def invoke(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {"NO_COLOR": "1"}, catch_exceptions=False)


def test_solutions_score_full_marks_and_the_report_validates(tmp_path):
    out = tmp_path / "r.json"
    result = invoke("run", str(SOLUTIONS), "-o", str(out), "--seed", "7")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    report.validate(data)
    assert data["score"] == data["max_score"] == 130  # the contract: 24 tasks, 130 points
    assert data["seed"] == 7
    assert len(data["tasks"]) == 24
    assert "Total 130/130" in result.output


def test_stubs_score_zero_and_exit_zero(tmp_path):
    out = tmp_path / "r.json"
    result = invoke("run", str(EXERCISES), "-o", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    report.validate(data)
    assert data["score"] == 0
    statuses = {t["status"] for t in data["tasks"]}
    assert statuses <= {"not_implemented", "failed", "error"}
    # Only the fix-the-bug stub whose bug raises (the note's test_with_v) is an error.
    assert [t["id"] for t in data["tasks"] if t["status"] == "error"] == ["ex03_vjp.vjps_on_one_graph"]


def test_fail_under_exits_one_with_a_report(tmp_path):
    out = tmp_path / "r.json"
    result = invoke("run", str(EXERCISES), "-o", str(out), "-k", "ex03", "--fail-under", "50")
    assert result.exit_code == 1
    assert out.exists()


def test_a_folder_holding_exercises_is_accepted(tmp_path):
    import shutil

    shutil.copytree(SOLUTIONS, tmp_path / "repo" / "exercises")
    out = tmp_path / "r.json"
    result = invoke("run", str(tmp_path / "repo"), "-o", str(out), "-k", "ex03")
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["score"] == 20


@pytest.mark.parametrize("args, message", [
    (["run", "/no/such/folder"], "no such file"),
    (["run", "{tmp}"], "no exercise modules"),
    (["run", str(SOLUTIONS), "-k", "nothing_matches"], "no task matches"),
    (["run", str(SOLUTIONS), "-o", "/no/such/dir/r.json"], "does not exist"),
    (["run", str(SOLUTIONS), "-o", "{tmp}"], "is a folder"),
    (["run", str(SOLUTIONS), "--seed", "-1"], "seed"),
    (["run", str(SOLUTIONS), "--fail-under", "101"], "fail-under"),
    (["run", str(SOLUTIONS / "ex01_backward.py")], "not a folder"),
])
def test_bad_input_is_one_clear_line_and_exit_two(args, message, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output.lower() or message in result.output
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_list_shows_every_task_and_the_total():
    result = invoke("list")
    assert result.exit_code == 0
    assert "ex02_jacobian.jacobian_from_vjps" in result.output
    assert "130" in result.output.splitlines()[-1]


def test_version_and_help():
    assert "0." in invoke("--version").output
    help_text = invoke("run", "--help").output
    for option in ("--output", "--seed", "--task", "--fail-under", "--timeout", "--memory", "--lang"):
        assert option in help_text


def test_extra_formats_are_written_beside_the_report(tmp_path):
    out = tmp_path / "r.json"
    result = invoke("run", str(SOLUTIONS), "-o", str(out), "-k", "ex03", "--format", f"junit={tmp_path / 'j.xml'}",
                    "--format", f"markdown={tmp_path / 's.md'}")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "j.xml").read_text().startswith("<?xml")
    assert "20/20" in (tmp_path / "s.md").read_text()


def test_an_unknown_format_is_refused_before_grading(tmp_path):
    result = CliRunner().invoke(main, ["run", str(SOLUTIONS), "-o", str(tmp_path / "r.json"), "--format", "pdf"])
    assert result.exit_code == 2 and "unknown format" in result.output
    assert not (tmp_path / "r.json").exists()


def test_explain_shows_the_task_and_the_hints_earned(tmp_path):
    report = {"tasks": [{"id": "ex03_vjp.vjp", "checks": [{"hint": "jv_not_jtv"}, {"hint": ""}]}]}
    (tmp_path / "r.json").write_text(json.dumps(report))
    en = invoke("explain", "vjp", "-r", str(tmp_path / "r.json"), "--lang", "en")
    assert en.exit_code == 0 and "vjp(f, x, v)" in en.output and "J·v" in en.output
    zh = invoke("explain", "ex03_vjp.vjp", "-r", str(tmp_path / "r.json"), "--lang", "zh")
    assert "向量-雅可比积" in zh.output
    missing = invoke("explain", "vjp", "-r", str(tmp_path / "none.json"))
    assert "grade run" in missing.output
    assert invoke("explain", "no_such_task").exit_code == 2


def test_the_report_is_an_ordinary_file(tmp_path):
    import os
    import stat

    out = tmp_path / "r.json"
    old = os.umask(0o022)
    try:
        assert invoke("run", str(SOLUTIONS), "-o", str(out), "-k", "ex03_vjp.vjp").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_a_grader_failure_exits_three_with_one_line(tmp_path, monkeypatch):
    from grader.sandbox import client

    def broken(self, *args, **kwargs):
        raise client.SandboxError("the sandbox server stopped answering: test")

    monkeypatch.setattr(client.Server, "open", broken)
    result = CliRunner().invoke(main, ["run", str(SOLUTIONS), "-o", str(tmp_path / "r.json"), "-k", "ex03"],
                                env={"NO_COLOR": "1"})
    assert result.exit_code == 3
    assert "the grader itself failed" in result.output and "Traceback" not in result.output


def test_selftest_and_release_need_the_instructor_repository(tmp_path):
    for command in (["selftest", "--root", str(tmp_path)], ["release", str(tmp_path / "out"), "--root", str(tmp_path)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2 and "instructor repository" in result.output


# A report is always written --------------------------------------------------------


def _boom(*args, **kwargs):
    raise RuntimeError("injected failure \x1b[31m{0.__class__}\n::error::x")


def _failure_report(tmp_path, result):
    """The run exited 3 with one line, and left a schema-valid report."""
    assert result.exit_code == 3, result.output
    assert "the grader itself failed" in result.output and "Traceback" not in result.output
    failure_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(failure_lines) == 1 and "\x1b[31m" not in failure_lines[0], result.output
    data = json.loads((tmp_path / "r.json").read_text())
    jsonschema.validate(data, report.schema())  # not report.validate, which a test may break
    assert data["grader_errors"]
    return data


@pytest.mark.parametrize("target", [
    "grader.api.read",                          # reading and scanning the submission
    "grader.static.static_verdict",             # the static verdicts
    "grader.sandbox.client.Server.__init__",    # starting the sandbox
    "grader.checkrun.run_session",              # running the checks
    "grader.checkrun.GradingPlugin.pytest_collection_modifyitems",  # the grading plugin inside pytest
    "grader.checkrun.GradingPlugin.run",        # the plugin's run of one submission
    "grader.checking.load_manifest",            # building the report
    "grader.report.validate",                   # validating it
])
def test_a_failure_at_any_stage_still_writes_a_report(target, tmp_path, monkeypatch):
    monkeypatch.setattr(target, _boom)
    result = CliRunner().invoke(main, ["run", str(SOLUTIONS), "-o", str(tmp_path / "r.json"), "-k", "ex03"],
                                env={"NO_COLOR": "1"})
    data = _failure_report(tmp_path, result)
    assert {t["status"] for t in data["tasks"]} == {"error"}
    assert {t["id"] for t in data["tasks"]} == {t.id for t in TASKS if t.module == "ex03_vjp"}
    assert all(c["outcome"] == "grader_error" for t in data["tasks"] for c in t["checks"])
    assert data["score"] == 0


def test_a_report_that_cannot_be_serialised_is_replaced_by_the_failure_report(tmp_path, monkeypatch):
    from grader import api

    real = api.grade

    def unserialisable(*args, **kwargs):
        built = real(*args, **kwargs)
        built["tasks"][0]["checks"][0]["seconds"] = object()  # passes the schema check, not json.dumps
        return built

    monkeypatch.setattr(api, "grade", unserialisable)
    monkeypatch.setattr(report, "validate", lambda data: None)
    result = CliRunner().invoke(main, ["run", str(SOLUTIONS), "-o", str(tmp_path / "r.json"), "-k", "ex03"],
                                env={"NO_COLOR": "1"})
    data = _failure_report(tmp_path, result)
    assert {t["status"] for t in data["tasks"]} == {"error"}


def test_a_failure_building_one_task_costs_that_task_only(tmp_path, monkeypatch):
    from grader import report as report_mod

    real = report_mod._task_entry

    def flaky(task, *args, **kwargs):
        if task.name == "vjp":
            raise RuntimeError("injected")
        return real(task, *args, **kwargs)

    monkeypatch.setattr(report_mod, "_task_entry", flaky)
    result = CliRunner().invoke(main, ["run", str(SOLUTIONS), "-o", str(tmp_path / "r.json"), "-k", "ex03"],
                                env={"NO_COLOR": "1"})
    data = _failure_report(tmp_path, result)
    tasks = {t["id"]: t for t in data["tasks"]}
    assert tasks["ex03_vjp.vjp"]["status"] == "error"
    assert tasks["ex03_vjp.multitask_grads"]["status"] == "passed"


def test_a_check_that_breaks_costs_its_checks_and_exits_three(tmp_path, monkeypatch):
    import grader.checking

    real = grader.checking.Inputs.randn
    calls = []

    def flaky(self, *args, **kwargs):  # the checks' inputs fail for some checks only
        calls.append(1)
        return _boom() if len(calls) % 3 == 0 else real(self, *args, **kwargs)

    monkeypatch.setattr(grader.checking.Inputs, "randn", flaky)
    result = CliRunner().invoke(main, ["run", str(SOLUTIONS), "-o", str(tmp_path / "r.json"), "-k", "ex03"],
                                env={"NO_COLOR": "1"})
    data = _failure_report(tmp_path, result)
    outcomes = {c["outcome"] for t in data["tasks"] for c in t["checks"]}
    assert "grader_error" in outcomes and "passed" in outcomes


@pytest.mark.parametrize("broken", ["junit", "summary"])
def test_a_broken_view_leaves_the_report_written(broken, tmp_path, monkeypatch):
    from grader import formats
    from grader.formats import terminal as summary

    if broken == "summary":
        monkeypatch.setattr(summary, "render", _boom)
    else:
        monkeypatch.setitem(formats.FORMATS, "junit", (_boom, "junit.xml"))
    result = CliRunner().invoke(main, ["run", str(SOLUTIONS), "-o", str(tmp_path / "r.json"), "-k", "ex03",
                                       "--format", f"junit={tmp_path / 'j.xml'}",
                                       "--format", f"markdown={tmp_path / 's.md'}"], env={"NO_COLOR": "1"})
    assert result.exit_code == 3 and "the grader itself failed" in result.output
    data = json.loads((tmp_path / "r.json").read_text())
    report.validate(data)
    assert data["score"] == data["max_score"] == sum(t.points for t in TASKS if t.module == "ex03_vjp")
    assert (tmp_path / "s.md").exists()


INJECT = """
import sys
import {module} as target
def boom(*a, **k):
    raise RuntimeError("injected failure")
setattr(target, {name!r}, boom)
from grader.cli import entry
entry()
"""


@pytest.mark.parametrize("module, name", [("grader.api", "read"), ("grader.checkrun", "run_session"),
                                          ("grader.checking", "load_manifest")])
def test_a_real_grade_run_that_fails_writes_a_report(module, name, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-c", INJECT.format(module=module, name=name), "run", str(SOLUTIONS),
                           "-k", "ex03", "-o", str(out)], capture_output=True, text=True, timeout=300,
                          env={"NO_COLOR": "1", "PATH": ""})
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("\n") == 1 and "injected failure" in done.stderr
    data = json.loads(out.read_text())
    report.validate(data)
    assert {t["status"] for t in data["tasks"]} == {"error"}


def test_a_batch_submission_the_grader_fails_on_still_gets_its_report(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from grader import api, pool
    from grader.options import Options
    from grader.sandbox import isolation

    monkeypatch.setattr(api, "prepare", _boom)
    monkeypatch.setattr(isolation, "is_kernel", lambda described: True)
    out = tmp_path / "alice.json"
    job = {"path": str(SOLUTIONS), "out": str(out), "digest": "0" * 64, "name": "alice",
           "options": Options(seed=1, patterns=("ex03",), timeout=5.0, memory_mb=512).to_json()}
    answers = []
    pool.grade_jobs([job], SimpleNamespace(wait_ready=lambda: None, isolation={}), answers.append)
    assert len(answers) == 1 and "injected failure" in answers[0]["error"]
    data = json.loads(out.read_text())
    report.validate(data)
    assert {t["status"] for t in data["tasks"]} == {"error"} and data["grader_errors"]


@pytest.mark.parametrize("formats", [["markdown=r.json"], ["junit=r.json"], ["junit=x.md", "markdown=x.md"],
                                     ["gradescope"], ["markdown=./sub/../r.json"]])
def test_two_outputs_to_one_file_are_refused_before_grading(tmp_path, monkeypatch, formats):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    output = "results.json" if formats == ["gradescope"] else "r.json"
    (tmp_path / output).write_text('{"a good": "report"}')
    args = ["run", str(SOLUTIONS), "-o", output, "-k", "grad_of_2xtx"]
    for spec in formats:
        args += ["--format", spec]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "the same file as" in result.output and result.output.strip().count("\n") == 0
    assert (tmp_path / output).read_text() == '{"a good": "report"}'
    assert not (tmp_path / "x.md").exists()


@pytest.mark.parametrize("args", [["run", str(EXERCISES), "--timeout", "nan"],
                                  ["run", str(EXERCISES), "--fail-under", "nan"],
                                  ["run", str(EXERCISES), "--fail-under", "NaN"],
                                  ["batch", str(EXERCISES.parent), "--timeout", "nan"],
                                  ["gradescope", "ag.zip", "--timeout", "-nan"]])
def test_nan_is_refused_for_every_number_option(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*args, "-o", "out"] if args[0] == "batch" else [*args, "-o", "r.json"]
                                if args[0] == "run" else args)
    assert result.exit_code == 2, result.output
    assert "is not a number" in result.output and "grader itself failed" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_run_inside_the_exercises_folder_grades_it_and_writes_the_report_beside_it(tmp_path, monkeypatch):
    folder = tmp_path / "repo" / "exercises"
    folder.parent.mkdir()
    import shutil

    shutil.copytree(EXERCISES, folder)
    before = sorted(p.name for p in folder.iterdir())
    monkeypatch.chdir(folder)
    for args in ([], ["."]):
        result = CliRunner().invoke(main, ["run", *args, "-k", "grad_of_2xtx", "--seed", "1"], env={"NO_COLOR": "1"})
        assert result.exit_code == 0, result.output
        assert "the report goes outside it, to ../grade-report.json" in result.output
        data = json.loads((tmp_path / "repo" / "grade-report.json").read_text())
        assert data["score"] == 0 and data["selection"] == ["grad_of_2xtx"]
        (tmp_path / "repo" / "grade-report.json").unlink()
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written into the submission
    # An explicit -o inside it is still refused; the default outside it is used by explain.
    refused = CliRunner().invoke(main, ["run", "-o", "r.json", "-k", "grad_of_2xtx"])
    assert refused.exit_code == 2 and "inside the submission folder" in refused.output
    CliRunner().invoke(main, ["run", "-k", "vjp", "--seed", "1"])
    explained = CliRunner().invoke(main, ["explain", "vjp", "--lang", "en"])
    assert explained.exit_code == 0 and "No report at" not in explained.output, explained.output


def test_run_elsewhere_without_exercises_still_says_where_they_are(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 2 and "no such folder here" in result.output




def test_a_folder_name_that_is_not_utf8_gets_its_report(tmp_path):
    """An LMS download unzipped on Linux names folders in GBK: the report keeps the name, escaped."""
    import os
    import shutil

    folder = tmp_path / os.fsdecode(b"wang_\xcd\xf5")
    shutil.copytree(SOLUTIONS, folder)
    result = CliRunner().invoke(main, ["run", str(folder), "-o", str(tmp_path / "r.json"), "-k", "ex01"],
                                env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    report.validate(data)
    assert data["submission"]["path"].endswith("/wang_\\xcd\\xf5") and data["score"] == data["max_score"]
