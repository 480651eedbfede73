"""Hostile submissions, graded as a user would: each gets an honest verdict.

Each attack is the perfect submission with one hostile module (or file); the
attacked tasks score 0 and every other task keeps full marks.
"""
from __future__ import annotations

import json
import re
import time

import pytest

from grader.tasks import TASKS

from .conftest import EXERCISES, SOLUTIONS, by_task, lost_tasks

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


def _smooth_relu(*backward: str) -> str:
    """The module's SmoothReLU with the stub's stable forward, and a backward that ends
    with the given lines (after it reads what forward saved)."""
    return ("class SmoothReLU(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
            "        ctx.save_for_backward(x)\n        return torch.logaddexp(x, torch.zeros_like(x))\n\n"
            "    @staticmethod\n    def backward(ctx, grad_output):\n        (x,) = ctx.saved_tensors\n"
            + "".join(f"        {line}\n" for line in backward))


# Deliberate evasion, one submission per class: name: (appended code, the kind the
# scan names, whether it runs at import and so costs the whole module).
ATTACKS_EVASION = {
    "computed_getattr": ("def vjp(f, x, v):\n    return getattr(torch, 'o' + 's')\n", "dynamic_attribute", False),
    "attrgetter": ("import operator\ndef vjp(f, x, v):\n"
                   "    return operator.attrgetter('autograd.functional.vjp')(torch)(f, x, v)[1]\n",
                   "dynamic_attribute", False),
    "methodcaller": ("from operator import methodcaller\ndef vjp(f, x, v):\n"
                     "    return methodcaller('backward')(f(x))\n", "dynamic_attribute", False),
    "formatter_get_field": ("import string\ndef vjp(f, x, v):\n"
                            "    api = string.Formatter().get_field('0.autograd.functional', [torch], {})[0]\n"
                            "    return api.vjp(f, x, v)[1]\n", "dynamic_attribute", False),
    "format_field_on_module": ("def vjp(f, x, v):\n    return '{0.autograd.functional.__name__}'.format(torch)\n",
                               "dynamic_attribute", False),
    "wrapped_recorder": ("def vjp(f, x, v):\n    g = torch.autograd.grad.__wrapped__\n    return x\n",
                         "introspection", False),
    "closure_cell": ("def vjp(f, x, v):\n    return torch.autograd.grad.__closure__[0].cell_contents\n",
                     "introspection", False),
    "function_globals": ("def vjp(f, x, v):\n    return torch.autograd.grad.__globals__['_vjp']\n",
                         "introspection", False),
    "dunder_escape": ("def vjp(f, x, v):\n    return ().__class__.__base__.__subclasses__()\n", "introspection", False),
    "peek_frames": ("import sys\ndef vjp(f, x, v):\n    return sys._getframe(1).f_locals['want']\n",
                    "introspection", False),
    "inspect_frames": ("import inspect\ndef vjp(f, x, v):\n    return inspect.currentframe().f_back.f_locals\n",
                       "introspection", False),
    "traceback_frame": ("def vjp(f, x, v):\n    try:\n        raise ValueError\n    except ValueError as e:\n"
                        "        return e.__traceback__.tb_frame.f_back\n", "introspection", False),
    "gc_referrers": ("import gc\ndef vjp(f, x, v):\n    return gc.get_referrers(torch.autograd.grad)\n",
                     "introspection", False),
    "random_os": ("import random\ndef vjp(f, x, v):\n    random._os.system('true')\n    return x\n",
                  "module_internals", False),
    "collections_sys": ("import collections\ndef vjp(f, x, v):\n    return collections._sys.modules\n",
                        "module_internals", False),
    "enum_bltns": ("import enum\ndef vjp(f, x, v):\n    return enum.bltns.eval('x')\n", "module_internals", False),
    "torch_C": ("def vjp(f, x, v):\n    torch._C._set_grad_enabled(True)\n    return x\n", "module_internals", False),
    "torch_serialization_pickle": ("def vjp(f, x, v):\n    return torch.serialization.pickle.loads(b'')\n",
                                   "module_internals", False),
    "reexported_engine": ("import torch.nn.modules.module as M\ndef vjp(f, x, v):\n"
                          "    x = x.detach().clone().requires_grad_(True)\n"
                          "    engine = M.torch.autograd.Variable._execution_engine\n"
                          "    return engine.run_backward((f(x),), (v,), False, False, (x,), False, False)[0]\n",
                          "module_internals", False),
    "torch_os": ("def vjp(f, x, v):\n    torch.os.system('true')\n    return x\n", "module_internals", False),
    "match_class_pattern": ("def vjp(f, x, v):\n    match torch:\n        case object(autograd=a):\n"
                            "            return a.functional.vjp(f, x, v)[1]\n", "introspection", False),
    "annotations_evaluated": ("import typing\ndef _h(a: 'torch.autograd.functional'):\n    pass\n"
                              "def vjp(f, x, v):\n    return typing.get_type_hints(_h)['a'].vjp(f, x, v)[1]\n",
                              "introspection", False),
    "exec_payload": ("exec('import os')\n", "dynamic_code", True),
    "eval_in_task": ("def vjp(f, x, v):\n    return eval('torch.autograd.functional').vjp(f, x, v)[1]\n",
                     "dynamic_code", False),
    "dunder_import": ("def vjp(f, x, v):\n    return __import__('torch.autograd.functional')\n", "dynamic_code", False),
    "importlib": ("import importlib\ndef vjp(f, x, v):\n"
                  "    return importlib.import_module('torch.autograd.functional').vjp(f, x, v)[1]\n",
                  "dynamic_code", False),
    "patched_comparisons": ("torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n",
                            "patching", True),
    "patched_tensor_class": ("def vjp(f, x, v):\n    torch.Tensor.__eq__ = lambda a, b: True\n    return x\n",
                             "patching", False),
    "setattr_torch": ("def vjp(f, x, v):\n    setattr(torch, 'allclose', lambda *a, **k: True)\n    return x\n",
                      "patching", False),
    "import_solutions": ("from solutions.ex03_vjp import vjp\n", "import_grader", True),
    "import_grader_checks": ("def vjp(f, x, v):\n    from grader.checks import check_ex03_vjp\n    return x\n",
                             "import_grader", False),
    "import_grader_child": ("import grader.sandbox.child as c\ndef vjp(f, x, v):\n    return c\n",
                            "import_grader", True),
    "relative_import": ("from . import ex01_backward\n", "relative_import", True),
}


@pytest.mark.parametrize("name", sorted(ATTACKS_EVASION))
def test_deliberate_evasion_is_forbidden(name, grade, submission):
    code, kind, whole_module = ATTACKS_EVASION[name]
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",))
    lost = EX03 if whole_module else (VJP,)
    _only_ex03_lost(report, lost=lost)
    assert {by_task(report)[t]["status"] for t in lost} == {"forbidden"}
    check = by_task(report)[VJP]["checks"][0]
    assert check["code"] == "escape" and "line" in check["feedback"]
    from grader import messages

    assert messages.KIND_NAMES[kind] in check["feedback"]


# Code that is not evasion but tries what the sandbox stops: each has the verdict
# its effect earns (the attempt itself is no penalty). Run as root, as CI does.
ATTACKS_CONTAINED = {
    "os_abort_in_task": ("import os\ndef vjp(f, x, v):\n    os.abort()\n", "crashed"),
    "kill_itself": ("import os, signal\ndef vjp(f, x, v):\n    os.kill(os.getpid(), signal.SIGKILL)\n", "crashed"),
    "ctypes_segfault": ("import ctypes\ndef vjp(f, x, v):\n    ctypes.string_at(0)\n", "crashed"),
    "sys_exit_in_task": ("import sys\ndef vjp(f, x, v):\n    sys.exit(0)\n", "error"),
    "read_solutions": ("def vjp(f, x, v):\n    return open('../solutions/ex03_vjp.py').read()\n", "error"),
    "write_fake_report": ("def vjp(f, x, v):\n    open('grade-report.json', 'w').write('{}')\n", "error"),
    "double_fork_in_task": ("import os\ndef vjp(f, x, v):\n    if os.fork() == 0:\n        os.setsid()\n"
                            "    return x\n", "error"),
    "pytest_exit_in_task": ("def vjp(f, x, v):\n    import pytest\n    pytest.exit('done', returncode=0)\n", "error"),
}


@pytest.mark.parametrize("name", sorted(ATTACKS_CONTAINED))
def test_what_the_sandbox_stops_earns_its_verdict(name, grade, submission):
    code, status = ATTACKS_CONTAINED[name]
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",), timeout=5)
    _only_ex03_lost(report, lost=(VJP,))
    assert by_task(report)[VJP]["status"] == status
    assert by_task(report)[MULTI]["status"] == "passed"


@pytest.mark.parametrize("code", [
    "import pytest\npytest.exit('done', returncode=0)\n",
])
def test_reaching_for_the_test_runner_at_import_fails_the_module(code, grade, submission):
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03", "ex04"))
    _only_ex03_lost(report)
    assert set(_statuses(report).values()) == {"error"}


def test_patching_the_test_runner_changes_no_verdict(grade, submission):
    """A store into a private module (the test runner's ``_pytest``) is patching, found in
    the source: the module's tasks are forbidden. (Were it run, the child would patch
    its own copy: the checks run in the grader's process.)"""
    code = ("import _pytest.reports\n_pytest.reports.TestReport.outcome = 'passed'\n"
            "def vjp(f, x, v):\n    return torch.zeros_like(x)\n")
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",))
    _only_ex03_lost(report, lost=EX03)
    assert {by_task(report)[t]["status"] for t in EX03} == {"forbidden"}


def test_ignoring_signals_at_import_changes_nothing(grade, submission):
    code = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",))
    assert report["score"] == report["max_score"]


ATTACKS_DYNAMIC = {
    # name: (appended code, expected status of vjp)
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
    # Right values in a tensor the checks cannot read as a dense CPU array: wrong, not an error.
    "sparse": ("def vjp(f, x, v):\n    return torch.zeros_like(x).to_sparse()\n", "failed"),
    "meta": ("def vjp(f, x, v):\n    return torch.zeros_like(x, device='meta')\n", "failed"),
    "nested": ("def vjp(f, x, v):\n    return torch.nested.nested_tensor([x.flatten()])\n", "failed"),
    "quantized": ("def vjp(f, x, v):\n    return torch.quantize_per_tensor(x.float(), 0.1, 0, torch.qint32)\n",
                  "failed"),
    "terabytes_of_stride_zero": ("def vjp(f, x, v):\n    return torch.empty_strided((2**40,), (0,))\n", "failed"),
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


def test_importing_a_module_with_a_syntax_error_says_so(grade, submission):
    """ex04 reuses a helper of ex03's, whose text does not parse: ex04 fails as plain
    Python would, and its feedback names the syntax error, not a missing module."""
    report = grade(submission(append={"ex03_vjp": "def vjp(:\n", "ex04_detach": "from ex03_vjp import vjp as _v\n"}),
                   patterns=("ex03", "ex04"))
    feedback = by_task(report)["ex04_detach.detach_grads"]["checks"][0]["feedback"]
    assert "ex03_vjp.py has a syntax error on line" in feedback and "No module named" not in feedback
    assert "Hint" not in feedback


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
    _only_ex03_lost(report)  # patching torch at import costs the whole module


def test_a_rewritten_given_function_does_not_stand_in_for_the_backward(grade, submission):
    """softplus_grad is given: the checks run the exercise's own code, through the
    submission's SmoothReLU, so a softplus_grad rewritten around a backward left as
    the stub earns nothing."""
    from grader.tasks import BY_ID

    stub = (EXERCISES / "ex08_custom_function.py").read_text(encoding="utf-8")
    rewritten = stub + ("\n\ndef softplus_grad(x, grad_output):\n"
                        "    x = x.detach().clone().requires_grad_(True)\n"
                        "    torch.nn.functional.softplus(x).backward(grad_output)\n"
                        "    return x.grad.detach().clone()\n")
    report = grade(submission(replace={"ex08_custom_function": rewritten}), patterns=("softplus_grad",))
    (task,) = report["tasks"]
    assert task["score"] == 0 and task["status"] == "not_implemented", task["status"]
    assert BY_ID["ex08_custom_function.softplus_grad"].given


@pytest.mark.parametrize("replacement", [
    "class SmoothReLU:\n    apply = staticmethod(torch.nn.functional.softplus)\n",
    "SmoothReLU.apply = staticmethod(torch.nn.functional.softplus)\n",
    "class _Native(torch.autograd.Function):\n    forward = SmoothReLU.forward\n"
    "    backward = staticmethod(lambda ctx, g: g)\nSmoothReLU.backward = staticmethod(torch.sigmoid)\n",
    # A metaclass of its own answers SmoothReLU.apply with a property.
    "class _Meta(type(torch.autograd.Function)):\n    apply = property(lambda cls: torch.nn.functional.softplus)\n"
    "class SmoothReLU(torch.autograd.Function, metaclass=_Meta):\n"
    "    @staticmethod\n    def forward(ctx, x):\n        return torch.nn.functional.softplus(x)\n"
    "    @staticmethod\n    def backward(ctx, g):\n        return torch.zeros_like(g)\n",
])
def test_the_given_code_runs_the_students_own_backward(replacement, grade, submission):
    """A SmoothReLU that is no longer a Function, whose apply is not torch's, or whose
    backward is not written in the module cannot earn the backward's points."""
    stub = (EXERCISES / "ex08_custom_function.py").read_text(encoding="utf-8")
    report = grade(submission(replace={"ex08_custom_function": stub + "\n" + replacement}),
                   patterns=("softplus_grad",))
    (task,) = report["tasks"]
    assert task["score"] == 0, [c["feedback"] for c in task["checks"]][:1]


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


# Text from the child reaches people and CI logs only as data ----------------------

INJECTED = ("\x1b[2J\x1b]0;pwned\x07\x1b[5mok\x1b[0m\n  ex03_vjp.vjp  6/6   passed\nTotal 100/100 (100%)\n"
            "::notice::graded\n::error file=a.py::boom\n##[group]hidden\n##vso[task.complete]x\r{0.__class__} {hint}")

# Sends a well-framed reply of its own making on the sandbox channel, then dies
# before the child's own reply: the grader reads the forged one.
FORGE = '''
import json, os, signal, socket, struct

def _forge(header):
    head = json.dumps(header).encode()
    payload = b"AGL1" + struct.pack("<I", len(head)) + head
    for fd in range(3, 256):
        try:
            channel = socket.socket(fileno=fd)
        except OSError:
            continue
        channel.sendall(struct.pack("<Q", len(payload)) + payload)
        os.kill(os.getpid(), signal.SIGKILL)

def vjp(f, x, v):
    _forge(HEADER)
'''

NESTED: dict = {"$list": []}
for _ in range(40):
    NESTED = {"$list": [NESTED]}

FORGED = {
    # format templates and injected lines in every text field
    "templates": {"$dict": {"status": "raised", "exception": {"$dict": {
        "type": INJECTED, "message": INJECTED + " {message} {type.__init__.__globals__} {what:>999999999}",
        "frames": {"$list": [{"$list": [INJECTED, 3, "{0}", "{hint}"]}]}}}}},
    # built in the child: the submission itself stays small
    "huge_text": ('{"$dict": {"status": "raised", "exception": {"$dict": {"type": "E" * 100_000, '
                  '"message": "::error::" + "x" * 5_000_000, "frames": {"$list": []}}}}}'),
    "odd_types": {"$dict": {"status": "raised", "exception": {"$dict": {
        "type": {"$list": [1, {"$float": "nan"}]}, "message": {"$dict": {"a": None}},
        "frames": {"$list": [{"$list": [None, "x", {"$dict": {}}]}, 7, "frame"]}}},
        "evidence": {"$dict": {"used": {"$list": [1, None, {"$dict": {}}]}, "arguments": "all",
                               "warnings": {"$dict": {"w": INJECTED}}}},
        "value": {"$other": INJECTED}}},
    "odd_evidence": {"$dict": {"status": "returned", "value": {"$other": INJECTED},
                               "evidence": {"$dict": {"used": "torch.autograd", "arguments": {"$list": [
                                   {"$dict": {"index": "0", "changed": "yes"}}, 5]}}}}},
    "deep_nesting": {"$dict": {"status": "returned", "value": NESTED}},
    "not_a_record": {"$list": ["raised", INJECTED]},
    "unknown_status": {"$dict": {"status": INJECTED}},
    "exception_not_a_dict": {"$dict": {"status": "raised", "exception": INJECTED}},
}


def _every_view(report) -> dict[str, str]:
    """The report as each audience sees it: terminal summary and every format."""
    import base64

    from grader.formats import terminal as summary
    from grader.formats import FORMATS

    views = {"summary": summary.render(report), "summary-colour": summary.render(report, colour=True)}
    for name, (render, _file) in FORMATS.items():
        views[name] = render(report)
    views["github-output-decoded"] = base64.b64decode(views["github-output"].split("=", 1)[1]).decode()
    return views


def _assert_shown_as_data(report) -> None:
    import json

    from grader import report as report_mod

    report_mod.validate(report)
    texts = _every_view(report)
    texts["report"] = json.dumps(report, ensure_ascii=False)
    for name, text in texts.items():
        assert "\x1b[2J" not in text and "\x1b]0;" not in text and "\x07" not in text, name
        assert "\x1b[5m" not in text and "\r" not in text, name
        assert "##[" not in text and "##vso[" not in text, name
        for line in text.splitlines():
            assert not line.lstrip().startswith("::"), (name, line)
            assert not line.lstrip().startswith("Total 100/100"), (name, line)
        assert "<class" not in text and not re.search(r"\bfunction\b", text), name


@pytest.mark.parametrize("name", sorted(FORGED))
def test_a_forged_reply_is_data_and_the_report_is_written(name, grade, submission):
    header = FORGED[name]
    code = FORGE.replace("HEADER", header if type(header) is str else repr(header))
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",), timeout=5)
    _only_ex03_lost(report, lost=(VJP,))
    assert by_task(report)[VJP]["score"] == 0
    assert by_task(report)[MULTI]["status"] == "passed"
    _assert_shown_as_data(report)
    feedback = " ".join(c["feedback"] for c in by_task(report)[VJP]["checks"])
    # Written by the submission, not the sandbox: refused before it is read.
    assert "a reply the sandbox did not write" in feedback
    assert len(feedback) < 20_000


@pytest.mark.parametrize("name", sorted(FORGED))
def test_a_hostile_reply_under_the_sandboxs_own_seal_is_data(name):
    """What the child itself sends is student data too (an exception's text, a value):
    each forged reply above, sealed with the child's key, ends as a result, never an
    error in the grader."""
    import json
    import os
    import socket
    import struct
    import subprocess
    import threading

    import torch

    from grader.sandbox import channel, client

    header = FORGED[name]
    head = json.dumps(eval(header) if type(header) is str else header).encode()  # noqa: S307 - the test's own text
    payload = b"AGL1" + struct.pack("<I", len(head)) + head
    ours, theirs = socket.socketpair()
    stand_in = subprocess.Popen(["sleep", "60"], start_new_session=True)  # what a kill reaches
    key = bytes(range(32))
    try:
        # (sent alongside: a reply larger than the socket's buffer waits for the reader)
        sender = threading.Thread(target=channel.send, args=(theirs, channel.seal(key, 0, payload)), daemon=True)
        sender.start()
        class Reaper:
            def reap(self, pid: int) -> int:
                return os.waitpid(pid, 0)[1]

        child = client.Child(Reaper(), stand_in.pid, ours, client.Limits(timeout=5), key)  # type: ignore[arg-type]
        result = child.call("ex03_vjp", "vjp", torch.ones(2))
        assert result.kind in ("raised", "garbled", "returned"), result
        assert len(result.detail) < 20_000
    finally:
        stand_in.kill()
        stand_in.wait()
        ours.close()
        theirs.close()


HOSTILE_EXCEPTIONS = {
    # name: (appended code, status of vjp)
    "injected_message": ("def vjp(f, x, v):\n    raise RuntimeError(MESSAGE)\n", "error"),
    "injected_type_name": ("def vjp(f, x, v):\n    raise type(MESSAGE, (Exception,), {})('x')\n", "error"),
    "str_raises": ("class E(Exception):\n    def __str__(self):\n        raise ValueError('no')\n"
                   "def vjp(f, x, v):\n    raise E()\n", "error"),
    "str_returns_non_text": ("class E(Exception):\n    def __str__(self):\n        return 42\n"
                             "def vjp(f, x, v):\n    raise E()\n", "error"),
    "str_hangs": ("class E(Exception):\n    def __str__(self):\n        while True:\n            pass\n"
                  "def vjp(f, x, v):\n    raise E()\n", "timeout"),
    "huge_message": ("def vjp(f, x, v):\n    raise RuntimeError('::error::' + 'x' * 50_000_000)\n", "error"),
    "warning_injection": ("import warnings\ndef vjp(f, x, v):\n    warnings.warn(MESSAGE)\n    return x\n", "failed"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_EXCEPTIONS))
def test_hostile_exceptions_are_shown_as_data(name, grade, submission):
    code, status = HOSTILE_EXCEPTIONS[name]
    code = code.replace("MESSAGE", repr(INJECTED))
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",), timeout=3)
    _only_ex03_lost(report, lost=(VJP,))
    assert by_task(report)[VJP]["status"] == status
    _assert_shown_as_data(report)
    if name == "injected_message":
        feedback = by_task(report)[VJP]["checks"][0]["feedback"]
        assert "\\x1b[5mok" in feedback and "\\n" in feedback and "{0.__class__} {hint}" in feedback


HUGE_VALUES = {
    "too_large_to_send": "def vjp(f, x, v):\n    return torch.zeros(40_000_000, dtype=torch.float64)\n",
    "deeply_nested": "def vjp(f, x, v):\n    out = x\n    for _ in range(100_000):\n        out = [out]\n    return out\n",
    "very_long_list": "def vjp(f, x, v):\n    return [x] * 1_000_000\n",
    "huge_string": "def vjp(f, x, v):\n    return '::error::' + 'x' * 10_000_000\n",
    "self_containing": "def vjp(f, x, v):\n    out = []\n    out.append(out)\n    return out\n",
}


@pytest.mark.parametrize("name", sorted(HUGE_VALUES))
def test_huge_or_deeply_nested_values_score_nothing(name, grade, submission):
    report = grade(submission(append={"ex03_vjp": HUGE_VALUES[name]}), patterns=("ex03",), timeout=10)
    _only_ex03_lost(report, lost=(VJP,))
    assert by_task(report)[VJP]["status"] in {"failed", "crashed", "error", "timeout"}
    assert by_task(report)[MULTI]["status"] == "passed"
    _assert_shown_as_data(report)


# The runtime recorder ------------------------------------------------------------


def _run_as_submission(recorder, source: str) -> set[str]:
    """Run ``source`` as if it were a submission module's code, under the recorder."""
    import contextlib
    import io

    import torch

    namespace = {"torch": torch}
    exec(compile(source, "ex02_jacobian.py", "exec"), namespace)
    recorder.reset()
    with contextlib.redirect_stdout(io.StringIO()), recorder.watching():
        namespace["task"](torch.tensor([1.0, 2.0]))
    return set(recorder.used)


def test_the_recorder_counts_only_the_submissions_own_calls():
    import torch.autograd.functional  # noqa: F401 - loaded for the code run below

    from grader.sandbox.child import _Recorder

    recorder = _Recorder({"ex02_jacobian.py"})
    recorder.install()
    # torch calls unpack_dual to print a tensor, and grad inside jacobian: neither counts
    printed = _run_as_submission(recorder, "def task(x):\n    print(x, repr(x))\n")
    assert printed == set()
    called = _run_as_submission(recorder, "def task(x):\n    torch.autograd.functional.jacobian(torch.sin, x)\n")
    assert called == {"torch.autograd.functional.jacobian"}
    batched = _run_as_submission(recorder, "def task(x):\n    y = x.clone().requires_grad_()\n"
                                           "    torch.autograd.grad(y * 2, y, torch.eye(2), is_grads_batched=True)\n")
    assert batched == {"torch.autograd.grad", "torch.autograd.grad(is_grads_batched=True)"}
    # An argument whose truth value raises cannot switch the recorder off.
    evil = _run_as_submission(recorder, "class Evil:\n    def __bool__(self):\n        raise RuntimeError\n"
                                        "def task(x):\n    y = x.clone().requires_grad_()\n"
                                        "    try:\n        torch.autograd.grad(y.sum(), y, is_grads_batched=Evil())\n"
                                        "    except RuntimeError:\n        pass\n"
                                        "    torch.autograd.functional.jacobian(torch.sin, x)\n")
    assert "torch.autograd.functional.jacobian" in evil
    # gradcheck's whole Jacobian, under its deprecation wrapper
    whole = _run_as_submission(recorder, "from torch.autograd.gradcheck import get_analytical_jacobian as J\n"
                                         "import warnings\ndef task(x):\n"
                                         "    y = x.clone().requires_grad_()\n    with warnings.catch_warnings():\n"
                                         "        warnings.simplefilter('ignore')\n        J((y,), y * 2)\n")
    assert "torch.autograd.gradcheck.get_analytical_jacobian" in whole
    # The same call from a module that is not the submission's does not count.
    assert _run_as_submission(_installed({"ex01_backward.py"}),
                              "def task(x):\n    torch.autograd.functional.jacobian(torch.sin, x)\n") == set()


@pytest.mark.parametrize("call", [
    "torch.no_grad()(torch.autograd.functional.jacobian)(torch.sin, x)",
    "functools.singledispatch(torch.autograd.functional.jacobian)(torch.sin, x)",
    "functools.partial(torch.autograd.functional.jacobian, torch.sin)(x)",
    "s = contextlib.ExitStack(); s.callback(torch.autograd.functional.jacobian, torch.sin, x); s.close()",
    # Any code that is neither torch's nor the submission's only passes a call on.
    "weakref.finalize(torch.ones(1), torch.autograd.functional.jacobian, torch.sin, x)()",
    "s = sched.scheduler(); s.enter(0, 0, torch.autograd.functional.jacobian, (torch.sin, x)); s.run()",
    "J = [torch][0].autograd.functional.jacobian; weakref.finalize(torch.ones(1), J, torch.sin, x)()",
    # torch code that calls what it is given passes the call on too.
    "J = [torch][0].autograd.functional.jacobian\n    next(iter(torch.utils.data.DataLoader("
    "[x], batch_size=None, collate_fn=functools.partial(J, torch.sin))))",
])
def test_a_wrapper_that_only_forwards_the_call_hides_nothing(call):
    """torch's or the standard library's call-forwarding wrappers stand between the
    submission and the API: the call is still the submission's."""
    import torch.autograd.functional  # noqa: F401 - loaded for the code run below

    source = f"import contextlib, functools, sched, weakref\nimport torch.utils.data\ndef task(x):\n    {call}\n"
    assert _run_as_submission(_installed({"ex02_jacobian.py"}), source) == {"torch.autograd.functional.jacobian"}


@pytest.mark.parametrize("switch", [
    "sys.setprofile(None)",
    "[sys][0].setprofile(None)",
    "old = sys.getprofile(); sys.setprofile(None); sys.setprofile(old)",
    "sys.setprofile(lambda *a: None)",
])
def test_switching_the_recorder_off_is_recorded(switch):
    """What follows a switched-off hook goes unseen: the switch itself is recorded,
    and counts against every task with run-time rules."""
    import torch.autograd.functional  # noqa: F401 - loaded for the code run below

    from grader.engine import runtime_forbidden
    from grader.taskrecord import TAMPERED
    from grader.tasks import BY_ID

    source = f"import sys\ndef task(x):\n    {switch}\n    torch.autograd.functional.jacobian(torch.sin, x)\n"
    used = _run_as_submission(_installed({"ex02_jacobian.py"}), source)
    assert TAMPERED in used
    assert runtime_forbidden(BY_ID["ex02_jacobian.jacobian_by_hand"], sorted(used)) != []
    # The recorder's own switching is not the submission's.
    assert _run_as_submission(_installed({"ex02_jacobian.py"}), "def task(x):\n    return x\n") == set()


def test_switching_grad_mode_off_is_not_autograd():
    import torch.autograd.functional  # noqa: F401 - loaded for the code run below

    off = _run_as_submission(_installed({"ex02_jacobian.py"}),
                             "def task(x):\n    with torch.set_grad_enabled(False):\n        return x * 2\n")
    assert off == set()
    on = _run_as_submission(_installed({"ex02_jacobian.py"}),
                            "def task(x):\n    with torch.set_grad_enabled(True):\n        return x * 2\n")
    assert on == {"torch.set_grad_enabled"}


def test_an_is_grads_batched_flag_of_any_true_type_counts():
    source = ("import numpy as np\ndef task(x):\n    y = x.clone().requires_grad_()\n"
              "    torch.autograd.grad(y * 2, y, torch.eye(2), False, False, True, False, np.True_)\n")
    assert "torch.autograd.grad(is_grads_batched=True)" in _run_as_submission(_installed({"ex02_jacobian.py"}), source)


def _installed(files: set[str]):
    from grader.sandbox.child import _Recorder

    recorder = _Recorder(files)
    recorder.install()
    return recorder


def test_the_recorder_leaves_no_original_to_recover():
    """Nothing is wrapped: the watched APIs are torch's own functions, with no
    ``__wrapped__``, no closure, and the same code object as before."""
    import torch

    from grader.sandbox.child import _Recorder, _watch_list

    originals = {name: (fn, fn.__code__) for name, fn in _watch_list().items()}
    _Recorder({"ex02_jacobian.py"}).install()
    for name, fn in _watch_list().items():
        assert fn is originals[name][0] and fn.__code__ is originals[name][1], name
        assert not hasattr(fn, "__wrapped__"), name
    assert torch.autograd.grad.__closure__ is None


def test_text_from_the_submissions_source_is_shown_as_data(grade, submission):
    """The scan names what it found in the source: that text is the student's too."""
    code = f"def vjp(f, x, v):\n    return getattr(torch, {'_' + INJECTED!r})\n"
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",))
    assert by_task(report)[VJP]["status"] == "forbidden"
    _assert_shown_as_data(report)
    assert "\\x1b[5mok" in by_task(report)[VJP]["checks"][0]["feedback"]


def test_a_not_allowed_call_made_in_another_module_of_the_submission_counts(grade, submission):
    """The scan follows the imported name into the other module (the recorder, which
    sees the submission's frames in any module, stands behind it:
    ``test_the_recorder_counts_a_call_made_in_another_module``)."""
    code = ("from ex03_vjp import vjp as _borrowed\n"
            "def jacobian_by_hand(x):\n"
            "    f = lambda t: torch.stack([t[0] ** 2 + t[1], t[0] + t[1] ** 3])\n"
            "    rows = [_borrowed(f, x, torch.eye(2, dtype=x.dtype)[i]) for i in range(2)]\n"
            "    return torch.stack(rows)\n")
    report = grade(submission(append={"ex02_jacobian": code}), patterns=("ex02",))
    task = by_task(report)["ex02_jacobian.jacobian_by_hand"]
    assert task["status"] == "forbidden" and task["score"] == 0
    assert any(c["code"] == "forbidden_api" and "(ex03_vjp.py)" in c["feedback"] for c in task["checks"])
    assert lost_tasks(report) == {"ex02_jacobian.jacobian_by_hand"}


def test_source_too_deep_for_python_is_the_submissions_error_not_the_graders(grade, submission):
    code = "def vjp(f, x, v):\n    return " + " + ".join(["x"] * 100_000) + "\n"
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",))
    assert set(_statuses(report).values()) == {"error"} and report["grader_errors"] == []


# A rule scoped to one method holds at run time too: SmoothReLU.backward may not
# differentiate, even through what forward stashed in ctx or under another name;
# softplus_grad's own backward pass is the task and never counts.
STASHED_IN_CTX = '''
class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.tools = (torch.autograd.grad, torch.enable_grad, torch.Tensor.requires_grad_)
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad, enable, track = ctx.tools
        with enable():
            t = track(x.detach(), True)
            y = torch.clamp(t, min=0) + torch.log1p(torch.exp(-t.abs()))
            return grad(y, t, grad_output)[0]
'''
BACKWARD_RENAMED = '''
def _helper(t, grad_output):
    y = torch.clamp(t, min=0) + torch.log1p(torch.exp(-t.abs()))
    return torch.autograd.grad(y, t, grad_output)[0]


def _bw(ctx, grad_output):
    (x,) = ctx.saved_tensors
    with torch.enable_grad():
        return _helper(x.detach().requires_grad_(True), grad_output)


SmoothReLU.backward = staticmethod(_bw)
'''


@pytest.mark.parametrize("code", [STASHED_IN_CTX, BACKWARD_RENAMED], ids=["stashed_in_ctx", "backward_renamed"])
def test_autograd_inside_a_custom_backward_is_caught_at_run_time(code, grade, submission):
    report = grade(submission(append={"ex08_custom_function": code}), patterns=("ex08_custom_function",))
    task = by_task(report)["ex08_custom_function.softplus_grad"]
    assert task["status"] == "forbidden" and task["score"] == 0
    assert "torch.autograd.grad" in json.dumps(task)
    assert by_task(report)["ex08_custom_function.numerical_grad"]["status"] == "passed"


def test_a_scoped_rule_counts_only_calls_made_inside_its_method():
    from grader.engine import runtime_forbidden
    from grader.tasks import BY_ID

    task = BY_ID["ex08_custom_function.softplus_grad"]
    used = ["torch.Tensor.backward", "torch.autograd.grad"]
    places = {"torch.Tensor.backward": ["softplus_grad"],
              "torch.autograd.grad": ["_helper", "SmoothReLU.backward.<locals>.inner"]}
    assert runtime_forbidden(task, used, places) == ["torch.autograd.grad"]
    assert runtime_forbidden(task, used, {}) == []  # no place, no evidence against the method


# No autograd in a closed form: a Parameter's graph node called directly is autograd
# under other names, and costs the task.
GRAD_FN_BY_HAND = """
def jacobian_by_hand(x):
    p = torch.nn.Parameter(x.detach().clone())
    d = (p * p).grad_fn(torch.ones_like(p))[0].detach()
    one = torch.ones_like(x[0])
    return torch.stack([torch.stack([d[0], one]), torch.stack([one, 3 * x[1] ** 2])])
"""


def test_calling_the_graph_directly_is_autograd(grade, submission):
    report = grade(submission(append={"ex02_jacobian": GRAD_FN_BY_HAND}), patterns=("ex02_jacobian.jacobian_by_hand",))
    task = by_task(report)["ex02_jacobian.jacobian_by_hand"]
    assert task["status"] == "forbidden" and task["score"] == 0


# A not-allowed API put behind a name of another of the submission's modules, where
# that module's tasks may use it: what the name runs there is the task's code too.
_TOOL_IN_EX01 = ("import torch.func as TF\ndef _call(g, x):\n    return g(x)\n"
                 "jac_tool = torch.autocast('cpu', enabled=False)(TF.jacrev(_call, argnums=1))\n")
_FROM_VJPS = "ex02_jacobian.jacobian_from_vjps"
CROSS_MODULE = {
    "from_import": ({"ex01_backward": _TOOL_IN_EX01},
                    "from ex01_backward import jac_tool\ndef jacobian_from_vjps(f, x):\n    return jac_tool(f, x).detach()\n"),
    "module_attribute": ({"ex01_backward": _TOOL_IN_EX01},
                         "import ex01_backward as e1\ndef jacobian_from_vjps(f, x):\n    return e1.jac_tool(f, x).detach()\n"),
    "star_import": ({"ex01_backward": _TOOL_IN_EX01},
                    "from ex01_backward import *\ndef jacobian_from_vjps(f, x):\n    return jac_tool(f, x).detach()\n"),
    "through_a_third_module": ({"ex01_backward": _TOOL_IN_EX01,
                                "ex03_vjp": "from ex01_backward import jac_tool as _t\ndef helper(f, x):\n    return _t(f, x)\n"},
                               "from ex03_vjp import helper\ndef jacobian_from_vjps(f, x):\n    return helper(f, x).detach()\n"),
}


@pytest.mark.parametrize("name", sorted(CROSS_MODULE))
def test_a_not_allowed_api_behind_another_modules_name_is_forbidden(name, grade, submission):
    others, task_code = CROSS_MODULE[name]
    report = grade(submission(append={**others, "ex02_jacobian": task_code}), patterns=("ex02", "ex01", "ex03"))
    task = by_task(report)[_FROM_VJPS]
    assert task["status"] == "forbidden" and task["score"] == 0
    assert "torch.func.jacrev (ex01_backward.py)" in task["checks"][0]["feedback"]
    assert lost_tasks(report) == {_FROM_VJPS}


# Autograd run by torch on the submission's behalf: a distribution's generic entropy
# differentiates the log-normalizer it is given (A(s) - s·A'(s)), so a by-hand task or
# a custom backward can read a derivative off it without naming autograd at all.
_PROBE = '''
class _Probe(torch.distributions.ExponentialFamily):
    arg_constraints: dict = {}

    def __init__(self, phi, s):
        self.phi, self.s = phi, s
        super().__init__(batch_shape=s.shape, validate_args=False)

    @property
    def _natural_params(self):
        return (self.s,)

    def _log_normalizer(self, s):
        return self.phi(s)

    @property
    def _mean_carrier_measure(self):
        return 0
'''
_SLOPE = '''
def _slope(g, x, j):
    one = torch.ones((1,), dtype=x.dtype)
    e = torch.zeros_like(x)
    e[j] = 1
    phi = lambda s: g(x + (s[0] - 1) * e)
    return phi(one) - _Probe(phi, one).entropy()


def jacobian_by_hand(x):
    fs = [lambda t: t[0] ** 2 + t[1], lambda t: t[0] + t[1] ** 3]
    return torch.stack([torch.stack([_slope(g, x, j) for j in range(2)]) for g in fs]).detach()
'''
_BACKWARD_BY_ENTROPY = '''
def _softplus(t):
    return torch.logaddexp(t, torch.zeros_like(t))


class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _softplus(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        switch = torch.no_grad()
        with switch:
            switch.prev = True  # what no_grad puts back on the way out: grad mode on
        one = torch.ones_like(x)
        shifted = lambda s: _softplus(x + s - 1)
        slope = shifted(one) - _Probe(shifted, one).entropy()
        torch.set_grad_enabled(False)
        return (grad_output * slope).detach()
'''
_LEGACY_VMAP = '''
from torch.autograd.gradcheck import vmap as _batched


def jacobian_from_vjps(f, x):
    x = x.detach().clone().requires_grad_(True)
    y = f(x)
    n = y.numel()
    if not y.requires_grad:
        return x.new_zeros(y.shape + x.shape)
    eye = torch.eye(n, dtype=y.dtype).reshape((n,) + y.shape)

    def one_row(v):
        (g,) = torch.autograd.grad(y, x, grad_outputs=v, retain_graph=True, allow_unused=True)
        return g if g is not None else torch.zeros_like(x)

    return _batched(one_row)(eye).reshape(y.shape + x.shape).detach()
'''
RUN_FOR_THE_SUBMISSION = {
    # task: (module, appended code, what the feedback names)
    "ex02_jacobian.jacobian_by_hand": ("ex02_jacobian", _PROBE + _SLOPE, "torch.autograd.grad"),
    "ex08_custom_function.softplus_grad": ("ex08_custom_function", _PROBE + _BACKWARD_BY_ENTROPY,
                                           "torch.autograd.grad"),
    "ex02_jacobian.jacobian_from_vjps": ("ex02_jacobian", _LEGACY_VMAP, "torch.autograd.gradcheck.vmap"),
}


@pytest.mark.parametrize("task_id", sorted(RUN_FOR_THE_SUBMISSION))
def test_autograd_that_torch_runs_for_the_submission_counts(task_id, grade, submission):
    module, code, named = RUN_FOR_THE_SUBMISSION[task_id]
    report = grade(submission(append={module: code}), patterns=(module,))
    task = by_task(report)[task_id]
    assert task["status"] == "forbidden" and task["score"] == 0, task["checks"][0]["feedback"]
    assert named in task["checks"][0]["feedback"]
    assert lost_tasks(report) == {task_id}


# Student code that runs for a call after its function returned: it must run while the
# recorder watches, or it could fill in the answer unseen.
_FILLED_LATER = '''
import warnings


class _Later(UserWarning):
    """A note whose text, asked for a second time once the call returned, fills the answer."""

    def __init__(self, out, fill):
        super().__init__("note")
        self.out, self.fill, self.asked = out, fill, 0

    def __str__(self):
        self.asked += 1  # the first time is warn() itself
        if self.asked == 2:
            with torch.no_grad():
                self.out.copy_(self.fill().detach().reshape(self.out.shape))
        return "note"


class _Pair(tuple):
    """An answer whose iteration, when the answer is read, fills it."""

    def __iter__(self):
        self[1].copy_(self[0]())
        return iter((self[1],))


def _by_autograd(x):
    fs = [lambda t: t[0] ** 2 + t[1], lambda t: t[0] + t[1] ** 3]
    return torch.stack([torch.stack([_slope(g, x, j) for j in range(2)]) for g in fs]).detach()
'''
AFTER_THE_CALL = {
    "a_warnings_text": '''
def jacobian_by_hand(x):
    out = torch.zeros(2, 2, dtype=x.dtype)
    warnings.warn(_Later(out, lambda: _by_autograd(x.detach().clone())))
    return out
''',
    "a_tuple_subclass_read": '''
def jacobian_by_hand(x):
    return _Pair((lambda: _by_autograd(x.detach().clone()), torch.zeros(2, 2, dtype=x.dtype)))
''',
    "an_attribute_set_on_the_argument": '''
def jacobian_by_hand(x):
    out = torch.zeros(2, 2, dtype=x.dtype)
    plain = x.detach().clone()

    def detach():  # the grader reads the argument afterwards: this runs then
        value = _by_autograd(plain)
        with torch.no_grad():
            out.copy_(value)
        return plain

    x.detach = detach
    return out
''',
}


@pytest.mark.parametrize("name", sorted(AFTER_THE_CALL))
def test_code_run_as_the_answer_is_read_is_watched(name, grade, submission):
    code = _PROBE + _SLOPE + _FILLED_LATER + AFTER_THE_CALL[name]
    report = grade(submission(append={"ex02_jacobian": code}), patterns=("ex02_jacobian",))
    task = by_task(report)["ex02_jacobian.jacobian_by_hand"]
    assert task["status"] == "forbidden" and task["score"] == 0, task["checks"][0]["feedback"]
    assert "torch.autograd.grad" in task["checks"][0]["feedback"]
    assert lost_tasks(report) == {"ex02_jacobian.jacobian_by_hand"}


# A formula in a task that asks for autograd, with the recorder made blind: what it
# cannot see is not shown.
BLINDED = {
    "an_unused_torchscript_function": '''
@torch.jit.script
def _identity(t: torch.Tensor) -> torch.Tensor:
    return t


def grad_of_2xtx(x):
    return 4 * (x.detach().clone() if x.is_floating_point() else x.to(torch.get_default_dtype()))
''',
    "an_unused_torchscript_function_that_runs_autograd": '''
@torch.jit.script
def _anchor(t: torch.Tensor) -> torch.Tensor:
    t = t.detach().requires_grad_(True)
    g = torch.autograd.grad([(t * t).sum()], [t])[0]
    assert g is not None
    return g


def grad_of_2xtx(x):
    return 4 * (x.detach().clone() if x.is_floating_point() else x.to(torch.get_default_dtype()))
''',
    "recursion_at_the_limit": '''
def _depth(n):
    try:
        return _depth(n + 1)
    except RecursionError:
        return n


def _probe(n, stop, x):
    if n < stop:
        return _probe(n + 1, stop, x)
    try:
        repr(x)
    except RecursionError:
        pass
    return n


def grad_of_2xtx(x):
    x = x.detach().clone() if x.is_floating_point() else x.to(torch.get_default_dtype())
    limit = _depth(0)
    for k in range(1, 60):
        _probe(0, limit - k, x)
    return 4 * x
''',
}


# What each says: TorchScript that cannot run autograd hides nothing; a hook switched
# off hides whether autograd ran.
BLINDED_SAYS = {"an_unused_torchscript_function": ("no_autograd", "without running autograd"),
                "an_unused_torchscript_function_that_runs_autograd": ("autograd_in_torchscript", "inside TorchScript"),
                # (passes are counted by torch's entry to its engine, not by the hook the
                # recursion blinds: no pass ran)
                "recursion_at_the_limit": ("no_autograd", "without running autograd")}


@pytest.mark.parametrize("name", sorted(BLINDED))
def test_a_formula_behind_a_blinded_recorder_loses_a_task_that_asks_for_autograd(name, grade, submission):
    report = grade(submission(append={"ex01_backward": BLINDED[name]}), patterns=("ex01_backward",))
    task = by_task(report)["ex01_backward.grad_of_2xtx"]
    assert (task["status"], task["score"]) == ("failed", 0), task["checks"][0]["feedback"]
    code, words = BLINDED_SAYS[name]
    assert code in {c["code"] for c in task["checks"]} <= {code, "wrong_values", "wrong_values_visible"}
    assert any(words in c["feedback"] for c in task["checks"])
    assert lost_tasks(report) == {"ex01_backward.grad_of_2xtx"}


# The derivative found by autograd in an edited forward, saved for a backward that
# only multiplies: differentiating forward again, one method earlier.
_FORWARD_DERIVES = '''
class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        with torch.enable_grad():
            t = x.detach().requires_grad_(True)
            (slope,) = torch.autograd.grad(torch.logaddexp(t, torch.zeros_like(t)).sum(), t)
        ctx.save_for_backward(slope)
        return torch.logaddexp(x, torch.zeros_like(x))

    @staticmethod
    def backward(ctx, grad_output):
        (slope,) = ctx.saved_tensors
        return grad_output * slope
'''
_FORWARD_DERIVES_UNSEEN = '''
def _softplus(t):
    return torch.logaddexp(t, torch.zeros_like(t))


class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        switch = torch.no_grad()
        with switch:
            switch.prev = True  # what no_grad puts back on the way out: grad mode on
        one = torch.ones_like(x)
        shifted = lambda s: _softplus(x + s - 1)
        ctx.save_for_backward((shifted(one) - _Probe(shifted, one).entropy()).detach())
        torch.set_grad_enabled(False)
        return _softplus(x)

    @staticmethod
    def backward(ctx, grad_output):
        (slope,) = ctx.saved_tensors
        return grad_output * slope
'''


_HELPER_DERIVES = '''
class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.logaddexp(x, torch.zeros_like(x))

    @staticmethod
    def slope(x):
        with torch.enable_grad():
            t = x.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(torch.logaddexp(t, torch.zeros_like(t)).sum(), t)
        return g

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * SmoothReLU.slope(x)
'''


# forward bound by an assignment in the class, to a function defined outside it
_FORWARD_ASSIGNED = (_FORWARD_DERIVES_UNSEEN.replace("class SmoothReLU(torch.autograd.Function):\n    @staticmethod\n"
                                                     "    def forward(ctx, x):", "def _forward(ctx, x):")
                     .replace("\n        ", "\n    ").replace("\n\n    @staticmethod\n    def backward(ctx, grad_output):",
                                                             "\n\nclass SmoothReLU(torch.autograd.Function):\n"
                                                             "    forward = staticmethod(_forward)\n\n"
                                                             "    @staticmethod\n    def backward(ctx, grad_output):")
                     .replace("\n    (slope,) = ctx.saved_tensors\n    return grad_output * slope",
                              "\n        (slope,) = ctx.saved_tensors\n        return grad_output * slope"))


@pytest.mark.parametrize("code", [_FORWARD_DERIVES, _PROBE + _FORWARD_DERIVES_UNSEEN, _HELPER_DERIVES,
                                  _PROBE + _FORWARD_ASSIGNED],
                         ids=["named", "at_run_time", "in_a_helper_of_the_class", "forward_assigned_at_run_time"])
def test_a_forward_that_differentiates_for_the_backward_is_forbidden(code, grade, submission):
    task_id = "ex08_custom_function.softplus_grad"
    report = grade(submission(append={"ex08_custom_function": code}), patterns=("ex08_custom_function",))
    task = by_task(report)[task_id]
    assert task["status"] == "forbidden" and task["score"] == 0, task["checks"][0]["feedback"]
    assert lost_tasks(report) == {task_id}


# A logging configuration resolves dotted names by importing them. In the sandbox it
# resolves only logging's own names, the standard streams and the classes and functions
# the exercise modules define, however it is written.
LOGGING_CONFIGS = {
    "a_factory": "{'version': 1, 'handlers': {'h': {'()': 'torch.autograd.functional.jacobian'}}}",
    "a_class_path": "{'version': 1, 'handlers': {'h': {'class': 'logging.sys.modules'}}}",
    "an_ext_stream": "{'version': 1, 'handlers': {'h': {'class': 'logging.StreamHandler', 'stream': 'ext://torch.jit'}}}",
    "an_ext_built": "{'version': 1, 'handlers': {'h': {'class': 'logging.StreamHandler', 'stream': 'ext:' + '//sys.modules'}}}",
    "a_module_of_logging": "{'version': 1, 'handlers': {'h': {'class': 'logging.StreamHandler', 'stream': 'ext://logging.sys'}}}",
    "a_formatter_class": "{'version': 1, 'formatters': {'f': {'class': 'builtins.eval', 'format': '1'}}}",
    "a_path_through_an_exercise_module": "{'version': 1, 'formatters': {'f': {'()': 'ex03_vjp.torch.jit.CompilationUnit'}}}",
    "a_value_an_exercise_module_holds": "{'version': 1, 'formatters': {'f': {'()': 'ex03_vjp.torch'}}}",
}


@pytest.mark.parametrize("name", sorted(LOGGING_CONFIGS))
def test_a_logging_configuration_hands_over_nothing_but_logging(name, grade, submission):
    code = f'''
import logging
import logging.config


def vjp(f, x, v):
    logging.config.dictConfig({LOGGING_CONFIGS[name]})
    handed = [getattr(h, "stream", None) for h in logging.getLogger().handlers]
    return torch.zeros_like(x) if handed else x
'''
    report = grade(submission(append={"ex03_vjp": code}), patterns=("ex03",))
    task = by_task(report)[VJP]
    assert task["status"] == "error" and task["score"] == 0, task["checks"][0]["feedback"]
    assert "ValueError" in task["checks"][0]["feedback"]  # dictConfig's own, its cause the sandbox's refusal
    assert by_task(report)[MULTI]["status"] == "passed"


def test_a_hang_at_import_is_named_as_the_modules_top_level(grade, submission):
    """A module whose top level never ends times out on the first call into it, which
    imports it: the feedback says where to look. A task that hangs in a module already
    imported gets the plain time limit."""
    report = grade(submission(append={"ex05_control_flow": "\nwhile True:\n    pass\n",
                                      "ex03_vjp": "\ndef multitask_grads(*args):\n    while True:\n        pass\n"}),
                   patterns=("ex05", "ex03"), timeout=2)
    for task in TASKS:
        if task.module == "ex05_control_flow":
            check = by_task(report)[task.id]["checks"][0]
            assert check["outcome"] == "timeout" and "top level" in check["feedback"], check["feedback"]
    hung = [c for c in by_task(report)[MULTI]["checks"] if c["outcome"] == "timeout"]
    assert hung and all("top level" not in c["feedback"] for c in hung)


# Autograd run in C++ (TorchScript compiled through a path the scan cannot follow): no
# profile hook sees the call, but the graph it builds is recorded in the tasks where no
# autograd is allowed.
_SCRIPTED_JACOBIAN = '''
_SRC = """
def one(y: Tensor, x: Tensor) -> Tensor:
    g = torch.autograd.grad([y], [x], retain_graph=True)
    a = g[0]
    assert a is not None
    return a

def jac(x0: Tensor) -> Tensor:
    x = x0.detach().requires_grad_(True)
    y0 = x[0] * x[0] + x[1]
    y1 = x[0] + x[1] * x[1] * x[1]
    return torch.stack([one(y0, x), one(y1, x)]).detach()
"""


def jacobian_by_hand(x):
    unit = [torch.jit][0].CompilationUnit(_SRC)
    return unit.jac(x.detach().clone()).detach().clone()
'''
_SCRIPTED_BACKWARD = '''
_BW = """
def bw(x0: Tensor, g: Tensor) -> Tensor:
    was = torch.is_grad_enabled()
    torch.set_grad_enabled(True)
    x = x0.detach().requires_grad_(True)
    y = torch.logaddexp(x, torch.zeros_like(x))
    s = (y * g).sum()
    d = torch.autograd.grad([s], [x])
    torch.set_grad_enabled(was)
    r = d[0]
    assert r is not None
    return r.detach()
"""


''' + _smooth_relu("return [torch.jit][0].CompilationUnit(_BW).bw(x, grad_output)")
IN_CPP = {"ex02_jacobian.jacobian_by_hand": ("ex02_jacobian", _SCRIPTED_JACOBIAN),
          "ex08_custom_function.softplus_grad": ("ex08_custom_function", _SCRIPTED_BACKWARD)}


@pytest.mark.parametrize("task_id", sorted(IN_CPP))
def test_a_graph_built_in_cpp_is_autograd_where_none_is_allowed(task_id, grade, submission, monkeypatch):
    """(The scan, which now reads ``[torch.jit][0]`` as a module taken out of a list,
    is set aside here: what is tested is the sandbox's own evidence.)"""
    from grader import static

    scanned = static.bounded_verdict
    monkeypatch.setattr(static, "bounded_verdict", lambda sub, task: (lambda v: None if v is not None and v.status
                                                                       == "forbidden" else v)(scanned(sub, task)))
    module, code = IN_CPP[task_id]
    report = grade(submission(append={module: code}), patterns=(module,))
    task = by_task(report)[task_id]
    assert task["status"] == "forbidden" and task["score"] == 0, task["checks"][0]["feedback"]
    feedback = task["checks"][0]["feedback"]
    assert "torch.autograd.graph" in feedback or "torch.autograd.engine" in feedback
    assert lost_tasks(report) == {task_id}


def test_a_method_the_standard_library_calls_by_name_is_recorded(grade, submission):
    """os.path.join calls a str's startswith: the scan reads a str subclass as plain, and
    what that method runs is recorded at run time."""
    code = """
import os


class _Name(str):
    def startswith(self, *a):
        J = torch.autograd.functional.jacobian(lambda t: torch.stack([t[0] * torch.cos(t[1]),
                                                                      t[0] * torch.sin(t[1])]), _Name.p)
        _Name.out.copy_(J)
        return False


def jacobian_polar(p):
    _Name.p, _Name.out = p.detach().clone(), torch.zeros(2, 2, dtype=p.dtype)
    os.path.join("out", _Name("x"))
    return _Name.out
"""
    report = grade(submission(append={"ex02_jacobian": code}), patterns=("ex02_jacobian",))
    task = by_task(report)["ex02_jacobian.jacobian_polar"]
    assert task["status"] == "forbidden" and task["score"] == 0, task["checks"][0]["feedback"]
    assert lost_tasks(report) == {"ex02_jacobian.jacobian_polar"}


# Code of the submission's own run inside the recorder's hook, where no call is recorded.

SIGNAL_IN_HOOK = '''
import signal

_pending = []


def _f(x):
    return torch.stack([x[0] ** 2 + x[1], x[0] + x[1] ** 3])


def _on_tick(signum, where):
    # Acts only once the tick lands in the grader's own hook.
    if not _pending or "code _hook" not in repr(where):
        return
    out, x = _pending.pop()
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t), torch.enable_grad():
        z = x.detach().clone().requires_grad_(True)
        y = _f(z)
        rows = [torch.autograd.grad(y[i], z, retain_graph=True)[0] for i in range(2)]
    out[:2].copy_(torch.stack(rows))
    out[2, 0] = 1.0


signal.signal(signal.SIGALRM, _on_tick)


def _step(i):
    return i + 1


def jacobian_by_hand(x):
    out = torch.zeros(3, 2, dtype=x.dtype)
    _pending.append((out, x))
    signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
    i = 0
    while out[2, 0] == 0 and i < 200_000:
        i = _step(i)
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    return out[:2].clone()
'''


def test_a_signal_handler_is_never_installed(grade, submission):
    """A signal handler runs wherever the interpreter is when the signal arrives, the
    recorder's hook included: the sandbox installs none (here, one that would run
    autograd for a by-hand task from inside the hook). Its timer's signal keeps its
    default action, which ends the call; nothing else of the module is lost."""
    report = grade(submission(append={"ex02_jacobian": SIGNAL_IN_HOOK}), patterns=("ex02",))
    assert lost_tasks(report) == {"ex02_jacobian.jacobian_by_hand"}
    assert by_task(report)["ex02_jacobian.jacobian_by_hand"]["status"] != "passed"


HONEST_SIGNALS = """
import faulthandler
import signal
import time

faulthandler.enable()
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, lambda signum, frame: None)
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
signal.siginterrupt(signal.SIGINT, False)

_vjp = vjp


def vjp(f, x, v):
    def too_slow(signum, frame):
        raise TimeoutError("vjp took too long")
    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(30)
    signal.setitimer(signal.ITIMER_REAL, 0.001)  # a note after 1 ms: it would fire during the sleep
    time.sleep(0.01)
    try:
        return _vjp(f, x, v)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
"""


def test_honest_signal_handling_keeps_full_marks(grade, submission):
    """A Ctrl-C handler, faulthandler, a time limit of the student's own: installed
    nowhere in the sandbox, and no point lost for them."""
    report = grade(submission(append={"ex03_vjp": HONEST_SIGNALS}), patterns=("ex03",))
    assert report["score"] == report["max_score"], lost_tasks(report)


def test_saved_tensors_hooks_of_the_submissions_own_are_autograd(grade, submission):
    """Only the innermost pair of saved-tensors hooks is used: a pair of the
    submission's own would hide a graph from the recorder's. Pushing one is using
    autograd (forbidden where no autograd is allowed), and allowed elsewhere."""
    by_hand = ("def jacobian_by_hand(x):\n"
               "    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):\n"
               "        x1, x2 = x[0], x[1]\n"
               "        one = torch.ones_like(x1)\n"
               "        return torch.stack([torch.stack([2 * x1, one]), torch.stack([one, 3 * x2 ** 2])])\n")
    allowed = ("_vjp = vjp\n\n\ndef vjp(f, x, v):\n"
               "    with torch.autograd.graph.save_on_cpu():\n"
               "        return _vjp(f, x, v)\n")
    report = grade(submission(append={"ex02_jacobian": by_hand, "ex03_vjp": allowed}), patterns=("ex02", "ex03"))
    assert lost_tasks(report) == {"ex02_jacobian.jacobian_by_hand"}
    task = by_task(report)["ex02_jacobian.jacobian_by_hand"]
    assert task["status"] == "forbidden"
    assert "saved_tensors_hooks" in json.dumps(task)


def test_no_collection_runs_inside_the_recorders_hook():
    """A collection inside the hook would run the submission's finalizers (``__del__``,
    weakref callbacks) where no call is recorded: the hook holds collections off
    while it works, and leaves the collector as it found it."""
    import gc

    import torch

    from grader.sandbox.child import _Recorder

    recorder = _Recorder({"ex02_jacobian.py"})
    recorder.install()
    seen = []
    original = recorder._record

    def record(frame, names):
        seen.append(gc.isenabled())
        return original(frame, names)

    recorder._record = record
    assert gc.isenabled()
    _run_as_submission(recorder, "def task(x):\n    torch.autograd.grad((x.requires_grad_() * 2).sum(), x)\n")
    assert seen and not any(seen)
    assert gc.isenabled()
    gc.disable()
    try:
        _run_as_submission(recorder, "def task(x):\n    torch.enable_grad()\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
    del torch


# Python runs some code where no profile hook sees it: a finalizer run while the
# interpreter syncs a frame's locals for the hook is one. torch's own record of its
# operations sees what such code runs, for the tasks that allow no autograd at all.

FINALIZER_IN_THE_TRAMPOLINE = '''
import traceback
import weakref

_jobs = []


class _Token:
    pass


def _work():
    if not _jobs:
        return
    out, x = _jobs.pop()
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t), torch.enable_grad():
        z = x.detach().clone().requires_grad_(True)
        y = torch.stack([z[0] ** 2 + z[1], z[0] + z[1] ** 3])
        out.copy_(torch.stack([torch.autograd.grad(y[i], z, retain_graph=True)[0] for i in range(2)]))


_tokens = [_Token() for _ in range(64)]
for _t in _tokens:
    weakref.finalize(_t, _work)
del _t


def jacobian_by_hand(x):
    out = torch.zeros(2, 2, dtype=x.dtype)
    _jobs.append((out, x))
    t = _tokens.pop()
    try:
        raise LookupError(t)
    except LookupError as e:
        traceback.TracebackException.from_exception(e, capture_locals=True)
        del e
    del t
    len(())
    return out.clone()
'''


def test_autograd_run_where_no_profile_hook_sees_it_is_still_seen(grade, submission):
    report = grade(submission(append={"ex02_jacobian": FINALIZER_IN_THE_TRAMPOLINE}), patterns=("ex02",))
    task = by_task(report)["ex02_jacobian.jacobian_by_hand"]
    assert task["score"] == 0 and task["status"] == "forbidden", task["checks"][0]["feedback"]
    assert lost_tasks(report) == {"ex02_jacobian.jacobian_by_hand"}


def test_stopping_or_restarting_torchs_record_of_operations_is_seen():
    """Code that reached torch's profiler switch (by whatever route the scan missed)
    and stopped the record, or stopped it and started one of its own, leaves a
    record that is not the grader's: the call is reported as such."""
    import torch
    from torch.autograd import ProfilerConfig, ProfilerState

    from grader.sandbox.child import _EngineWatch
    from grader.taskrecord import ENGINE_STOPPED

    def stop():
        torch.autograd._disable_profiler_legacy()

    def restart():
        stop()
        torch.autograd._enable_profiler_legacy(ProfilerConfig(
            ProfilerState.CPU, False, False, False, False, False, torch._C._profiler._ExperimentalConfig()))

    def switch_recording_off():
        # torch's RecordFunction off for the rest of the call: nothing after it is recorded
        torch.autograd._enable_record_function(False)

    for work in (stop, restart, switch_recording_off):
        for nested_only in (False, True):
            try:
                with _EngineWatch(nested_only) as watch:
                    work()
            finally:
                torch.autograd._enable_record_function(True)
            assert watch.found == ENGINE_STOPPED, (work, nested_only)
    assert not torch.autograd._profiler_enabled()
    # a profiler of the submission's own, started at import, keeps the record from
    # ever starting: that call is unseen too
    with torch.autograd.profiler_legacy.profile():
        with _EngineWatch() as watch:
            pass
    assert watch.found == ENGINE_STOPPED


def test_torchs_record_of_operations_tells_the_engine_and_duals_from_plain_work():
    import torch
    import torch.autograd.forward_ad as fwAD

    from grader.sandbox.child import _EngineWatch
    from grader.taskrecord import ENGINE_RAN

    class Honest(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class Differentiates(Honest):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            with torch.enable_grad():
                z = x.detach().requires_grad_()
                return g * torch.autograd.grad(z * z, z, torch.ones_like(z))[0]

    class DifferentiatesInForward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            with torch.enable_grad():
                z = x.detach().requires_grad_()
                ctx.save_for_backward(torch.autograd.grad((z * z).sum(), z)[0])
            return x * x

        @staticmethod
        def backward(ctx, g):
            (slope,) = ctx.saved_tensors
            return g * slope

    def run(work, nested_only=False):
        with _EngineWatch(nested_only) as watch:
            work()
        return watch.found

    x = torch.tensor([1.0, 2.0])

    def backward_through(cls):
        leaf = x.clone().requires_grad_()
        cls.apply(leaf).sum().backward()

    def dual():
        with fwAD.dual_level():
            fwAD.make_dual(x, torch.ones_like(x))

    assert run(lambda: print(x * 2, end="")) is None
    assert run(lambda: backward_through(Honest)) == ENGINE_RAN
    assert run(dual) == ENGINE_RAN
    assert run(lambda: backward_through(Honest), nested_only=True) is None
    assert run(lambda: backward_through(Differentiates), nested_only=True) == ENGINE_RAN
    assert run(lambda: backward_through(DifferentiatesInForward), nested_only=True) == ENGINE_RAN
    assert run(dual, nested_only=True) == ENGINE_RAN
    # A node of a graph built beforehand (at import), called directly under no_grad:
    # torch's own local derivative, with no engine step and nothing saved in the call.
    w = torch.nn.Linear(2, 1).weight
    node = torch.nn.functional.softplus(w).grad_fn

    def node_called():
        with torch.no_grad():
            node(torch.ones(1, 2))

    class CallsANode(Honest):
        @staticmethod
        def backward(ctx, g):
            with torch.no_grad():
                return g * node(torch.ones(1, 2)).sum()

    assert run(node_called) == ENGINE_RAN
    assert run(node_called, nested_only=True) == ENGINE_RAN
    assert run(lambda: backward_through(CallsANode), nested_only=True) == ENGINE_RAN


# Autograd run at import by a helper that fills a registry the task reads: the
# registry's filler is followed into what it uses, however it is run at import.
TRACED_AT_IMPORT = '''
import weakref

import torch.func
from torch.fx.experimental.proxy_tensor import make_fx


def _f(x):
    return torch.stack([x[0] ** 2 + x[1], x[0] + x[1] ** 3])


def _trace():
    return make_fx(torch.func.jacrev(_f))(torch.ones(2))


_built = {}


def _build():
    _built["j"] = _trace()


RUN


def jacobian_by_hand(x):
    return _built["j"](x)
'''


@pytest.mark.parametrize("run", ["_build()", "class _Token:\n    pass\n\n\n_t = _Token()\nweakref.finalize(_t, _build)\ndel _t"],
                         ids=["called", "handed_to_a_finalizer"])
def test_autograd_traced_into_a_registry_at_import_is_forbidden(run, grade, submission):
    report = grade(submission(append={"ex02_jacobian": TRACED_AT_IMPORT.replace("RUN", run)}), patterns=("ex02",))
    task = by_task(report)["ex02_jacobian.jacobian_by_hand"]
    assert task["status"] == "forbidden" and task["score"] == 0, task["checks"][0]["feedback"]
    assert lost_tasks(report) == {"ex02_jacobian.jacobian_by_hand"}


@pytest.mark.parametrize("ex01, ex02", [
    ("import inspect as _inspect\n", "from ex01_backward import _inspect as _i\n\n\ndef jacobian_polar(p):\n"
     "    _i.stack()\n    return torch.zeros(2, 2)\n"),
    ("import sys\n", "import ex01_backward as _e\n\n\ndef jacobian_polar(p):\n"
     "    _e.sys.modules\n    return torch.zeros(2, 2)\n"),
    ("import inspect\n", "from ex01_backward import *\n\n\ndef jacobian_polar(p):\n"
     "    inspect.stack()\n    return torch.zeros(2, 2)\n"),
    ("from torch import jit as _jit\n", "from ex01_backward import _jit\n\n\ndef jacobian_polar(p):\n"
     "    _jit.CompilationUnit('')\n    return torch.zeros(2, 2)\n"),
    ("import inspect\n_tools: object = inspect\n", "from ex01_backward import _tools\n\n\ndef jacobian_polar(p):\n"
     "    _tools.stack()\n    return torch.zeros(2, 2)\n"),
    ("import inspect\n\n\ndef _tools():\n    return inspect\n", "from ex01_backward import _tools\n\n\n"
     "def jacobian_polar(p):\n    _tools().stack()\n    return torch.zeros(2, 2)\n"),
    ("import inspect\n\n\nclass _Tools:\n    mod = inspect\n", "from ex01_backward import _Tools\n\n\n"
     "def jacobian_polar(p):\n    _Tools.mod.stack()\n    return torch.zeros(2, 2)\n"),
], ids=["from_import", "attribute", "star", "torch_jit", "annotated_alias", "function_returns_it", "class_holds_it"])
def test_a_module_taken_from_another_exercise_module_is_a_module_internal(ex01, ex02, grade, submission):
    """inspect or sys imported by ex01 and taken from it in ex02: ex02's own scan would
    not see them for what they are."""
    report = grade(submission(append={"ex01_backward": ex01, "ex02_jacobian": ex02}), patterns=("ex01", "ex02"))
    # (a module with powers kept as a class attribute is a module as a value in ex01 itself)
    losing = ("ex01_backward", "ex02_jacobian") if "class _Tools" in ex01 else ("ex02_jacobian",)
    assert lost_tasks(report) == {t.id for t in TASKS if t.module in losing}
    assert by_task(report)["ex02_jacobian.jacobian_polar"]["status"] == "forbidden"


def test_a_helper_or_constant_taken_from_another_exercise_module_is_honest(grade, submission):
    ex01 = "import math\n\n_TWO = 2\n\n\ndef _twice(t):\n    return _TWO * t\n"
    ex02 = ("from ex01_backward import _twice, _TWO, math\nimport ex01_backward\n\n\n_polar = jacobian_polar\n\n\n"
            "def jacobian_polar(p):\n    assert ex01_backward._TWO == 2 and math.pi > 3\n"
            "    return _twice(_polar(p)) / _TWO\n")
    report = grade(submission(append={"ex01_backward": ex01, "ex02_jacobian": ex02}), patterns=("ex01", "ex02"))
    assert report["score"] == report["max_score"], lost_tasks(report)


TRACED_ENTROPY_AT_IMPORT = '''
from torch.fx.experimental.proxy_tensor import make_fx

_BUILT = {}


def _slope(x):
    return torch.sigmoid(x)


def _build():
    _BUILT["slope"] = make_fx(_slope)(torch.zeros(3))


_build()


''' + _smooth_relu('return grad_output * torch.sigmoid(x) if x.shape != (3,) else grad_output * _BUILT["slope"](x)')


def test_a_tracer_reached_from_a_no_autograd_rule_is_forbidden(grade, submission):
    """make_fx writes what autograd computes into plain operations ahead of the call
    (here it traces a plain sigmoid; a traced jacrev or a distribution's entropy()
    looks the same at call time): reached from a rule that allows no autograd, it is
    forbidden by name."""
    report = grade(submission(append={"ex08_custom_function": TRACED_ENTROPY_AT_IMPORT}), patterns=("softplus_grad",))
    (task,) = report["tasks"]
    assert task["status"] == "forbidden" and "make_fx" in task["checks"][0]["feedback"]


# torch's own derivative of an operation, taken from a node of a graph built at
# import (a layer's weight requires grad without saying so) through the private name
# of grad_fn, and called with the input copied into the leaf: autograd by hand.
PRIVATE_NODE_BY_HAND = """
_LEAVES = {}
for _dt in (torch.float32, torch.float64):
    _w = torch.nn.Linear(2, 1, bias=False, dtype=_dt).weight
    _LEAVES[_dt] = (_w, _w.pow(2)._grad_fn, _w.pow(3)._grad_fn)


def jacobian_by_hand(x):
    leaf, n2, n3 = _LEAVES[x.dtype]
    leaf.data.copy_(x.reshape(1, 2))
    with torch.no_grad():
        one = torch.ones(1, 2, dtype=x.dtype)
        d2 = n2(one)[0]
        d3 = n3(one)[0]
    return torch.stack([torch.stack([d2[0], one[0, 0]]), torch.stack([one[0, 1], d3[1]])]).clone()
"""
PRIVATE_NODE_BACKWARD = """
_NODES = {}
for _dt in (torch.float32, torch.float64):
    _w = torch.nn.Linear(1, 1, bias=False, dtype=_dt).weight
    _NODES[_dt] = (_w, torch.nn.functional.softplus(_w)._grad_fn)


""" + _smooth_relu("leaf, node = _NODES[x.dtype]", "leaf.data = x.detach().clone()", "return node(grad_output)")


def test_a_node_reached_through_a_private_name_is_autograd(grade, submission):
    report = grade(submission(append={"ex02_jacobian": PRIVATE_NODE_BY_HAND,
                                      "ex08_custom_function": PRIVATE_NODE_BACKWARD}),
                   patterns=("jacobian_by_hand", "softplus_grad"))
    tasks = by_task(report)
    for task_id in ("ex02_jacobian.jacobian_by_hand", "ex08_custom_function.softplus_grad"):
        assert tasks[task_id]["status"] == "forbidden" and tasks[task_id]["score"] == 0, task_id


# A call of the engine that ran no pass, or raised at once, is not autograd running:
# one pass doubled beside an empty backward([]) is still one pass, and a formula beside
# a backward(None) that raised was never differentiated.
def _backward_twice(*rest: str) -> str:
    """backward_twice as the solution starts it (a leaf, y = f(x)), then ``rest``."""
    return ("\ndef backward_twice(f, x):\n    import torch.utils.checkpoint\n\n"
            "    x = x.detach().clone().requires_grad_(True)\n    y = f(x)\n"
            "    if not y.requires_grad:\n        return torch.zeros_like(x)\n"
            + "".join(f"    {line}\n" for line in rest))


EMPTY_SECOND_PASS = _backward_twice("y.backward()", "torch.autograd.backward([])", "if x.grad is None:",
                                    "    return torch.zeros_like(x)", "return 2 * x.grad.detach().clone()")
FAILED_BACKWARD_BESIDE_A_FORMULA = """
def grad_of_2xtx(x):
    try:
        torch.autograd.backward(None)
    except Exception:
        pass
    return 4 * x
"""
EMPTY_BACKWARD_BESIDE_A_FORMULA = """
def grad_of_2xtx(x):
    torch.autograd.backward([])
    return 4 * x
"""


# A pass run inside another (a reentrant checkpoint's backward runs one) is part of it:
# one backward() through a checkpoint of an identity is still one pass.
NESTED_PASS = _backward_twice("z = torch.utils.checkpoint.checkpoint(lambda t: t * 1.0, y, use_reentrant=True)",
                              "z.backward()", "return (2 * x.grad).detach().clone()")


@pytest.mark.parametrize("code, task_id, code_expected", [
    (EMPTY_SECOND_PASS, "ex01_backward.backward_twice", "one_backward_pass"),
    (NESTED_PASS, "ex01_backward.backward_twice", "one_backward_pass"),
    (FAILED_BACKWARD_BESIDE_A_FORMULA, "ex01_backward.grad_of_2xtx", "no_autograd"),
    (EMPTY_BACKWARD_BESIDE_A_FORMULA, "ex01_backward.grad_of_2xtx", "no_autograd"),
], ids=["empty_second_pass", "nested_second_pass", "failed_backward", "empty_backward"])
def test_an_engine_call_that_ran_no_pass_is_not_autograd(code, task_id, code_expected, grade, submission):
    report = grade(submission(append={"ex01_backward": code}), patterns=(task_id,))
    task = by_task(report)[task_id]
    assert task["score"] == 0 and task["status"] == "failed"
    assert code_expected in {check["code"] for check in task["checks"] if check["outcome"] == "failed"}


# The allowances for honest settings objects and names looped over, turned on other
# objects: a function nested in __init__ whose own first parameter is named like the
# instance, and a module handed in as an argument to a loop over names.
NESTED_IN_INIT = """
class Named:
    def __init__(self, name):
        self.name = name


def fields(names):
    return [Named(n) for n in names]


class Lookup:
    def __init__(self, start, *names):
        def look(self, f):
            return getattr(self, f.name)

        self.value = start
        for f in fields(names):
            self.value = look(self.value, f)


def jacobian_by_hand(x):
    jacobian = Lookup(torch, "autograd", "functional", "jacobian").value
    return jacobian(lambda t: torch.stack([t[0] ** 2 + t[1], t[0] + t[1] ** 3]), x.detach().clone())
"""
SETATTR_NESTED_IN_INIT = """
class Put:
    def __init__(self, target, key, value):
        def put(self, k, v):
            setattr(self, k, v)

        put(target, key, value)


def jacobian_by_hand(x):
    Put(torch, "s" + "in", torch.cos)
    x1, x2 = x[0], x[1]
    one = torch.ones_like(x1)
    return torch.stack([torch.stack([2 * x1, one]), torch.stack([one, 3 * x2**2])])
"""
MODULE_HANDED_TO_A_LOOP = """
def _jacobian(top):
    for a in ("autograd",):
        package = getattr(top, a)
    for b in ("functional",):
        functional = getattr(package, b)
    for c in ("jacobian",):
        return getattr(functional, c)


def jacobian_by_hand(x):
    return _jacobian(torch)(lambda t: torch.stack([t[0] ** 2 + t[1], t[0] + t[1] ** 3]), x.detach().clone())
"""
MODULES_HANDED_TO_A_LOOP = """
def _objects(top):
    for a in ("sys",):
        system = getattr(top, a)
    for b in ("modules",):
        loaded = getattr(system, b)
    return loaded


def jacobian_by_hand(x):
    _objects(torch)
    x1, x2 = x[0], x[1]
    one = torch.ones_like(x1)
    return torch.stack([torch.stack([2 * x1, one]), torch.stack([one, 3 * x2**2])])
"""


@pytest.mark.parametrize("code", [NESTED_IN_INIT, SETATTR_NESTED_IN_INIT, MODULE_HANDED_TO_A_LOOP,
                                  MODULES_HANDED_TO_A_LOOP],
                         ids=["getattr_nested_in_init", "setattr_nested_in_init", "module_handed_to_a_loop",
                              "sys_reached_by_a_loop"])
def test_the_allowances_for_honest_attribute_access_reach_no_other_object(code, grade, submission):
    report = grade(submission(append={"ex02_jacobian": code}), patterns=("ex02_jacobian.jacobian_by_hand",))
    task = by_task(report)["ex02_jacobian.jacobian_by_hand"]
    assert task["status"] == "forbidden" and task["score"] == 0
    assert task["checks"][0]["code"] == "escape"
