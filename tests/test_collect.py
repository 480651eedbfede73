"""``grade collect`` / grader.collect (gradebook and class summary) and ``grade convert``.

The commands are invoked directly with click's CliRunner (they are attached to
the ``grade`` group elsewhere). The class of 50 is made from one real report
(the solutions, graded once per module) by editing copies: other submission
paths and file digests, other seeds, lost checks.
"""
from __future__ import annotations

import base64
import copy
import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import report as report_mod
from grader.cli_reports import collect as collect_cmd
from grader.cli_reports import convert as convert_cmd
from grader.collect import CSV_HEAD, ReportError, collect, load_report
from grader.formats import FORMATS
from grader.tasks import TASKS

GOLDEN = Path(__file__).resolve().parent / "golden"
TASK_IDS = [t.id for t in TASKS]
HINTS = ("accumulated", "transposed", "jv_not_jtv")


def golden(lang: str = "en") -> dict:
    return json.loads((GOLDEN / f"report-{lang}.json").read_text(encoding="utf-8"))


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, (str, bytes)) else json.dumps(data, ensure_ascii=False, indent=1)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def rows(csv_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_text)))


@pytest.fixture(scope="module")
def real_report(server):
    from grader import api

    from .conftest import SOLUTIONS

    result = api.grade(str(SOLUTIONS), server=server, seed=3)
    report_mod.validate(result)
    assert [t["id"] for t in result["tasks"]] == TASK_IDS
    return result


def student(base: dict, i: int) -> dict:
    """Student i's report: base with its own path, file digests and seed, and
    some checks lost (a pattern that varies with i and the task)."""
    r = copy.deepcopy(base)
    r["seed"] = 1000 + i
    r["submission"]["path"] = f"/classroom/student{i:02d}/exercises"
    for f in r["submission"]["files"]:
        f["sha256"] = hashlib.sha256(f"student{i}:{f['module']}".encode()).hexdigest()
    for j, task in enumerate(r["tasks"]):
        checks = task["checks"]
        if (i + j) % 5 == 0:
            lost = checks                       # the whole task
        elif (i * j) % 3 == 1:
            lost = checks[-1:]                  # its last check
        else:
            lost = []
        for c in lost:
            c.update(outcome="failed", score=0.0, code="wrong_values", hint=HINTS[(i + j) % 3],
                     feedback="differs from the right answer on this input")
        task["score"] = round(sum(c["score"] for c in checks), 4)
        task["status"] = ("passed" if task["score"] == task["max_score"]
                          else "partial" if task["score"] > 0 else "failed")
    r["score"] = round(sum(t["score"] for t in r["tasks"]), 4)
    r["percent"] = round(100.0 * r["score"] / r["max_score"], 2)
    report_mod.validate(r)
    return r


# ---------------------------------------------------------------- a class of 50

def test_collect_a_class_of_50_with_bad_inputs(tmp_path, real_report):
    art = tmp_path / "artifacts"
    students = [student(real_report, i) for i in range(50)]
    for i, r in enumerate(students):   # as download-artifact leaves them: a folder per artifact, nested
        sub = f"reports-{i % 4}" + ("/nested/deeper" if i % 10 == 9 else "")
        write(art / sub / f"student{i:02d}.json", r)
    write(art / "reports-0" / "notes.txt", "not a report, and not *.json: ignored")
    truncated = json.dumps(students[0])[:500]
    v2 = copy.deepcopy(students[1])
    v2["schema_version"] = 2
    for f in v2["submission"]["files"]:
        f["sha256"] = "0" * 64
    invalid = copy.deepcopy(students[2])
    del invalid["tasks"]
    bad = {
        write(art / "reports-1" / "corrupt-truncated.json", truncated): "corrupt JSON",
        write(art / "reports-2" / "corrupt-binary.json", bytes(range(256))): "corrupt JSON",
        write(art / "reports-0" / "package.json", {"name": "not-a-report"}): "not a grade report",
        write(art / "reports-3" / "v2.json", v2): "schema_version 2",
        write(art / "reports-1" / "invalid.json", invalid): "not a valid schema-1 report",
        write(art / "reports-2" / "again" / "student07.json", students[7]): "duplicate of",
    }
    gradebook, summary_path = tmp_path / "gradebook.csv", tmp_path / "class-summary.json"

    result = CliRunner().invoke(collect_cmd, [str(art), "-o", str(gradebook), "--summary", str(summary_path)])

    assert result.exit_code == 1, result.output
    errors = result.stderr.splitlines()
    assert len(errors) == len(bad), errors
    for path, reason in bad.items():
        if reason == "duplicate of":   # whichever of the two copies comes second is the duplicate
            path = next(p for p in (path, art / "reports-3" / "student07.json")
                        if any(line.startswith(f"{p}: duplicate of") for line in errors))
        (line,) = [line for line in errors if line.startswith(f"{path}: ")]
        assert reason in line
    assert "50 submission(s) (5 unusable, 1 duplicate(s) not counted)" in result.stdout

    table = rows(gradebook.read_text(encoding="utf-8"))
    assert list(table[0]) == [*CSV_HEAD, *TASK_IDS, "status"]
    assert len(table) == 50
    by_path = {row["submission"]: row for row in table}
    for i, r in enumerate(students):
        row = by_path[f"/classroom/student{i:02d}/exercises"]
        assert row["seed"] == str(1000 + i)
        assert float(row["score"]) == pytest.approx(r["score"]) and float(row["percent"]) == r["percent"]
        assert [float(row[tid]) for tid in TASK_IDS] == [t["score"] for t in r["tasks"]]
        files = sorted((f["path"], f["sha256"]) for f in r["submission"]["files"])
        expected = hashlib.sha256("".join(f"{p}\0{s}\n" for p, s in files).encode()).hexdigest()
        assert row["digest"] == expected and row["status"] == "ok"
    assert [row["submission"] for row in table] == sorted(by_path)

    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert summary["submissions"] == 50
    assert summary["score"]["mean"] == pytest.approx(sum(r["score"] for r in students) / 50, abs=1e-4)
    assert len(summary["problems"]) == 5 and len(summary["duplicates"]) == 1
    assert [t["id"] for t in summary["tasks"]] == TASK_IDS
    for j, task in enumerate(summary["tasks"]):
        scores = [r["tasks"][j]["score"] for r in students]
        assert task["graded"] == 50
        assert task["mean_score"] == pytest.approx(sum(scores) / 50, abs=1e-4)
        assert task["pass_rate"] == pytest.approx(sum(s == task["max_score"] for s in scores) / 50, abs=1e-4)
        losers = [i for i in range(50) if students[i]["tasks"][j]["score"] < task["max_score"]]
        hints = sorted({HINTS[(i + j) % 3] for i in losers})
        counts = {h: sum(HINTS[(i + j) % 3] == h for i in losers) for h in hints}
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        assert [(f["code"], f["hint"], f["submissions"]) for f in task["top_failures"]] == [
            ("wrong_values", h, n) for h, n in top]


# ---------------------------------------------------------------- exit status

def test_all_good_inputs_exit_0(tmp_path):
    a = write(tmp_path / "in" / "a.json", golden("en"))
    b = write(tmp_path / "in" / "b" / "b.json", golden("zh"))
    out = tmp_path / "gradebook.csv"
    result = CliRunner().invoke(collect_cmd, [str(a), str(b.parent), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == f"{out}: 2 submission(s)\n"
    table = rows(out.read_text(encoding="utf-8"))
    assert [r["submission"] for r in table] == ["/home/ana/autograd-lab/exercises",   # sorted by path
                                                 "/home/李华/autograd-lab/exercises"]
    en = table[0]
    assert (en["seed"], en["score"], en["max_score"], en["percent"]) == ("1", "8", "30", "26.67")
    assert en["ex03_vjp.vjp"] == "4" and en["ex04_detach.detach_grads"] == ""   # not graded: empty
    assert en["status"] == "incomplete"                         # graded a selection of tasks
    assert table[1]["status"] == "grader_error"                 # zh: the grader failed on a check


def test_a_report_of_something_that_is_not_a_submission_is_a_row(tmp_path):
    report = golden("en")
    report["problem"] = "no exercise modules found"
    report["submission"]["files"] = []
    write(tmp_path / "r.json", report)
    (row,) = rows(collect([tmp_path]).render_csv())
    assert row["status"] == "not_a_submission" and row["score"] == "8"


def test_nothing_usable_exits_2_and_writes_nothing(tmp_path):
    write(tmp_path / "in" / "bad.json", "{")
    write(tmp_path / "in" / "list.json", [1, 2])
    out = tmp_path / "gradebook.csv"
    result = CliRunner().invoke(collect_cmd, [str(tmp_path / "in"), str(tmp_path / "nowhere"), "-o", str(out)])
    assert result.exit_code == 2
    assert not out.exists()
    lines = result.stderr.splitlines()
    assert lines == [f"{tmp_path / 'in' / 'bad.json'}: corrupt JSON: Expecting property name enclosed in double "
                     f"quotes at line 1 column 2",
                     f"{tmp_path / 'in' / 'list.json'}: not a grade report (a JSON list without schema_version)",
                     f"{tmp_path / 'nowhere'}: does not exist",
                     "nothing collected: no usable report among 2 input(s)"]


def test_empty_folder_and_bad_output_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    good = write(tmp_path / "good.json", golden("en"))
    result = CliRunner().invoke(collect_cmd, [str(tmp_path / "empty"), str(good), "-o", str(tmp_path / "g.csv")])
    assert result.exit_code == 1 and result.stderr == f"{tmp_path / 'empty'}: no *.json file in this folder\n"
    result = CliRunner().invoke(collect_cmd, [str(good), "-o", str(tmp_path / "no" / "g.csv")])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_the_same_file_twice_is_not_a_duplicate(tmp_path):
    good = write(tmp_path / "in" / "good.json", golden("en"))
    found = collect([tmp_path / "in", good, str(good)])
    assert len(found.submissions) == 1 and not found.duplicates and not found.problems


def test_duplicate_submission_files_count_once(tmp_path):
    first = write(tmp_path / "a" / "r.json", golden("en"))
    regraded = golden("en")
    regraded["seed"] = 99                   # the same files graded again
    second = write(tmp_path / "b" / "r.json", regraded)
    found = collect([tmp_path])
    assert [s.source for s in found.submissions] == [str(first)]
    (dup,) = found.duplicates
    assert (dup.source, dup.duplicate_of) == (str(second), str(first))
    assert str(dup).startswith(f"{second}: duplicate of {first} (same submission path and files, sha256 ")


def test_identical_files_of_two_submissions_both_count(tmp_path):
    """Two students who both left the stubs untouched have identical files: two rows,
    and the summary points them out."""
    write(tmp_path / "ana.json", golden("en"))
    other = golden("en")
    other["submission"]["path"] = "/home/bo/autograd-lab/exercises"
    write(tmp_path / "bo.json", other)
    found = collect([tmp_path])
    assert len(found.submissions) == 2 and not found.duplicates
    (group,) = found.summary()["identical_files"]
    assert group["submissions"] == ["/home/ana/autograd-lab/exercises", "/home/bo/autograd-lab/exercises"]


# ---------------------------------------------------------------- what is not a report

@pytest.mark.parametrize("edit, message", [
    (lambda r: r.update(schema_version=2), "schema_version 2: this grader reads schema_version 1 only"),
    (lambda r: r.update(schema_version="1"), 'schema_version "1": this grader reads schema_version 1 only'),
    (lambda r: r.pop("schema_version"), "not a grade report (a JSON object without schema_version)"),
    (lambda r: r.pop("tasks"), "not a valid schema-1 report: 'tasks' is a required property (at top level)"),
    (lambda r: r["tasks"][1].update(status="great"), "not a valid schema-1 report: 'great' is not one of"),
    (lambda r: r.update(score=99.0), "does not add up: score 99 but its tasks add up to 8"),
    (lambda r: r["tasks"][0].update(score=40.0), "does not add up: score 8 but its tasks add up to 44"),
])
def test_unusable_reports_have_a_one_line_reason(tmp_path, edit, message):
    report = golden("en")
    edit(report)
    path = write(tmp_path / "r.json", report)
    with pytest.raises(ReportError) as info:
        load_report(path)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value) and len(str(info.value)) <= 220


def test_nan_and_other_non_json_are_corrupt(tmp_path):
    text = json.dumps(golden("en")).replace('"score": 8.0', '"score": NaN', 1)
    with pytest.raises(ReportError, match="corrupt JSON: NaN is not valid JSON"):
        load_report(write(tmp_path / "nan.json", text))
    with pytest.raises(ReportError, match="corrupt JSON: not UTF-8"):
        load_report(write(tmp_path / "latin1.json", "{\"a\": \"\xe9\"}".encode("latin-1")))


def test_gradebook_cells_cannot_be_formulas(tmp_path):
    report = golden("en")
    report["submission"]["path"] = "=HYPERLINK(\"http://x\")"
    write(tmp_path / "r.json", report)
    (row,) = rows(collect([tmp_path]).render_csv())
    assert row["submission"] == "'=HYPERLINK(\"http://x\")"


# ---------------------------------------------------------------- grade convert

@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_convert_prints_each_format(tmp_path, fmt):
    path = write(tmp_path / "grade-report.json", golden("zh"))
    result = CliRunner().invoke(convert_cmd, [str(path), "--format", fmt])
    assert result.exit_code == 0, result.output
    render, _ = FORMATS[fmt]
    assert result.stdout == render(golden("zh")) and result.stderr == ""


def test_convert_output_file_folder_and_append(tmp_path):
    path = write(tmp_path / "grade-report.json", golden("en"))
    out = tmp_path / "out"
    out.mkdir()
    runner = CliRunner()
    result = runner.invoke(convert_cmd, [str(path), "-f", "gradescope", "-o", str(out)])
    assert result.exit_code == 0 and result.stdout == ""
    assert (out / "results.json").read_text(encoding="utf-8") == FORMATS["gradescope"][0](golden("en"))
    github_output = write(tmp_path / "github_output", "earlier=1\n")
    result = runner.invoke(convert_cmd, [str(path), "-f", "github-output", "-o", str(github_output), "--append"])
    assert result.exit_code == 0
    earlier, line = github_output.read_text(encoding="utf-8").splitlines()
    assert earlier == "earlier=1" and line.startswith("result=")
    assert json.loads(base64.b64decode(line[len("result="):]))["max_score"] == 30.0
    result = runner.invoke(convert_cmd, [str(path), "-f", "github-output", "-o", str(out)])
    assert result.exit_code == 2 and "is a folder, give a file name" in result.stderr


@pytest.mark.parametrize("content, reason", [
    ("{", "corrupt JSON"),
    (json.dumps({**golden("en"), "schema_version": 2}), "schema_version 2"),
    ('{"tests": []}', "not a grade report"),
])
def test_convert_refuses_what_is_not_a_report(tmp_path, content, reason):
    path = write(tmp_path / "r.json", content)
    result = CliRunner().invoke(convert_cmd, [str(path), "-f", "junit", "-o", str(tmp_path / "junit.xml")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}: {reason}") and result.stderr.count("\n") == 1
    assert not (tmp_path / "junit.xml").exists()


def test_convert_unknown_format_is_a_usage_error(tmp_path):
    path = write(tmp_path / "r.json", golden("en"))
    result = CliRunner().invoke(convert_cmd, [str(path), "-f", "pdf"])
    assert result.exit_code == 2 and "pdf" in result.stderr


def test_a_collection_keeps_only_what_its_gradebook_and_summary_read(tmp_path):
    """A class of a thousand reports is held at once: each is kept small, and the
    gradebook and summary are the same as from the whole reports."""
    from grader import collect as collect_mod

    report = json.loads((Path(__file__).parent / "golden" / "report-en.json").read_text(encoding="utf-8"))
    (tmp_path / "a.json").write_text(json.dumps(report), encoding="utf-8")
    collection = collect_mod.collect([tmp_path])
    (kept,) = collection.submissions
    assert len(json.dumps(kept.report)) < len(json.dumps(report)) / 3
    whole = collect_mod.Collection(submissions=[collect_mod.Submission(kept.source, report, kept.digest)])
    assert collect_mod.render_csv(collection) == collect_mod.render_csv(whole)
    assert collect_mod.summary(collection) == collect_mod.summary(whole)


def test_reports_already_read_are_taken_as_given_and_still_deduplicated(tmp_path):
    """grade batch hands over what its workers wrote and checked: those files are not
    read again; every other file is, and the same submission twice still counts once."""
    from grader import collect as collect_mod

    report = json.loads((Path(__file__).parent / "golden" / "report-en.json").read_text(encoding="utf-8"))
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.json").write_text(json.dumps(report), encoding="utf-8")
    (tmp_path / "b.json").write_text("not read", encoding="utf-8")  # would be a problem if read
    given = collect_mod.Submission("b", collect_mod.kept(report), collect_mod.submission_digest(report))
    collection = collect_mod.collect([tmp_path], known={(tmp_path / "b.json").resolve(): given})
    assert collection.problems == []
    assert [s.source for s in collection.submissions] == [str(tmp_path / "a.json")]
    assert [d.source for d in collection.duplicates] == [str(tmp_path / "b.json"), str(tmp_path / "c.json")]
    plain = collect_mod.collect([tmp_path / "a.json"])
    assert collect_mod.render_csv(collection) == collect_mod.render_csv(plain)


def test_collect_refuses_the_summary_on_the_gradebook(tmp_path, real_report):
    write(tmp_path / "reports" / "a.json", real_report)
    (tmp_path / "g.csv").write_text("the old gradebook\n")
    for summary in ("g.csv", "./reports/../g.csv"):
        result = CliRunner().invoke(collect_cmd, [str(tmp_path / "reports"), "-o", str(tmp_path / "g.csv"),
                                                  "--summary", str(tmp_path / summary)])
        assert result.exit_code == 2, result.output
        assert "the same file as -o/--output" in result.output and result.output.strip().count("\n") == 0
        assert (tmp_path / "g.csv").read_text() == "the old gradebook\n"
