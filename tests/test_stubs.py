"""An untouched stub is decided from the text: no sandbox child runs its checks.

Said only when the task's module is the exercise module as shipped and nothing
else in the submission can reach it (``static.untouched_stub``): what the report
says of such a task must be exactly what running its checks says, and any change
to the module (a body given any other way, try-out code that fails at import, a
changed signature) must run the checks as before.
"""
from __future__ import annotations

import ast
import shutil

import pytest

from grader import api, static
from grader.options import Options
from grader.submission import read
from grader.tasks import BY_ID, MODULES

from .conftest import EXERCISES, SOLUTIONS

VJP = BY_ID["ex03_vjp.vjp"]


def _solution_body(name: str, renamed: str) -> str:
    """The reference solution of ``name`` in ex03_vjp, as a function called ``renamed``."""
    text = (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8")
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == name)
    source = ast.get_source_segment(text, node)
    return source.replace(f"def {name}(", f"def {renamed}(", 1)


def _stub_folder(tmp_path, extra: str = "", *, other: dict[str, str] | None = None, replace=None):
    """The exercises with ``extra`` appended to ex03_vjp.py (the stub of vjp left in place)."""
    folder = tmp_path / "stubs"
    folder.mkdir(exist_ok=True)
    for module in MODULES:
        text = (EXERCISES / f"{module}.py").read_text(encoding="utf-8")
        if module == "ex03_vjp":
            text = replace(text) if replace else text
            text += "\n\n" + extra
        if other and module in other:
            text += "\n\n" + other[module]
        (folder / f"{module}.py").write_text(text, encoding="utf-8")
    return folder


def _comparable(built: dict) -> list:
    return [(t["id"], t["status"], t["score"], t["lost"],
             [(c["id"], c["outcome"], c["code"], c["feedback"], c["hint"], c["score"]) for c in t["checks"]])
            for t in built["tasks"]]


def test_the_exercises_stubs_are_decided_without_running():
    sub = read(EXERCISES)
    decided = {t.id for t in BY_ID.values() if static.untouched_stub(sub, t)}
    raising = {t.id for t in BY_ID.values()
               if f'raise NotImplementedError("{t.id}")' in (EXERCISES / f"{t.module}.py").read_text(encoding="utf-8")}
    assert decided == raising and len(decided) >= 20
    assert not any(static.untouched_stub(read(SOLUTIONS), t) for t in BY_ID.values())


def test_a_stub_decided_from_its_text_reads_as_one_that_ran(server, monkeypatch):
    """The report of the exercises is the same, check by check, with the checks run."""
    options = Options(seed=4)
    decided = api.grade(EXERCISES, options, server=server)
    monkeypatch.setattr(static, "untouched_stub", lambda sub, task: False)
    ran = api.grade(EXERCISES, options, server=server)
    assert _comparable(decided) == _comparable(ran)
    assert decided["score"] == 0.0


IMPL = _solution_body("vjp", "_mine")

# Ways to give vjp a body while the stub stays in the file: each must be run, and pass.
REBOUND = {
    "a second def": _solution_body("vjp", "vjp"),
    "an assignment": IMPL + "\n\nvjp = _mine\n",
    "an annotated assignment": IMPL + "\n\nvjp: object = _mine\n",
    "a walrus": IMPL + "\n\nif (vjp := _mine):\n    pass\n",
    "a for loop": IMPL + "\n\nfor vjp in [_mine]:\n    pass\n",
    "an import": "from ex01_backward import mine as vjp\n",
    "a star import": "from ex01_backward import *\n",  # ex01 defines a public vjp
    "globals()": IMPL + "\n\nglobals()['vjp'] = _mine\n",
    "setattr on the module": IMPL + "\n\nimport sys\nsetattr(sys.modules[__name__], 'vjp', _mine)\n",
    "the code object": IMPL + "\n\nvjp.__code__ = _mine.__code__\n",
    "a global statement": IMPL + "\n\ndef _install():\n    global vjp\n    vjp = _mine\n\n_install()\n",
    "NotImplementedError rebound": IMPL + "\n\nclass NotImplementedError(Exception):\n    pass\n",
}


# Namespace tricks that exercise code may not use at all (the scan's rules).
SCAN_FORBIDS = {"globals()", "setattr on the module", "the code object"}


@pytest.mark.parametrize("how", sorted(REBOUND))
def test_a_function_given_a_body_any_other_way_is_run_and_passes(how, tmp_path, server):
    source = REBOUND[how]
    other = None
    if how == "an import":
        other = {"ex01_backward": _solution_body("vjp", "mine")}
    elif how == "a star import":
        other = {"ex01_backward": _solution_body("vjp", "vjp")}
    if how == "NotImplementedError rebound":
        # The stub raises the module's own class, not the builtin: vjp then raises an
        # ordinary error. What matters: the checks run (the text is in doubt).
        folder = _stub_folder(tmp_path, source)
        assert not static.untouched_stub(read(folder), VJP)
        return
    folder = _stub_folder(tmp_path, source, other=other)
    assert not static.untouched_stub(read(folder), VJP), how
    built = api.grade(folder, Options(seed=2, patterns=(VJP.id,)), server=server)
    if how in SCAN_FORBIDS:  # the scan's own verdict, as before: never "not implemented"
        assert built["tasks"][0]["status"] == "forbidden", how
    else:
        assert built["score"] == built["max_score"] > 0, (how, built["tasks"][0]["lost"])


def test_another_module_replacing_the_function_is_never_judged_a_stub(tmp_path, server):
    """ex03_vjp.py is untouched, but ex01 installs its own vjp there: that store into
    another exercise module is patching (ex01 is forbidden), and vjp is still not judged
    from its text: its checks run (ex01, forbidden, never reaches the sandbox)."""
    folder = tmp_path / "patched"
    shutil.copytree(EXERCISES, folder)
    with open(folder / "ex01_backward.py", "a", encoding="utf-8") as f:
        f.write("\n\nimport ex03_vjp\n\n" + IMPL + "\n\nex03_vjp.vjp = _mine\n")
    assert not static.untouched_stub(read(folder), VJP)
    built = api.grade(folder, Options(seed=2, patterns=("ex01_backward", VJP.id)), server=server)
    tasks = {t["id"]: t for t in built["tasks"]}
    assert {t["status"] for i, t in tasks.items() if i.startswith("ex01_backward.")} == {"forbidden"}
    assert tasks[VJP.id]["status"] == "not_implemented" and tasks[VJP.id]["score"] == 0


def test_the_shipped_digests_are_the_exercises():
    """grader/checks/<module>.stub.json is what `python -m grader.static` makes of exercises/."""
    from grader.tasks import MODULES

    shipped = static._shipped()
    assert set(shipped) == set(MODULES)
    for module in MODULES:
        text = (EXERCISES / f"{module}.py").read_text(encoding="utf-8")
        assert shipped[module] == static.module_digest(text, module), f"run: python -m grader.static ({module})"


def test_the_same_code_laid_out_otherwise_is_still_the_exercise(tmp_path, server):
    def relayout(text: str) -> str:
        return "# my notes\n" + text.replace("\n\n\n", "\n\n# --\n\n")

    folder = _stub_folder(tmp_path, replace=relayout)
    assert static.untouched_stub(read(folder), VJP)


# Changes an honest student makes while working that change what running gives.
WORKING = {
    "try-out code that fails at import": "x = torch.tensor([2.0, 3.0])\nprint(vjp(lambda t: t ** 2, x, torch.ones(2)))\n",
    "a helper module that is not there": "from my_helpers import something\n",
    "slow module-level code": "import time\ntime.sleep(0.01)\n",
}


@pytest.mark.parametrize("how", sorted(WORKING))
def test_a_module_being_worked_on_is_run(how, tmp_path, server):
    folder = _stub_folder(tmp_path, WORKING[how])
    assert not static.untouched_stub(read(folder), VJP)
    built = api.grade(folder, Options(seed=2, patterns=(VJP.id,)), server=server)
    status = built["tasks"][0]["status"]
    assert status == ("not_implemented" if how == "slow module-level code" else "error"), how


def test_a_changed_signature_is_run(tmp_path, server):
    folder = _stub_folder(tmp_path, replace=lambda text: text.replace("def vjp(\n", "def vjp(extra, \n", 1)
                          if "def vjp(\n" in text else text.replace("def vjp(", "def vjp(extra, ", 1))
    assert not static.untouched_stub(read(folder), VJP)
    built = api.grade(folder, Options(seed=2, patterns=(VJP.id,)), server=server)
    assert built["tasks"][0]["status"] == "error"


@pytest.mark.parametrize("body", [
    '    print("working on it")\n    raise NotImplementedError("ex03_vjp.vjp")',
    '    raise NotImplementedError(f"{x}")',
    '    raise NotImplementedError("ex03_vjp.vjp") from None',
    '    raise NotImplementedError(message="no")',
    '    return x * 0',
])
def test_a_body_that_is_not_just_the_raise_is_run(body, tmp_path):
    def rewrite(text: str) -> str:
        return text.replace('    raise NotImplementedError("ex03_vjp.vjp")', body, 1)

    folder = _stub_folder(tmp_path, replace=rewrite)
    assert not static.untouched_stub(read(folder), VJP)


def test_a_decorated_stub_is_run(tmp_path):
    def rewrite(text: str) -> str:
        return text.replace("\ndef vjp(", "\n@staticmethod\ndef vjp(", 1)

    folder = _stub_folder(tmp_path, replace=rewrite)
    assert not static.untouched_stub(read(folder), VJP)
