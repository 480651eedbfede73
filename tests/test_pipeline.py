"""The grading pipeline: one pytest session for many submissions, one ledger, a pure
report, one options object.

- ``report.build`` is a function of data: it is tested here on hand-made ledger
  records (pytest-json-report's shape), with no pytest objects and no sandbox.
- ``api.grade_each`` grades submission after submission in one pytest session; a
  hostile submission before an honest one changes nothing of the honest one's report.
"""
from __future__ import annotations

import json
import shutil

import pytest

from grader import api, report
from grader.checking import load_manifest
from grader.options import DEFAULTS, Options, OptionsError
from grader.static import Verdict
from grader.status import Outcome, Status, task_status
from grader.tasks import BY_ID

from .conftest import EXERCISES, MUTANTS, SOLUTIONS

TASK = BY_ID["ex03_vjp.vjp"]
OPTIONS = Options(seed=5, patterns=(TASK.id,))


def _specs(task_id: str = TASK.id) -> list[tuple[str, object]]:
    return [(key, spec) for key, spec in load_manifest().items() if spec.task == task_id]


def _record(key: str, outcome: str = "passed", code: str = "", params: dict | None = None, **meta) -> dict:
    """A ledger record as pytest-json-report keeps it, with the grading plugin's metadata."""
    return {"nodeid": f"check.py::{key}", "outcome": "passed" if outcome == "passed" else "failed",
            "setup": {"duration": 0.0, "outcome": "passed"}, "call": {"duration": 0.0, "outcome": "passed"},
            "teardown": {"duration": 0.0, "outcome": "passed"},
            "metadata": {"check": key, "outcome": outcome, "code": code, "params": params or {}, "seconds": 0.001,
                         **meta}}


def _build(ledger: list[dict], verdicts: dict | None = None) -> dict:
    built = report.build({"path": "somewhere", "files": []}, [TASK], verdicts or {TASK.id: None}, ledger, OPTIONS,
                         seconds=0.0)
    report.validate(built)
    return built


# ---------------------------------------------------------------- the pure report

def test_every_check_passed_in_the_ledger_is_full_marks():
    built = _build([_record(key) for key, _ in _specs()])
    (task,) = built["tasks"]
    assert task["status"] == "passed" and task["score"] == task["max_score"] == TASK.points
    assert built["grader_errors"] == [] and built["seed"] == 5 and built["selection"] == [TASK.id]


def test_a_failed_check_costs_its_points_with_its_message():
    (first, spec), *rest = _specs()
    ledger = [_record(first, "failed", "wrong_values", {"what": "Jᵀv", "rtol": 1e-7, "atol": 1e-9})] + [_record(k) for k, _ in rest]
    (task,) = _build(ledger)["tasks"]
    assert task["status"] == "partial" and task["score"] == TASK.points - spec.points
    (lost,) = task["lost"]
    assert lost["points"] == spec.points and "Jᵀv" in lost["reason"]


def test_a_check_missing_from_the_ledger_is_a_grader_error_never_a_score():
    specs = _specs()
    built = _build([_record(key) for key, _ in specs[1:]])
    (task,) = built["tasks"]
    missing = next(c for c in task["checks"] if c["id"] == specs[0][1].name)
    assert missing["outcome"] == "grader_error" and missing["score"] == 0
    assert any("did not run (not collected)" in e for e in built["grader_errors"])


def test_a_check_whose_setup_failed_says_why():
    specs = _specs()
    broken = _record(specs[0][0])
    del broken["call"]
    broken["metadata"] = {"check": specs[0][0]}
    broken["setup"] = {"outcome": "failed", "crash": {"message": "fixture exploded"}}
    built = _build([broken] + [_record(key) for key, _ in specs[1:]])
    assert any("setup failed: fixture exploded" in e for e in built["grader_errors"])


def test_a_record_without_the_plugins_outcome_does_not_count():
    specs = _specs()
    bare = _record(specs[0][0])
    bare["metadata"] = {"check": specs[0][0]}  # pytest ran it, the plugin decided nothing
    (task,) = _build([bare] + [_record(key) for key, _ in specs[1:]])["tasks"]
    assert task["checks"][0]["outcome"] == "grader_error" and task["score"] < task["max_score"]


def test_a_call_forbidden_at_run_time_zeroes_the_task():
    specs = _specs()
    ledger = [_record(key) for key, _ in specs]
    ledger[-1]["metadata"]["forbidden"] = ["torch.autograd.functional.vjp"]
    (task,) = _build(ledger)["tasks"]
    assert task["status"] == "forbidden" and task["score"] == 0
    assert "torch.autograd.functional.vjp" in task["lost"][0]["reason"]


def test_printed_output_is_the_checks_output_in_order_capped():
    specs = _specs()
    ledger = [_record(key) for key, _ in specs]
    ledger[0]["metadata"]["printed"] = {"text": "first\n", "truncated": False}
    ledger[1]["metadata"]["printed"] = {"text": "x" * 5000, "truncated": False}
    (task,) = _build(ledger)["tasks"]
    assert task["output"]["text"].startswith("first\nxxx")
    assert len(task["output"]["text"]) == report.MAX_TASK_OUTPUT and task["output"]["truncated"]


def test_a_verdict_decided_before_running_wins_over_the_ledger():
    verdict = Verdict("forbidden", "forbidden_api", {"line": 3, "detail": "torch.func.vjp"})
    (task,) = _build([_record(key) for key, _ in _specs()], {TASK.id: verdict})["tasks"]
    assert task["status"] == "forbidden" and task["score"] == 0


def test_a_records_text_is_escaped_in_the_report():
    specs = _specs()
    ledger = [_record(key) for key, _ in specs]
    ledger[0]["metadata"]["printed"] = {"text": "\x1b[31mred\n::error::x", "truncated": False}
    (task,) = _build(ledger)["tasks"]
    assert "\x1b" not in task["output"]["text"]


def test_the_task_status_rules():
    assert task_status({"passed"}, 4, 4) is Status.PASSED
    assert task_status({"passed", "failed"}, 2, 4) is Status.PARTIAL
    assert task_status({"failed", "error"}, 0, 4) is Status.FAILED  # a wrong value is not an error
    assert task_status({"error", "timeout"}, 0, 4) is Status.TIMEOUT
    assert task_status({"grader_error"}, 0, 4) is Status.ERROR
    assert task_status({"not_implemented"}, 0, 4) is Status.NOT_IMPLEMENTED
    assert {o.kind for o in Outcome} == {"passed", "failed", "error"}


# ---------------------------------------------------------------- one options object

def test_options_round_trip_through_plain_data():
    options = Options(seed=3, patterns=("ex03", "ex05"), timeout=2.5, memory_mb=512, lang="zh",
                      formats=(("junit", "j.xml"),), allow_weak_isolation=True)
    assert Options.from_json(json.loads(json.dumps(options.to_json()))) == options
    assert Options.from_json({}) == DEFAULTS


@pytest.mark.parametrize("bad", [{"timeout": 0.1}, {"timeout": "10"}, {"memory_mb": 10}, {"lang": "fr"},
                                 {"seed": -1}, {"seed": 2**31}, {"patterns": "ex03"}])
def test_bad_options_are_refused_in_one_line(bad):
    with pytest.raises(OptionsError) as caught:
        Options.from_json(bad)
    assert "\n" not in str(caught.value)


def test_the_cli_defaults_are_the_options_defaults():
    from grader.cli import batch, run

    for command in (run, batch):
        params = {p.name: p.default for p in command.params}
        assert params["timeout"] == DEFAULTS.timeout and params["memory_mb"] == DEFAULTS.memory_mb


def test_a_fresh_seed_is_drawn_once_and_kept():
    seeded = DEFAULTS.seeded()
    assert seeded.seed is not None and seeded.seeded() == seeded


# ---------------------------------------------------------------- many submissions, one session

HOSTILE = {
    # Every call of the task dies, hangs or lies.
    "crashes": "import os\n\ndef vjp(f, x, v):\n    os._exit(3)\n",
    "hangs": "def vjp(f, x, v):\n    while True:\n        pass\n",
    "prints": "def vjp(f, x, v):\n    print('\\x1b[2J' + 'spam ' * 5000)\n    return x\n",
    # Module-level state: a changed default dtype and a patched torch, in its child only.
    "patches": ("import sys\nimport torch\ntorch.set_default_dtype(torch.float16)\ntorch.manual_seed(0)\n"
                "sys.setrecursionlimit(60)\n\ndef vjp(f, x, v):\n    return x * 0\n"),
}


def _folder(tmp_path, name: str, vjp_source: str | None):
    folder = tmp_path / name
    shutil.copytree(SOLUTIONS, folder)
    if vjp_source is not None:
        text = (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8")
        (folder / "ex03_vjp.py").write_text(text + "\n\n" + vjp_source, encoding="utf-8")
    return folder


def _comparable(built: dict) -> list:
    return [(t["id"], t["status"], t["score"], [(c["id"], c["outcome"], c["feedback"]) for c in t["checks"]])
            for t in built["tasks"]]


def test_a_hostile_submission_before_an_honest_one_changes_nothing(tmp_path, server):
    options = Options(seed=11, patterns=("ex03_vjp",), timeout=2)
    honest = _folder(tmp_path, "honest", None)
    alone = api.grade(honest, options, server=server)
    order = []
    for name, source in HOSTILE.items():
        order += [(name, _folder(tmp_path, name, source)), ("honest", honest)]
    order.append(("not a folder", tmp_path / "nothing-here"))
    results: list = []
    api.grade_each([(path, options, lambda built, exc, name=name: results.append((name, built, exc)))
                    for name, path in order], server)
    assert [name for name, _b, _e in results] == [name for name, _p in order]
    for name, built, exc in results:
        if name == "honest":
            assert exc is None and _comparable(built) == _comparable(alone), name
        elif name == "not a folder":
            assert built is None and exc is not None
        else:
            assert exc is None
            task = next(t for t in built["tasks"] if t["id"] == TASK.id)
            assert task["score"] < task["max_score"], name
            others = [t for t in built["tasks"] if t["id"] != TASK.id]
            assert all(t["status"] == "passed" for t in others), (name, [(t["id"], t["status"]) for t in others])


def test_one_session_grades_stubs_and_solutions_alike(tmp_path, server):
    results: list = []
    options = Options(seed=3)
    api.grade_each([(path, options, lambda built, exc: results.append(built))
                    for path in (SOLUTIONS, EXERCISES, SOLUTIONS)], server)
    assert [r["score"] for r in results] == [r["max_score"] for r in results[:1]] + [0.0] + [results[0]["max_score"]]
    assert _comparable(results[0]) == _comparable(results[2])


def _records(server, path, options) -> list:
    """The ledger's records of the checks run grading ``path``."""
    from grader import checkrun

    seen: list = []
    original = checkrun.Ledger.take

    def take(self):
        records = original(self)
        seen.extend(records)
        return records

    checkrun.Ledger.take = take
    try:
        api.grade(path, options, server=server)
    finally:
        checkrun.Ledger.take = original
    return [r for r in seen if r.get("metadata", {}).get("check")]


def test_the_ledger_is_pytest_json_reports_record(server):
    """What the report is built from: pytest-json-report's records, the plugin's outcome attached."""
    seen = _records(server, SOLUTIONS, Options(seed=3, patterns=(TASK.id,)))
    keys = {key for key, _ in _specs()}
    checks = [r for r in seen if r.get("metadata", {}).get("check") in keys]
    assert {r["metadata"]["check"] for r in checks} == keys
    assert all(r["call"]["outcome"] == "passed" and r["metadata"]["outcome"] == "passed" for r in checks)
    assert all({"setup", "call", "teardown", "nodeid"} <= set(r) for r in checks)


def test_a_check_that_fails_as_checks_do_is_recorded_without_a_rendered_traceback(server, monkeypatch):
    """pytest's rendering of a traceback cost more than a check: a Fail or a student's
    failure is recorded in one line, and the plugin's own outcome says what happened."""
    from grader import static

    monkeypatch.setattr(static, "untouched_stub", lambda sub, task: False)  # run the stubs' checks
    records = _records(server, EXERCISES, Options(seed=3, patterns=(TASK.id,)))
    failed = [r for r in records if r["call"]["outcome"] == "failed"]
    assert failed and len(failed) == len(_specs())
    for r in failed:
        assert r["call"]["longrepr"].startswith(("StudentFailed: ", "Fail: ")), r["call"]["longrepr"]
        assert "\n" not in r["call"]["longrepr"]
        assert r["metadata"]["outcome"] == "not_implemented"


def test_a_checks_own_bug_keeps_pytests_whole_report(server, monkeypatch):
    import grader.checking

    def broken(self, *args, **kwargs):
        raise ZeroDivisionError("a bug in the check")

    monkeypatch.setattr(grader.checking.Inputs, "randn", broken)
    records = _records(server, SOLUTIONS, Options(seed=3, patterns=(TASK.id,)))
    buggy = [r for r in records if r["metadata"].get("outcome") == "grader_error"]
    assert buggy
    for r in buggy:
        assert "ZeroDivisionError: a bug in the check" in r["call"]["longrepr"]
        assert not r["call"]["longrepr"].startswith(("StudentFailed: ", "Fail: "))


def test_a_hint_is_worked_out_only_for_a_wrong_answer():
    from grader.checking import deferred

    made: list = []

    @deferred
    def hint(value):
        made.append(value)
        return lambda got, want: f"hint {value}"

    diagnose = hint(7)
    assert made == []  # a right answer never asks: nothing was computed
    assert diagnose(None, None) == "hint 7" and diagnose(None, None) == "hint 7"
    assert made == [7]  # worked out once, on the first wrong answer


def test_a_right_answer_costs_no_hint_and_a_wrong_one_still_gets_it(tmp_path, server, monkeypatch):
    """The Jacobian behind ex03's "J·v instead of Jᵀ·v" hint is computed only when the
    answer is wrong, and the hint is still given."""
    import grader.checks.check_ex03_vjp as checks

    calls: list = []
    real = checks.jacobian

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(checks, "jacobian", counting)
    options = Options(seed=3, patterns=(TASK.id,))
    right = api.grade(SOLUTIONS, options, server=server)
    assert right["score"] == right["max_score"] and calls == []
    from grader.mutants import load, materialise

    wrong = materialise(load(MUTANTS / "ex03_vjp" / "jv_instead_of_jtv.py"), SOLUTIONS, tmp_path / "jv")
    built = api.grade(wrong, options, server=server)
    assert 0 < built["score"] < built["max_score"] and calls
    assert "It equals J·v" in json.dumps(built, ensure_ascii=False)
