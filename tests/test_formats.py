"""The report formats (grader/formats): golden files, the platforms' schemas,
well-formed XML, and hidden checks that never show more than their feedback.

Golden files: tests/golden/report-en.json and report-zh.json are fixed input
reports (trimmed from real ones: passed, partial, failed, error, timeout,
forbidden, not implemented, missing, crashed and grader-error checks, hidden
and visible, English and Chinese); tests/golden/report-<lang>.<format suffix>
hold each format's expected output, compared byte for byte.

To regenerate the expected outputs after an intended change, run

    UPDATE_GOLDEN=1 python -m pytest tests/test_formats.py

and review the diff of tests/golden/ before committing it.
"""
from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from grader import report as report_mod
from grader.formats import FORMATS, github, gradescope, junit, markdown, render
from grader.formats._common import kind, xml_safe
from grader.status import Outcome, Status

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SCHEMAS = ROOT / "grader" / "schema"
LANGS = ("en", "zh")
SUFFIX = {"gradescope": "gradescope.json", "github": "github.json", "github-output": "github-output.txt",
          "junit": "junit.xml", "markdown": "md", "terminal": "terminal.txt"}
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def load(lang: str) -> dict:
    return json.loads((GOLDEN / f"report-{lang}.json").read_text(encoding="utf-8"))


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def all_checks(report: dict):
    for task in report["tasks"]:
        for check in task["checks"]:
            yield task, check


# ---------------------------------------------------------------- golden files

def test_every_format_has_a_golden_suffix():
    assert set(SUFFIX) == set(FORMATS)


@pytest.mark.parametrize("lang", LANGS)
def test_golden_inputs_are_valid_reports(lang):
    report_mod.validate(load(lang))


def test_golden_inputs_cover_every_case():
    en, zh = load("en"), load("zh")
    statuses = {t["status"] for r in (en, zh) for t in r["tasks"]}
    outcomes = {c["outcome"] for r in (en, zh) for _, c in all_checks(r)}
    assert statuses == set(Status)
    assert outcomes == set(Outcome)
    for r in (en, zh):
        visibilities = {(c["visibility"], c["outcome"] == "passed") for _, c in all_checks(r)}
        assert {("hidden", True), ("hidden", False), ("visible", True), ("visible", False)} <= visibilities
    assert (en["language"], zh["language"]) == ("en", "zh")
    assert zh["grader_errors"] and not en["grader_errors"]
    # Text a careless renderer would break: markup, table pipes, a control character.
    assert any("\x1b" in c["feedback"] and "<b>" in c["feedback"] and "|" in c["feedback"]
               for _, c in all_checks(en))


@pytest.mark.parametrize("name", ["report-v1.json", "gradescope-results.json", "github-classroom-result.json"])
def test_every_shipped_schema_is_a_valid_json_schema(name):
    """Checked here, once, rather than by every run that validates a report."""
    import jsonschema

    from grader.report import SCHEMA_PATH

    schema = json.loads((SCHEMA_PATH.parent / name).read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_the_schema_knows_exactly_the_status_types():
    """One vocabulary: the report schema's enums are the status types, nothing more or less."""
    task = report_mod.schema()["properties"]["tasks"]["items"]["properties"]
    check = task["checks"]["items"]["properties"]
    assert set(task["status"]["enum"]) == {s.value for s in Status}
    assert set(check["outcome"]["enum"]) == {o.value for o in Outcome}
    assert set(report_mod.schema()["properties"]["summary"]["properties"]) == {s.value for s in Status}


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
@pytest.mark.parametrize("lang", LANGS)
def test_golden_output(lang, fmt):
    got = render(load(lang), fmt)
    path = GOLDEN / f"report-{lang}.{SUFFIX[fmt]}"
    if UPDATE:
        path.write_text(got, encoding="utf-8", newline="")
    assert path.exists(), f"{path.name} is missing: run UPDATE_GOLDEN=1 python -m pytest {__file__}"
    assert got == path.read_bytes().decode("utf-8"), (
        f"{fmt} output differs from {path.name}; if the change is intended, regenerate with UPDATE_GOLDEN=1")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_render_is_pure_and_deterministic(fmt):
    report = load("en")
    before = copy.deepcopy(report)
    first = render(report, fmt)
    assert report == before, "render changed its input"
    assert render(report, fmt) == first
    assert first.endswith("\n") and not first.endswith("\n\n")


@pytest.mark.parametrize("lang", LANGS)
def test_golden_lost_points_add_up(lang):
    for task in load(lang)["tasks"]:
        assert round(sum(g["points"] for g in task["lost"]), 4) == round(task["max_score"] - task["score"], 4)


def test_registry():
    assert FORMATS["gradescope"] == (gradescope.render, "results.json")
    assert FORMATS["github"][0] is github.render
    assert FORMATS["github-output"] == (github.render_step_output, None)
    assert FORMATS["junit"][0] is junit.render and FORMATS["markdown"][0] is markdown.render
    with pytest.raises(ValueError, match="unknown format"):
        render(load("en"), "pdf")


# ---------------------------------------------------------------- status mapping

@pytest.mark.parametrize("outcome, expected", [
    ("passed", "passed"), ("failed", "failed"), ("forbidden", "failed"), ("not_implemented", "failed"),
    ("missing", "failed"), ("error", "error"), ("timeout", "error"), ("crashed", "error"),
    ("grader_error", "error"), ("something_new", "failed")])
def test_outcome_kinds(outcome, expected):
    points = 1.0 if outcome == "passed" else 0.0
    assert kind({"outcome": outcome, "score": points, "max_score": 1.0}) == expected


def test_a_passed_check_scored_zero_is_a_failure_everywhere():
    """A task forbidden at run time keeps its checks' outcomes but scores them 0."""
    report = load("en")
    task = report["tasks"][0]
    task.update(status="forbidden", score=0.0)
    del task["lost"]  # a report written before lost points were grouped: the views group by feedback
    for check in task["checks"]:
        check["score"] = 0.0
    report["score"] = sum(t["score"] for t in report["tasks"])
    report["percent"] = round(100 * report["score"] / report["max_score"], 2)
    report_mod.validate(report)
    n = len(task["checks"])
    assert [t["status"] for t in gradescope.results(report)["tests"][:n]] == ["failed"] * n
    assert [t["status"] for t in github.result(report)["tests"][:n]] == ["fail"] * n
    suite = ET.fromstring(junit.render(report)).find("testsuite")
    assert suite.get("failures") == str(n) and len(suite.findall("testcase/failure")) == n
    page = markdown.render(report)
    assert f"**`{task['id']}`** −4" in page and "on 4 checks: forbidden" in page


# ---------------------------------------------------------------- Gradescope

@pytest.mark.parametrize("lang", LANGS)
def test_gradescope_matches_the_documented_schema(lang):
    jsonschema.validate(json.loads(gradescope.render(load(lang))), schema("gradescope-results.json"))


def test_gradescope_schema_rejects_what_gradescope_does_not_document():
    good = gradescope.results(load("en"))
    validator = jsonschema.Draft202012Validator(schema("gradescope-results.json"))
    assert validator.is_valid(good)
    for broken in ({**good, "visibility": "never"}, {**good, "tests": [{**good["tests"][0], "status": "error"}]},
                   {**good, "tests": [{**good["tests"][0], "number": 1.1}]}, {**good, "scor": 1},
                   {k: v for k, v in good.items() if k not in ("score", "tests")}):
        assert not validator.is_valid(broken)


@pytest.mark.parametrize("lang", LANGS)
def test_gradescope_tests_follow_the_checks(lang):
    report = load(lang)
    out = gradescope.results(report)
    assert out["score"] == report["score"] and out["execution_time"] == round(report["duration_seconds"])
    assert isinstance(out["execution_time"], int)
    assert out["stdout_visibility"] == "hidden" and out["visibility"] == "visible"
    assert {out["output_format"], out["test_output_format"], out["test_name_format"]} == {"text"}
    tests = out["tests"]
    assert len(tests) == sum(len(t["checks"]) for t in report["tasks"])
    assert sum(t["score"] for t in tests) == pytest.approx(report["score"])
    numbers = [f"{i}.{j}" for i, t in enumerate(report["tasks"], 1) for j in range(1, len(t["checks"]) + 1)]
    assert [t["number"] for t in tests] == numbers
    for test, (task, check) in zip(tests, all_checks(report)):
        assert test["name"] == f"{task['id']}: {check['title']}"
        assert test["visibility"] == ("after_published" if check["visibility"] == "hidden" else "visible")
        assert test["status"] == ("passed" if check["outcome"] == "passed" else "failed")
        assert test["output"] == check["feedback"]
        assert (test["score"], test["max_score"]) == (check["score"], check["max_score"])


# ---------------------------------------------------------------- GitHub Classroom

@pytest.mark.parametrize("lang", LANGS)
def test_github_matches_the_reporter_schema(lang):
    jsonschema.validate(json.loads(github.render(load(lang))), schema("github-classroom-result.json"))


@pytest.mark.parametrize("lang", LANGS)
def test_github_step_output_is_what_the_reporter_decodes(lang):
    report = load(lang)
    line = github.render_step_output(report)
    assert line.startswith("result=") and line.endswith("\n") and line.count("\n") == 1
    encoded = line[len("result="):-1]
    assert set(encoded) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    # The reporter: JSON.parse(Buffer.from(value, "base64").toString("utf-8"))
    decoded = json.loads(base64.b64decode(encoded, validate=True).decode("utf-8"))
    assert decoded == github.result(report) == json.loads(github.render(report))
    jsonschema.validate(decoded, schema("github-classroom-result.json"))


def test_github_points_and_statuses():
    en, zh = load("en"), load("zh")
    for report in (en, zh):
        out = github.result(report)
        # What the reporter shows and sends: the sum of tests[].score over max_score.
        assert sum(t["score"] for t in out["tests"]) == pytest.approx(report["score"])
        assert out["max_score"] == report["max_score"] and out["version"] == 1
        assert all(t["line_no"] == 0 for t in out["tests"])
        for test, (task, check) in zip(out["tests"], all_checks(report)):
            expected = {"passed": "pass", "failed": "fail", "error": "error"}[kind(check)]
            assert test["status"] == expected and test["message"] == check["feedback"]
            assert test["test_code"] == f"grade run -k {task['id']} --seed {report['seed']}"
    assert github.result(en)["status"] == "fail"
    assert github.result(zh)["status"] == "error"          # the grader failed on a check
    passing = copy.deepcopy(en)
    passing["tasks"] = passing["tasks"][:1]
    assert github.result(passing)["status"] == "pass"


# ---------------------------------------------------------------- JUnit

@pytest.mark.parametrize("lang", LANGS)
def test_junit_is_well_formed_and_counts(lang):
    report = load(lang)
    text = junit.render(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))  # expat: any ill-formed XML raises
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [t["id"] for t in report["tasks"]]
    checks = list(all_checks(report))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(checks) == int(root.get("tests"))
    assert int(root.get("failures")) == sum(kind(c) == "failed" for _, c in checks)
    assert int(root.get("errors")) == sum(kind(c) == "error" for _, c in checks)
    for case, (task, check) in zip(cases, checks):
        assert case.get("classname") == task["id"] and case.get("name") == check["title"]
        verdict = kind(check)
        children = list(case)
        if verdict == "passed":
            assert children == []
        else:
            (child,) = children
            assert child.tag == {"failed": "failure", "error": "error"}[verdict]
            assert child.text == child.get("message") == xml_safe(check["feedback"])
            assert child.get("type") == check["outcome"]
    for suite, task in zip(suites, report["tasks"]):
        props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
        assert props["status"] == task["status"] and float(props["score"]) == task["score"]


def test_junit_survives_characters_xml_cannot_hold():
    report = load("en")
    check = report["tasks"][0]["checks"][1]
    check.update(outcome="failed", score=0.0, code="raised",
                 feedback="nul \x00 bell \x07 esc \x1b ]]> </failure> & \ud800 \uffff")
    report["tasks"][0].update(score=3.0, status="partial")
    report["score"] -= 1.0
    root = ET.fromstring(junit.render(report).encode("utf-8"))
    failure = root.find("testsuite/testcase[2]/failure")
    assert failure.text == "nul \\x00 bell \\x07 esc \\x1b ]]> </failure> & \\ud800 \\uffff"


# ---------------------------------------------------------------- Markdown

def test_markdown_labels_follow_the_language():
    en, zh = markdown.render(load("en")), markdown.render(load("zh"))
    assert en.startswith("## autograd-lab results\n") and "**Total: 8/30 (26.67%)**" in en
    assert "| Task | Points | Status |" in en and "### Lost points" in en
    assert zh.startswith("## autograd-lab 评分结果\n") and "**总分：17/30 (56.67%)**" in zh
    assert "| 任务 | 得分 | 状态 |" in zh and "### 失分与反馈" in zh and "部分通过" in zh
    assert "评分程序本身在 1 项检查上出错" in zh


def test_markdown_table_and_escaping():
    report = load("en")
    page = markdown.render(report)
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) == len(report["tasks"])
    assert all(line.replace("\\|", "").count("|") == 4 for line in page.splitlines() if line.startswith("|"))
    assert "<b>" not in page and "\x1b" not in page and "\\<b\\>value\\</b\\>" in page
    lost = [line for line in page.splitlines() if line.startswith("- **−")]
    # Lost points add up to what the report lost.
    total = sum(float(line.split("**−", 1)[1].split("**", 1)[0]) for line in lost)
    assert total == pytest.approx(report["max_score"] - report["score"])


def test_markdown_tells_the_student_release_about_hidden_checks():
    for lang, text in (("en", "Your instructor's grader also runs 60 hidden checks (70 points)."),
                       ("zh", "教师的评分程序还会运行 60 项隐藏检查（共 70 分）。")):
        report = load(lang)
        report["hidden_checks"] = {"count": 60, "points": 70.0}
        report_mod.validate(report)
        assert f"\n\n{text}\n\n" in markdown.render(report)
        assert text not in markdown.render(load(lang))


def test_markdown_makes_no_link_or_mention_from_student_text():
    """An exception message is the student's text: in a job summary it must not become
    a link or ping anyone, and must still read the same."""
    line = markdown.escape("GRADER NOTICE: see https://evil.example/regrade or www.evil.example, ask @course-staff")
    assert "://" not in line and "www." not in line and "@" not in line
    assert "https&#58;//evil.example/regrade" in line and "&#64;course-staff" in line


def test_markdown_when_nothing_is_lost():
    report = load("en")
    report["tasks"] = report["tasks"][:1]
    report.update(score=4.0, max_score=4.0, percent=100.0)
    page = markdown.render(report)
    assert "No points lost." in page and "- **−" not in page


# ---------------------------------------------------------------- hidden checks

SECRETS = {"code": "SECRET-CODE", "hint": "SECRET-HINT", "expected": "SECRET-EXPECTED-VALUE",
           "params": {"expected": "SECRET-PARAM"}}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("lang", LANGS)
def test_hidden_checks_show_nothing_beyond_their_feedback(lang, fmt):
    """Everything a hidden check's entry holds besides its title, score and feedback
    (its code, hint, or any field a later grader might add) stays out of every format."""
    report = load(lang)
    for _, check in all_checks(report):
        if check["visibility"] == "hidden":
            check.update(copy.deepcopy(SECRETS))
    text = render(report, fmt)
    if fmt == "github-output":
        text = base64.b64decode(text.split("=", 1)[1]).decode("utf-8")
    assert "SECRET" not in text


@pytest.mark.parametrize("lang", LANGS)
def test_hidden_check_entries_hold_only_their_feedback(lang):
    report = load(lang)
    hidden = [(t, c) for t, c in all_checks(report) if c["visibility"] == "hidden"]
    assert hidden
    scope = [(gradescope.results(report)["tests"], "output"), (github.result(report)["tests"], "message")]
    for tests, field in scope:
        entries = {t["name"]: t for t in tests}
        for task, check in hidden:
            entry = entries[f"{task['id']}: {check['title']}"]
            assert entry[field] == check["feedback"]
    for test in gradescope.results(report)["tests"]:
        assert set(test) == {"name", "number", "score", "max_score", "status", "output", "tags", "visibility"}


# ---------------------------------------------------------------- a real report

@pytest.fixture(scope="module")
def real_report(server):
    from grader import api

    from .conftest import SOLUTIONS

    result = api.grade(str(SOLUTIONS), server=server, seed=5, patterns=("ex03_vjp.*",))
    report_mod.validate(result)
    return result


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_real_report_renders_in_every_format(real_report, fmt):
    text = render(real_report, fmt)
    if fmt == "gradescope":
        jsonschema.validate(json.loads(text), schema("gradescope-results.json"))
    elif fmt == "github":
        jsonschema.validate(json.loads(text), schema("github-classroom-result.json"))
    elif fmt == "github-output":
        decoded = json.loads(base64.b64decode(text.split("=", 1)[1]).decode("utf-8"))
        assert decoded["status"] == "pass"
    elif fmt == "junit":
        root = ET.fromstring(text.encode("utf-8"))
        assert root.get("failures") == "0" and root.get("errors") == "0"
    elif fmt == "terminal":
        assert "Total 20/20 (100%)" in text and "−" not in text
    else:
        assert "No points lost." in text


def test_formats_do_not_import_torch():
    code = ("import sys, grader.formats, grader.collect, grader.cli_reports; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_the_validator_is_built_on_a_thread_beside_the_checks():
    """grade run builds the report's validator while its checks wait for the sandbox;
    validate() waits for it, and the interpreter's switch interval comes back."""
    import sys

    before = sys.getswitchinterval()
    report_mod._validator.cache_clear()
    report_mod.prepare_validator()
    report_mod.prepare_validator()  # once only
    assert len(report_mod._building) <= 1
    with pytest.raises(Exception):
        report_mod.validate({"schema_version": "not a report"})
    assert not report_mod._building and report_mod._validator.cache_info().currsize == 1
    assert sys.getswitchinterval() == before
