"""Hostile submissions, graded as a user would: each gets an honest verdict.

Each attack is the perfect submission with one hostile module (or file); the
attacked tasks score 0 and every other task keeps full marks.
"""
from __future__ import annotations

import time

import pytest

from grader.tasks import TASKS

from .conftest import SOLUTIONS, by_task, lost_tasks

VJP = "ex03_vjp.vjp"
MULTI = "ex03_vjp.multitask_grads"
EX03 = tuple(t.id for t in TASKS if t.module == "ex03_vjp")


def _statuses(report, ids=EX03):
    tasks = by_task(report)
    return {i: tasks[i]["status"] for i in ids}


def _only_ex03_lost(report, lost=EX03):
    assert lost_tasks(report) == set(lost)
    for task_id in lost:
        assert by_task(report)[task_id]["score"] == 0


# name: (appended code, the kind of escape, whether it runs at import and so costs the whole module)
ATTACKS_STATIC = {
    "forge_pytest_report": (
        "import _pytest.reports\n_pytest.reports.TestReport.outcome = 'passed'\n", "import_denied", True),
    "os_exit_at_import": ("import os\nos._exit(0)\n", "import_denied", True),
    "os_exit_in_task": ("import os\ndef vjp(f, x, v):\n    os._exit(0)\n", "import_denied", False),
    "pytest_exit": ("import pytest\npytest.exit('done', returncode=0)\n", "import_denied", True),
    "pytest_exit_in_task": ("def vjp(f, x, v):\n    import pytest\n    pytest.exit('done', returncode=0)\n",
                            "import_denied", False),
    "sys_exit_in_task": ("import sys\ndef vjp(f, x, v):\n    sys.exit(0)\n", "import_denied", False),
    "read_solutions": ("def vjp(f, x, v):\n    return open('../solutions/ex03_vjp.py').read()\n",
                       "builtin_denied", False),
    "import_solutions": ("from solutions.ex03_vjp import vjp\n", "import_grader", True),
    "import_grader_checks": ("def vjp(f, x, v):\n    from grader.checks import check_ex03_vjp\n    return x\n",
                             "import_grader", False),
    "peek_frames": ("import sys\ndef vjp(f, x, v):\n    return sys._getframe(1).f_locals['want']\n",
                    "import_denied", False),
    "dunder_escape": ("def vjp(f, x, v):\n    return ().__class__.__base__.__subclasses__()\n", "introspection", False),
    "torch_os": ("def vjp(f, x, v):\n    torch.os.system('true')\n    return x\n", "attribute_denied", False),
    "computed_getattr": ("def vjp(f, x, v):\n    return getattr(torch, 'o' + 's')\n", "dynamic_attribute", False),
    "ctypes_segfault": ("import ctypes\ndef vjp(f, x, v):\n    ctypes.string_at(0)\n", "import_denied", False),
    "signal_ignoring_sleep": ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n", "import_denied", True),
    "write_fake_report": ("def vjp(f, x, v):\n    open('grade-report.json', 'w').write('{}')\n", "builtin_denied",
                          False),
    "exec_payload": ("exec('import os')\n", "builtin_denied", True),
    "double_fork_in_task": ("import os\ndef vjp(f, x, v):\n    if os.fork() == 0:\n        os.setsid()\n"
                            "    return x\n", "import_denied", False),
}


@pytest.mark.parametrize("name", sorted(ATTACKS_STATIC))
def test_code_that_reaches_outside_is_forbidden(name, grade, submission):
    code, kind, whole_module = ATTACKS_STATIC[name]
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03", "ex04"))
    lost = EX03 if whole_module else (VJP,)
    _only_ex03_lost(report, lost=lost)
    assert {by_task(report)[t]["status"] for t in lost} == {"forbidden"}
    check = by_task(report)[VJP]["checks"][0]
    assert check["code"] == "escape" and "line" in check["feedback"]
    from grader import messages

    assert messages.KIND_NAMES[kind] in check["feedback"]


ATTACKS_DYNAMIC = {
    # name: (appended code, expected status of vjp)
    "patched_comparisons": ("torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
                            "def vjp(f, x, v):\n    return torch.zeros_like(x)\n", "failed"),
    "lying_subclass": ("class Liar(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
                       "def vjp(f, x, v):\n    return torch.zeros_like(x).as_subclass(Liar)\n", "failed"),
    "always_equal_object": ("class Same:\n    def __eq__(self, other):\n        return True\n"
                            "def vjp(f, x, v):\n    return Same()\n", "failed"),
    "nan": ("def vjp(f, x, v):\n    return torch.full_like(x, float('nan'))\n", "failed"),
    "broadcasting_shape": ("def vjp(f, x, v):\n    return torch.zeros(1, *x.shape, dtype=x.dtype)\n", "failed"),
    "system_exit_in_task": ("def vjp(f, x, v):\n    raise SystemExit(0)\n", "error"),
    "keyboard_interrupt": ("def vjp(f, x, v):\n    raise KeyboardInterrupt\n", "error"),
    "infinite_loop": ("def vjp(f, x, v):\n    while True:\n        pass\n", "timeout"),
    "memory_bomb": ("def vjp(f, x, v):\n    return torch.ones(1 << 34)\n", "error"),
    "list_memory_bomb": ("def vjp(f, x, v):\n    return [0] * (1 << 34)\n", "error"),
    "recursion": ("def vjp(f, x, v):\n    return vjp(f, x, v)\n", "error"),
}


@pytest.mark.parametrize("name", sorted(ATTACKS_DYNAMIC))
def test_hostile_answers_score_nothing(name, grade, submission):
    code, status = ATTACKS_DYNAMIC[name]
    started = time.monotonic()
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",), timeout=3)
    assert time.monotonic() - started < 30
    _only_ex03_lost(report, lost=(VJP,))
    assert by_task(report)[VJP]["status"] == status
    assert by_task(report)[MULTI]["status"] == "passed"


def test_exit_at_import_fails_the_module_only(grade, submission):
    report = grade(submission(append={"ex03_vjp": "raise SystemExit(0)\n"}), patterns=("ex03", "ex04"))
    _only_ex03_lost(report)
    assert set(_statuses(report).values()) == {"error"}
    assert "SystemExit" in by_task(report)[VJP]["checks"][0]["feedback"]


def test_a_flood_of_prints_changes_nothing(grade, submission):
    code = ("_vjp = vjp\ndef vjp(f, x, v):\n    print('x' * (100 * 1024 * 1024))\n    return _vjp(f, x, v)\n")
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",), timeout=20)
    assert report["score"] == report["max_score"]


def test_mutating_the_inputs_costs_points(grade, submission):
    code = ("_vjp = vjp\ndef vjp(f, x, v):\n    out = _vjp(f, x, v)\n    x.mul_(1.0)\n    v.add_(1.0)\n    return out\n")
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",))
    task = by_task(report)[VJP]
    assert task["status"] == "partial"
    assert any(c["code"] == "argument_modified" for c in task["checks"])


def test_a_syntax_error_fails_its_module_and_grades_the_rest(grade, submission):
    report = grade(submission(append={"ex03_vjp": "def vjp(:\n"}), patterns=("ex03", "ex04"))
    _only_ex03_lost(report)
    assert set(_statuses(report).values()) == {"error"}
    assert "syntax error" in by_task(report)[VJP]["checks"][0]["feedback"]


SABOTAGE_FILES = {
    "conftest.py": "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
                   "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n",
    "pytest.ini": "[pytest]\naddopts = -p no:pytest_jsonreport --deselect grader\n",
    "json.py": "def dump(*a, **k):\n    raise SystemExit(0)\ndumps = dump\n",
    "torch.py": "raise SystemExit('fake torch')\n",
    "sitecustomize.py": "raise SystemExit(0)\n",
}


@pytest.mark.parametrize("source", ["solutions", "exercises"])
def test_files_planted_beside_the_modules_are_never_loaded(source, grade, tmp_path):
    import shutil

    from .conftest import EXERCISES

    folder = tmp_path / "planted"
    shutil.copytree(SOLUTIONS if source == "solutions" else EXERCISES, folder)
    for name, text in SABOTAGE_FILES.items():
        (folder / name).write_text(text)
    report = grade(folder, patterns=("ex03", "ex04"))
    expected = report["max_score"] if source == "solutions" else 0
    assert report["score"] == expected


def test_pytest_environment_variables_are_ignored(grade, submission, monkeypatch):
    monkeypatch.setenv("PYTEST_ADDOPTS", "--deselect grader -p no:pytest_jsonreport -x")
    monkeypatch.setenv("PYTEST_PLUGINS", "nonexistent_plugin")
    report = grade(submission(), patterns=("ex03",))
    assert report["score"] == report["max_score"]


def test_a_hostile_module_gains_no_point(grade, submission):
    hostile = ("torch.allclose = lambda *a, **k: True\n"
               "def vjp(f, x, v):\n    while True:\n        pass\n"
               "def multitask_grads(task_losses, params, task_weights):\n    return None\n")
    report = grade(submission(append={"ex03_vjp": hostile}), timeout=2)
    _only_ex03_lost(report, lost=(VJP, MULTI))


def test_torch_func_is_loaded_for_a_submission_that_uses_it(grade, submission):
    """The jailed child cannot import; the server loads torch.func on demand first."""
    code = ("def derivative_curve(f, x):\n"
            "    return torch.func.vmap(torch.func.grad(lambda t: f(t).sum()))(x.detach()).detach()\n")
    report = grade(submission(append={"ex05_control_flow": code}), patterns=("ex05_control_flow.derivative_curve",))
    assert report["score"] == report["max_score"], report["tasks"][0]["checks"]


def test_a_byte_order_mark_and_windows_line_ends_are_fine(grade, tmp_path):
    import shutil

    folder = tmp_path / "windows"
    shutil.copytree(SOLUTIONS, folder)
    for path in folder.glob("*.py"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    report = grade(folder, patterns=("ex03",))
    assert report["score"] == report["max_score"]


def test_a_students_own_experiments_do_not_count(grade, submission):
    """Code under `if __name__ == "__main__":` never runs when graded; the scan ignores it."""
    code = ("if __name__ == '__main__':\n    import os\n    import matplotlib.pyplot as plt\n"
            "    print(os.getcwd())\n    plt.plot([1, 2])\n")
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",))
    assert report["score"] == report["max_score"]


def test_an_unavailable_import_says_where_it_belongs(grade, submission):
    report = grade(submission(append={"ex05_control_flow": "import matplotlib.pyplot as plt\n"}),
                   patterns=("ex05",))
    checks = [c for t in report["tasks"] for c in t["checks"]]
    assert {t["status"] for t in report["tasks"]} == {"error"}
    assert all(c["score"] == 0 for c in checks)
    assert {c["hint"] for c in checks} == {"module_not_available"}
