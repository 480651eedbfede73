"""Notebooks: graded from their code cells (read with nbformat, never executed by the
grader) with the same checks as modules, feedback naming cells; the release's notebooks;
and ``notebook.check`` inside a real kernel (nbclient + ipykernel)."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat import v4

from grader import notebook
from grader.cli import main
from grader.tasks import MAX_SCORE, MODULES, TASKS

from .conftest import EXERCISES, MUTANTS, SOLUTIONS


def run(*args) -> tuple[object, dict | None]:
    result = CliRunner().invoke(main, ["run", *map(str, args)], env={"NO_COLOR": "1"}, catch_exceptions=False)
    out = Path(args[args.index("-o") + 1])
    return result, (json.loads(out.read_text()) if out.exists() else None)


def _checks(report: dict) -> dict[tuple[str, str], tuple[str, float, str]]:
    return {(t["id"], c["id"]): (c["outcome"], c["score"], c["feedback"]) for t in report["tasks"] for c in t["checks"]}


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("books")
    notebook.write_notebooks(SOLUTIONS, root / "solutions")
    notebook.write_notebooks(EXERCISES, root / "stubs")
    return root


def test_solution_notebooks_score_full_marks_and_stub_notebooks_zero(books, tmp_path):
    result, good = run(books / "solutions", "-o", tmp_path / "good.json", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert good["score"] == good["max_score"] == MAX_SCORE
    assert good["submission"]["path"] == str(books / "solutions")
    result, stubs = run(books / "stubs", "-o", tmp_path / "stubs.json", "--seed", "5")
    assert result.exit_code == 0 and stubs["score"] == 0
    _, py = run(EXERCISES, "-o", tmp_path / "py.json", "--seed", "5")
    assert {k: v[:2] for k, v in _checks(stubs).items()} == {k: v[:2] for k, v in _checks(py).items()}


def test_one_notebook_grades_its_module(books, tmp_path):
    result, report = run(books / "solutions" / "ex03_vjp.ipynb", "-o", tmp_path / "r.json")
    assert result.exit_code == 0
    graded = {t["id"].split(".")[0] for t in report["tasks"] if t["status"] == "passed"}
    assert graded == {"ex03_vjp"}


def _mutated_module(tmp_path: Path, module: str, extra: str) -> Path:
    folder = tmp_path / "py"
    folder.mkdir()
    for m in MODULES:
        shutil.copyfile(SOLUTIONS / f"{m}.py", folder / f"{m}.py")
    with open(folder / f"{module}.py", "a", encoding="utf-8") as f:
        f.write(extra)
    return folder


def test_one_mistake_gets_the_same_feedback_as_the_module(tmp_path):
    extra = (MUTANTS / "ex03_vjp" / "jv_instead_of_jtv.py").read_text(encoding="utf-8")
    folder = _mutated_module(tmp_path, "ex03_vjp", extra)
    nb = tmp_path / "ex03_vjp.ipynb"
    nbformat.write(notebook.from_module("ex03_vjp", (folder / "ex03_vjp.py").read_text()), str(nb))
    _, py = run(folder, "-o", tmp_path / "py.json", "-k", "ex03_vjp.vjp", "--seed", "9")
    _, ipynb = run(nb, "-o", tmp_path / "nb.json", "-k", "ex03_vjp.vjp", "--seed", "9")
    assert py["score"] < py["max_score"]
    assert _checks(ipynb) == _checks(py)


def test_feedback_that_names_a_line_names_the_cell(tmp_path):
    source = (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8")
    nb = notebook.from_module("ex03_vjp", source)
    number, cell = next((i, c) for i, c in enumerate(nb.cells, 1) if c.source.startswith("def vjp("))
    lines = cell.source.split("\n")
    doc_end = next(i for i, line in enumerate(lines) if i > 0 and line.strip().endswith('"""'))
    lines.insert(doc_end + 1, "    _ = torch.autograd.functional.vjp(f, x, v)")
    cell.source = "\n".join(lines)
    path = tmp_path / "ex03_vjp.ipynb"
    nbformat.write(nb, str(path))
    for lang, where in (("en", f"cell {number}, line {doc_end + 2} uses torch.autograd.functional.vjp"),
                        ("zh", f"第 {number} 个单元格第 {doc_end + 2} 行使用了 torch.autograd.functional.vjp")):
        result, report = run(path, "-o", tmp_path / f"{lang}.json", "-k", "ex03_vjp.vjp", "--lang", lang)
        task = report["tasks"][0]
        assert task["status"] == "forbidden"
        assert where in task["checks"][0]["feedback"], task["checks"][0]["feedback"]
        assert where in result.output
    # A syntax error names its cell too.
    cell.source = cell.source.replace("def vjp(", "def vjp((", 1)
    nbformat.write(nb, str(path))
    _, report = run(path, "-o", tmp_path / "s.json", "-k", "ex03_vjp.vjp")
    assert f"ex03_vjp.ipynb has a syntax error in cell {number}, line 1" in report["tasks"][0]["checks"][0]["feedback"]


def test_experiments_magics_and_check_cells_are_not_graded(tmp_path):
    nb = notebook.from_module("ex03_vjp", (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8"))
    nb.cells.insert(1, v4.new_code_cell("%matplotlib inline\n!pip list"))
    nb.cells.append(v4.new_code_cell("%%time\nthis is not python"))
    nb.cells.append(v4.new_code_cell("x = torch.tensor([2.0, 3.0])\nprint(vjp(lambda t: t ** 2, x, x))\n"
                                     "for i in range(3):\n    print(i)\nopen('/etc/passwd')"))
    path = tmp_path / "ex03_vjp.ipynb"
    nbformat.write(nb, str(path))
    built = notebook.build(path)
    assert "%matplotlib" not in built.source and "this is not python" not in built.source
    assert "open(" not in built.source and "notebook.check" not in built.source
    assert "x = torch.tensor([2.0, 3.0])" not in built.source  # an assignment no definition needs
    _, report = run(path, "-o", tmp_path / "r.json", "-k", "ex03")
    assert report["score"] == report["max_score"]


def test_guarded_imports_and_timed_cells_are_kept_as_a_module_would_keep_them(tmp_path):
    source = (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8")
    nb = notebook.from_module("ex03_vjp", source)
    guarded = ("try:\n    import numpy as np\nexcept ImportError:\n    np = None\n"
               "if torch.cuda.is_available():\n    DEVICE = 'cuda'\nelse:\n    DEVICE = 'cpu'\n"
               "")
    nb.cells.insert(2, v4.new_code_cell("import warnings\n" + guarded))  # after the imports
    # Every definition of the module moved into one timed cell: Jupyter keeps what it defines.
    code = [c for c in nb.cells if c.cell_type == "code" and "def vjp(" in c.source]
    code[0].source = "%%time\n" + code[0].source
    nb.cells.append(v4.new_code_cell("if True:\n    print(vjp)\n"))           # a try-out: not kept
    nb.cells.append(v4.new_code_cell("with torch.no_grad():\n    LATER = x.grad\n"))  # an experiment: not kept
    nb.cells.append(v4.new_code_cell("%%bash\necho hi"))                       # not Python
    nb.cells.append(v4.new_code_cell("%%capture\nnever ran = ("))              # never ran
    path = tmp_path / "ex03_vjp.ipynb"
    nbformat.write(nb, str(path))
    built = notebook.build(path)
    assert guarded in built.source and "def vjp(" in built.source
    assert "LATER" not in built.source
    assert "print(vjp)" not in built.source and "echo hi" not in built.source and "never ran" not in built.source
    assert [magic for _, magic in built.skipped] == ["bash", "capture"]
    result, report = run(path, "-o", tmp_path / "r.json", "-k", "ex03")
    assert report["score"] == report["max_score"]
    assert "it starts with %%bash" in result.output


def test_try_out_cells_in_the_d2l_style_are_left_out_and_what_definitions_need_is_kept(tmp_path):
    """Run All works; grading must too: an assignment that depends on a dropped
    ``y.backward()``, a help line, an import only the plots use are all left out, while
    a constant and an import the definitions need stay, and a docstring line that
    ends in "?" is untouched."""
    nb = notebook.from_module("ex01_backward", (SOLUTIONS / "ex01_backward.py").read_text(encoding="utf-8"))
    nb.cells[1:1] = [
        v4.new_code_cell("!pip install d2l\nfrom d2l import torch as d2l\nimport math as m\nSCALE = m.sqrt(4.0)"),
        v4.new_code_cell("x = torch.arange(4.0)\nx.requires_grad_(True)\ny = 2 * torch.dot(x, x)\ny.backward()\n"
                         "g_first = x.grad.clone()\n(g,) = torch.autograd.grad(x.sum() * 1, x)"),
        v4.new_code_cell("torch.autograd.grad?\n??grad_of_2xtx"),
        v4.new_code_cell("d2l.plot(x.detach(), [g_first], 'x', 'grad')"),
    ]
    nb.cells.append(v4.new_code_cell('def twice(t):\n    """Why twice?\n    Because?"""\n    return SCALE * t\n'))
    path = tmp_path / "ex01_backward.ipynb"
    nbformat.write(nb, str(path))
    built = notebook.build(path)
    for gone in ("d2l", "g_first", "(g,) = torch.autograd.grad(x.sum()", "grad?", "x = torch.arange(4.0)"):
        assert gone not in built.source, gone
    for kept in ("import math as m", "SCALE = m.sqrt(4.0)", "Why twice?\n    Because?", "def grad_of_2xtx("):
        assert kept in built.source, kept
    _, report = run(path, "-o", tmp_path / "r.json", "-k", "ex01")
    assert report["score"] == report["max_score"], [c["feedback"] for t in report["tasks"] for c in t["checks"]][:1]


def test_ipython_syntax_conditional_definitions_globals_and_rebound_names_in_notebooks(tmp_path):
    """IPython's own syntax anywhere (an assignment from a magic, a magic as a loop's
    body), a task defined under an if with a print in the other branch, a counter
    kept in a global, and a try-out that rebinds d2l's f to plot sin: each keeps the
    module's marks."""
    source = (SOLUTIONS / "ex05_control_flow.py").read_text(encoding="utf-8")
    nb = notebook.from_module("ex05_control_flow", source)
    curve = next(c for c in nb.cells if c.cell_type == "code" and "def derivative_curve(" in c.source)
    body = curve.source[curve.source.index("def derivative_curve("):]
    curve.source = (curve.source[:curve.source.index("def derivative_curve(")]
                    + "CALLS = 0\nif hasattr(torch, 'func'):\n" + "\n".join("    " + line for line in body.splitlines())
                    + "\n    derivative_curve = _counted(derivative_curve)\nelse:\n    print('no torch.func')\n")
    nb.cells.insert(2, v4.new_code_cell("def _counted(fn):\n    def wrapper(*args):\n        global CALLS\n"
                                        "        CALLS += 1\n        return fn(*args)\n    return wrapper\n"))
    nb.cells += [
        v4.new_code_cell("x = torch.linspace(-3, 3, 50, requires_grad=True)\ny = torch.sin(x)\ny.sum().backward()\n"
                         "g = x.grad.clone()"),
        v4.new_code_cell("f = torch.sin\nt = %timeit -o derivative_curve(f, x.detach())\ninfo = !ls\n"
                         "for _ in range(2):\n    %time derivative_curve(f, x.detach())"),
    ]
    path = tmp_path / "ex05_control_flow.ipynb"
    nbformat.write(nb, str(path))
    built = notebook.build(path)
    assert "f = torch.sin" not in built.source and "g = x.grad.clone()" not in built.source
    assert "CALLS = 0" in built.source and "    pass" in built.source  # the print's branch keeps a body
    _, report = run(path, "-o", tmp_path / "r.json", "-k", "ex05")
    assert report["score"] == report["max_score"], [c["feedback"] for t in report["tasks"] for c in t["checks"]][:1]


def test_jupyters_display_and_a_constant_bound_by_a_walrus_work_as_in_jupyter(tmp_path):
    """display() is a built-in of every IPython kernel; a cell ``(EPS := 1e-6)`` binds EPS
    (and shows it) in Run All: both keep the module's marks."""
    source = (SOLUTIONS / "ex08_custom_function.py").read_text(encoding="utf-8")
    nb = notebook.from_module("ex08_custom_function", source)
    grad = next(c for c in nb.cells if c.cell_type == "code" and "def numerical_grad(" in c.source)
    grad.source = grad.source.replace("= 1e-6", "= EPS", 1).replace("\n    return grad", "\n    display(grad.shape)\n    return grad")
    assert "= EPS" in grad.source and "display(grad.shape)" in grad.source
    nb.cells.insert(nb.cells.index(grad), v4.new_code_cell("(EPS := 1e-6)"))
    # a parameter or a local named display is a function's own: the module still needs one
    nb.cells.insert(nb.cells.index(grad), v4.new_code_cell("def plot(J, display=True):\n    shown = display\n"
                                                           "    return J\n"))
    path = tmp_path / "ex08_custom_function.ipynb"
    nbformat.write(nb, str(path))
    built = notebook.build(path)
    assert "(EPS := 1e-6)" in built.source and "def display(" in built.source
    _, report = run(path, "-o", tmp_path / "r.json", "-k", "ex08")
    assert report["score"] == report["max_score"], [c["feedback"] for t in report["tasks"] for c in t["checks"]][:1]
    # display imported (or defined) by the notebook itself is the notebook's
    nb.cells.insert(0, v4.new_code_cell("from IPython.display import display"))
    nbformat.write(nb, str(path))
    assert "def display(" not in notebook.build(path).source


def _step_from_earlier_cells(tmp_path, default: str, cells: list[str]) -> Path:
    """ex08 as a notebook whose numerical_grad takes its default step from ``default``,
    set by ``cells`` put just before it; the notebook's path."""
    source = (SOLUTIONS / "ex08_custom_function.py").read_text(encoding="utf-8")
    nb = notebook.from_module("ex08_custom_function", source)
    grad = next(c for c in nb.cells if c.cell_type == "code" and "def numerical_grad(" in c.source)
    grad.source = grad.source.replace("= 1e-6", "= " + default, 1)
    assert "= " + default in grad.source
    at = nb.cells.index(grad)
    nb.cells[at:at] = [v4.new_code_cell(text) for text in cells]
    path = tmp_path / "ex08_custom_function.ipynb"
    nbformat.write(nb, str(path))
    return path


def _full_marks(path: Path, tmp_path, pattern: str = "numerical_grad") -> None:
    _, report = run(path, "-o", tmp_path / "r.json", "-k", pattern)
    assert report["score"] == report["max_score"], [c["feedback"] for t in report["tasks"] for c in t["checks"]][:1]


def test_a_constant_changed_in_place_in_a_later_cell_keeps_jupyters_value(tmp_path):
    """``EPS = 0.1`` and, in a later cell, ``EPS *= 1e-5``: Run All leaves EPS at 1e-6,
    and so does the module. Inside a block (a count in an ``if``) it stays a try-out."""
    path = _step_from_earlier_cells(tmp_path, "EPS", ["EPS = 0.1", "print(EPS)\nEPS *= 1e-5",
                                                      "if EPS < 1:\n    unknown_total += 1\n"])
    built = notebook.build(path)
    assert "EPS *= 1e-5" in built.source and "unknown_total" not in built.source
    _full_marks(path, tmp_path)


@pytest.mark.parametrize("setup, default", [("CFG = {'eps': 0.1}\nCFG['eps'] *= 1e-5", "CFG['eps']"),
                                            ("class Cfg:\n    eps = 0.1\n\n\nCfg.eps *= 1e-5", "Cfg.eps")])
def test_an_entry_or_attribute_changed_in_place_keeps_jupyters_value(setup, default, tmp_path):
    cells = setup.split("\n\n\n") if "class" in setup else setup.splitlines()
    _full_marks(_step_from_earlier_cells(tmp_path, default, cells), tmp_path)


@pytest.mark.parametrize("cells, default", [
    (["STEPS = []", "for k in range(3, 7):\n    print(k)\n    STEPS.append(10.0 ** -k)"], "STEPS[-1]"),
    (["CFG = {}", "CFG.update(eps=1e-6)"], "CFG['eps']"),
    (["with torch.no_grad():\n    EPS = torch.tensor(1e-6).item()\n    print(EPS)"], "EPS"),
    (["import warnings", "with warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n    import math as m\n"
      "    def step():\n        return m.pow(10.0, -6)"], "step()"),
], ids=["loop_appends", "update_call", "with_no_grad", "with_import_and_def"])
def test_a_table_filled_in_place_or_a_constant_made_in_a_with_keeps_jupyters_value(cells, default, tmp_path):
    _full_marks(_step_from_earlier_cells(tmp_path, default, cells), tmp_path)


def test_a_top_level_loop_that_sets_a_constant_is_kept_and_other_loops_are_not(tmp_path):
    """d2l §2.4: ``h = 0.1`` then ``for i in range(5): print(...); h *= 0.1``, and the
    step's default is ``h``: Run All leaves h at 1e-6. A loop that binds nothing the
    graded code needs (a training demo) stays a try-out."""
    path = _step_from_earlier_cells(tmp_path, "h", [
        "x = torch.tensor([1.0, 2.0], requires_grad=True)\n(x ** 3).sum().backward()",
        "h = 0.1\nfor i in range(5):\n    approx = ((x.detach() + h) ** 3 - (x.detach() - h) ** 3) / (2 * h)\n"
        "    print(f'h={h:.5f}', (approx - x.grad).abs().max())\n    h *= 0.1\n",
        "for step in range(3):\n    demo_loss = undefined_model(step)\n"])
    built = notebook.build(path)
    assert "h *= 0.1" in built.source and "undefined_model" not in built.source
    # what the loop is not kept for (a print, a sum that reads a try-out's x) stays out, and x with it
    assert "approx" not in built.source and "x = torch.tensor([1.0, 2.0], requires_grad=True)" not in built.source
    _full_marks(path, tmp_path)


@pytest.mark.parametrize("suffix, line", [(".ipynb", "%run ./ex01_backward.ipynb"), (".py", "%run ./ex01_backward.py"),
                                          (".ipynb", "%run -i 'ex01_backward'  # the helpers")])
def test_run_of_another_exercise_module_reuses_what_it_defines(suffix, line, tmp_path):
    """``%run ./ex01_backward.ipynb`` at the top of ex03's notebook, to reuse helpers
    defined there (a private one, one left out of ``__all__``): the module imports that
    module's names, as Run All had them."""
    sub = tmp_path / "submission"
    sub.mkdir()
    ex01 = (SOLUTIONS / "ex01_backward.py").read_text(encoding="utf-8")
    ex01 += ("\n\n__all__ = ['grad_of_2xtx']\n\n\ndef _leaf(x):\n    return x.detach().clone().requires_grad_(True)\n"
             "\n\ndef leaf(x):\n    return _leaf(x)\n")
    if suffix == ".py":
        (sub / "ex01_backward.py").write_text(ex01, encoding="utf-8")
    else:
        nbformat.write(notebook.from_module("ex01_backward", ex01), str(sub / "ex01_backward.ipynb"))
    source = (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8")
    nb = notebook.from_module("ex03_vjp", source)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def vjp(" in c.source)
    cell.source = cell.source.replace("x = x.detach().clone().requires_grad_(True)", "x = leaf(_leaf(x))", 1)
    assert "x = leaf(_leaf(x))" in cell.source
    nb.cells.insert(0, v4.new_code_cell(line))
    nbformat.write(nb, str(sub / "ex03_vjp.ipynb"))
    assert "from ex01_backward import *; from ex01_backward import " in notebook.build(sub / "ex03_vjp.ipynb").source
    _, report = run(sub, "-o", tmp_path / "r.json", "-k", "ex03")
    assert report["score"] == report["max_score"], [c["feedback"] for t in report["tasks"] for c in t["checks"]][:1]


def test_task_names_rebound_and_methods_attached_in_later_cells_are_kept(tmp_path):
    """``vjp = vjp_v2`` below the stub's cell says which answer is graded; a class
    solver's method attached by assignment is part of the class."""
    source = (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8")
    stub = (EXERCISES / "ex03_vjp.py").read_text(encoding="utf-8")
    nb = notebook.from_module("ex03_vjp", stub)
    renamed = source.replace("def vjp(", "def vjp_v2(").replace("def vjps_on_one_graph(", "def _graph(")
    nb.cells += [v4.new_code_cell(renamed),
                 v4.new_code_cell("class Solver:\n    pass\n"),
                 v4.new_code_cell("Solver.graph = staticmethod(_graph)\n"),
                 v4.new_code_cell("vjp = vjp_v2\nvjps_on_one_graph = Solver().graph\n")]
    path = tmp_path / "ex03_vjp.ipynb"
    nbformat.write(nb, str(path))
    _, report = run(path, "-o", tmp_path / "r.json", "-k", "ex03")
    assert report["score"] == report["max_score"], [c["feedback"] for t in report["tasks"] for c in t["checks"]][:1]


def test_a_cell_full_of_ipython_lines_reads_in_seconds_and_any_notebook_within_a_bound(tmp_path, monkeypatch):
    nb = notebook.from_module("ex01_backward", (SOLUTIONS / "ex01_backward.py").read_text(encoding="utf-8"))
    nb.cells.append(v4.new_code_cell("\n".join([f"a{i} = !true" for i in range(450)] + ["z = 0"] * 8000)))
    path = tmp_path / "ex01_backward.ipynb"
    nbformat.write(nb, str(path))
    started = time.monotonic()
    built = notebook.build(path)
    assert time.monotonic() - started < 10 and "def grad_of_2xtx(" in built.source
    monkeypatch.setattr(notebook, "NOTEBOOK_SECONDS", 0.001)
    with pytest.raises(notebook.NotebookError, match="could not be read within"):
        notebook.build(path)


def test_one_notebook_may_hold_several_modules(tmp_path):
    cells = []
    for module in ("ex01_backward", "ex03_vjp"):
        cells += notebook.from_module(module, (SOLUTIONS / f"{module}.py").read_text(encoding="utf-8")).cells
    nb = v4.new_notebook(cells=cells)
    nbformat.write(nb, str(tmp_path / "lab.ipynb"))
    _, report = run(tmp_path / "lab.ipynb", "-o", tmp_path / "r.json")
    passed = {t["id"].split(".")[0] for t in report["tasks"] if t["status"] == "passed"}
    missing = {t["id"].split(".")[0] for t in report["tasks"] if t["status"] == "missing"}
    assert passed == {"ex01_backward", "ex03_vjp"} and missing == set(MODULES) - passed


def test_a_notebook_too_large_to_read_quickly_or_a_link_is_bad_input(tmp_path):
    big = tmp_path / "big" / "ex01_backward.ipynb"
    big.parent.mkdir()
    with open(big, "wb") as f:
        f.truncate(notebook.MAX_NOTEBOOK_BYTES + 1)  # sparse: never read
    result = CliRunner().invoke(main, ["run", str(big), "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "clear its outputs" in result.output, result.output
    link = tmp_path / "link" / "ex01_backward.ipynb"
    link.parent.mkdir()
    nbformat.write(notebook.from_module("ex01_backward", (SOLUTIONS / "ex01_backward.py").read_text()), str(tmp_path / "real.ipynb"))
    link.symlink_to(tmp_path / "real.ipynb")
    result = CliRunner().invoke(main, ["run", str(link.parent), "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "is a link" in result.output, result.output
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("cell", [
    {"cell_type": "code", "source": 5, "metadata": {}, "outputs": [], "execution_count": None},
    {"cell_type": "code", "source": {"a": 1}, "metadata": {}, "outputs": [], "execution_count": None},
    {"cell_type": "markdown", "source": 5, "metadata": {}},
    "not a cell",
], ids=["number", "dict", "markdown_number", "string"])
def test_a_cell_that_is_not_a_cell_with_text_is_bad_input(cell, tmp_path):
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [cell, {"cell_type": "code", "source": (SOLUTIONS / "ex01_backward.py").read_text(),
                           "metadata": {}, "outputs": [], "execution_count": None}]}
    (tmp_path / "ex01_backward.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(tmp_path), "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "not a readable notebook" in result.output, result.output


def test_a_broken_notebook_is_bad_input(tmp_path):
    (tmp_path / "ex01_backward.ipynb").write_text("{not json")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "ex01_backward.ipynb"), "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "not a readable notebook" in result.output
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("hello")])
    nbformat.write(nb, str(tmp_path / "notes.ipynb"))
    result = CliRunner().invoke(main, ["run", str(tmp_path / "notes.ipynb"), "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "no exercise function" in result.output
    assert not (tmp_path / "r.json").exists()
    # The output may not overwrite the notebook.
    result = CliRunner().invoke(main, ["run", str(tmp_path / "notes.ipynb"), "-o", str(tmp_path / "notes.ipynb")])
    assert result.exit_code == 2


def test_the_release_has_one_notebook_per_module_with_check_cells(tmp_path):
    result = CliRunner().invoke(main, ["release", str(tmp_path / "student"), "--notebooks"])
    assert result.exit_code == 0, result.output
    books = tmp_path / "student" / "notebooks"
    assert sorted(p.name for p in books.glob("*.ipynb")) == sorted(f"{m}.ipynb" for m in MODULES)
    nb = nbformat.read(str(books / "ex03_vjp.ipynb"), 4)
    nbformat.validate(nb)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Jᵀv" in markdown and "向量" in markdown  # both languages, from the docstrings
    checks = [c.source for c in nb.cells if notebook.CHECK_TAG in c.metadata.get("tags", [])]
    assert checks == [f'from grader import notebook\nnotebook.check("{t.name}")' for t in TASKS if t.module == "ex03_vjp"]
    assert "## Working in notebooks" in (tmp_path / "student" / "README.md").read_text()


def test_the_notebook_path_comes_from_the_front_end(tmp_path, monkeypatch):
    path = tmp_path / "ex03_vjp.ipynb"
    path.write_text("{}")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    with pytest.raises(notebook.NotebookError, match="give its path"):
        notebook.current_notebook()
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    assert notebook.current_notebook() == path
    assert notebook.current_notebook(tmp_path / "other.ipynb") == tmp_path / "other.ipynb"


def test_the_notebook_path_comes_from_the_jupyter_servers_sessions(tmp_path, monkeypatch):
    """A kernel's connection file names its id; the running server's sessions API (asked
    with the server's token from its runtime file) maps it to the notebook."""
    import http.server
    import threading

    import ipykernel.connect

    sessions = [{"kernel": {"id": "other"}, "path": "x.ipynb"},
                {"kernel": {"id": "abc-123"}, "path": "course/ex03_vjp.ipynb"}]

    class Sessions(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            ok = self.path == "/lab/api/sessions" and self.headers.get("Authorization") == "token s3cret"
            body = json.dumps(sessions if ok else {"message": "Forbidden"}).encode()
            self.send_response(200 if ok else 403)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Sessions)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        runtime = tmp_path / "runtime"
        runtime.mkdir()
        (runtime / "jpserver-1.json").write_text(json.dumps({
            "url": f"http://127.0.0.1:{httpd.server_port}/lab/", "token": "s3cret", "root_dir": str(tmp_path)}))
        (tmp_path / "course").mkdir()
        (tmp_path / "course" / "ex03_vjp.ipynb").write_text("{}")
        monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
        monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
        monkeypatch.setattr(ipykernel.connect, "get_connection_file", lambda: str(runtime / "kernel-abc-123.json"))
        assert notebook.current_notebook() == tmp_path / "course" / "ex03_vjp.ipynb"
        (runtime / "jpserver-1.json").write_text(json.dumps({
            "url": f"http://127.0.0.1:{httpd.server_port}/lab/", "token": "wrong", "root_dir": str(tmp_path)}))
        with pytest.raises(notebook.NotebookError):
            notebook.current_notebook()
    finally:
        httpd.shutdown()


# In a real kernel ------------------------------------------------------------------------


def _execute(path: Path, monkeypatch, session_name: bool = True) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    if session_name:
        monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # what Jupyter Server tells the kernel
    else:
        monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    nb = nbformat.read(str(path), 4)
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def _outputs(nb: nbformat.NotebookNode) -> list[str]:
    return ["".join(o.get("text", "") for o in c.get("outputs", []) if o.get("output_type") == "stream")
            for c in nb.cells if notebook.CHECK_TAG in c.metadata.get("tags", [])]


def test_check_cells_work_in_an_executed_notebook(tmp_path, monkeypatch):
    good = tmp_path / "good" / "ex03_vjp.ipynb"
    good.parent.mkdir()
    nbformat.write(notebook.from_module("ex03_vjp", (SOLUTIONS / "ex03_vjp.py").read_text()), str(good))
    outputs = _outputs(_execute(good, monkeypatch))
    tasks = [t for t in TASKS if t.module == "ex03_vjp"]
    assert len(outputs) == len(tasks)
    for output, task in zip(outputs, tasks):
        assert output.startswith(f"{task.id}: {task.points}/{task.points} · passed"), output

    stub = tmp_path / "stub" / "ex03_vjp.ipynb"
    stub.parent.mkdir()
    nbformat.write(notebook.from_module("ex03_vjp", (EXERCISES / "ex03_vjp.py").read_text()), str(stub))
    outputs = _outputs(_execute(stub, monkeypatch))
    assert outputs[0].startswith("ex03_vjp.vjp: 0/6 · not implemented")


def test_hints_come_on_request_in_an_executed_notebook(tmp_path, monkeypatch):
    source = (SOLUTIONS / "ex03_vjp.py").read_text() + (MUTANTS / "ex03_vjp" / "jv_instead_of_jtv.py").read_text()
    nb = notebook.from_module("ex03_vjp", source)
    check = v4.new_code_cell(f'from grader import notebook\nnotebook.check("vjp", hints=1, path={str(tmp_path / "w.ipynb")!r})\n'
                             'notebook.check("vjp", hints=2, path="w.ipynb")')
    check.metadata["tags"] = [notebook.CHECK_TAG]
    nb.cells = [c for c in nb.cells if notebook.CHECK_TAG not in c.metadata.get("tags", [])] + [check]
    nbformat.write(nb, str(tmp_path / "w.ipynb"))
    (out,) = _outputs(_execute(tmp_path / "w.ipynb", monkeypatch, session_name=False))
    first, second = out.split("ex03_vjp.vjp: ")[1:]
    assert "partial" in first or "failed" in first
    assert "Hint: It equals J·v" in first and "ex03_vjp.vjp — vjp(f, x, v)" not in first
    assert "Hint: It equals J·v" in second and "ex03_vjp.vjp — vjp(f, x, v)" in second


def test_hints_are_held_back_until_asked(tmp_path):
    source = (SOLUTIONS / "ex03_vjp.py").read_text() + (MUTANTS / "ex03_vjp" / "jv_instead_of_jtv.py").read_text()
    nbformat.write(notebook.from_module("ex03_vjp", source), str(tmp_path / "ex03_vjp.ipynb"))
    report = notebook.grade(tmp_path / "ex03_vjp.ipynb", ("ex03_vjp.vjp",), seed=3)
    plain = notebook.feedback(report, "ex03_vjp.vjp")
    assert "Hint:" not in plain and 'notebook.check("vjp", hints=1)' in plain
    assert "differs from the right answer" in plain
    assert "Hint: It equals J·v" in notebook.feedback(report, "ex03_vjp.vjp", hints=1)


def test_a_notebook_beside_the_modules_is_named_as_not_graded(tmp_path):
    folder = tmp_path / "sub"
    shutil.copytree(SOLUTIONS, folder)
    nbformat.write(notebook.from_module("ex03_vjp", (EXERCISES / "ex03_vjp.py").read_text(encoding="utf-8")),
                   str(folder / "ex03_vjp.ipynb"))
    result, report = run(folder, "-o", tmp_path / "r.json", "-k", "ex03")
    # The student's own ex03_vjp.py is graded, not the notebook beside it.
    assert "ex03_vjp.ipynb was not graded: ex03_vjp.py is graded as ex03_vjp.py." in result.output
    assert report["score"] == report["max_score"]


@pytest.mark.parametrize("cell", ["y = a" + ".b" * 100_000, "x = 1" + "\n" * 150_000 + "import grader"])
def test_a_pathological_cell_still_gets_a_report(cell, tmp_path):
    """A cell too deep for Python's parser, and one of 150,000 blank lines (which a
    careless pattern reads in quadratic time), end as a report like any submission."""
    import signal

    nb = notebook.from_module("ex03_vjp", (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8"))
    nb.cells.append(v4.new_code_cell(cell))
    path = tmp_path / "ex03_vjp.ipynb"
    nbformat.write(nb, str(path))

    def stop(signum, frame):
        raise TimeoutError("reading the notebook took over 60 s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(60)
    try:
        result, report = run(path, "-o", tmp_path / "r.json", "-k", "ex03")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert report is not None and result.exit_code in (0, 1), result.output[-500:]


def _book(module: str, src: Path = SOLUTIONS) -> nbformat.NotebookNode:
    return notebook.from_module(module, (src / f"{module}.py").read_text(encoding="utf-8"))


def test_a_folder_of_modules_and_one_notebook_grades_the_notebooks_module(tmp_path):
    """One exercise done in Jupyter: the notebook holds the module the folder has no .py for."""
    folder = tmp_path / "mixed"
    shutil.copytree(SOLUTIONS, folder)
    (folder / "ex03_vjp.py").unlink()
    nbformat.write(_book("ex03_vjp"), str(folder / "ex03_vjp.ipynb"))
    result, report = run(folder, "-o", tmp_path / "r.json", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert report["score"] == MAX_SCORE
    assert {f["module"]: f["path"] for f in report["submission"]["files"]}["ex03_vjp"] == "ex03_vjp.ipynb"


def test_a_notebook_beats_the_untouched_stub_and_a_release_clone_is_graded_from_its_notebooks(tmp_path):
    stubbed = tmp_path / "stubbed"
    shutil.copytree(EXERCISES, stubbed)
    nbformat.write(_book("ex03_vjp"), str(stubbed / "ex03_vjp.ipynb"))
    result, report = run(stubbed, "-o", tmp_path / "r1.json", "-k", "ex03")
    assert "ex03_vjp.py is the exercise as handed out, unchanged: ex03_vjp.ipynb is graded as ex03_vjp.py." \
        in result.output
    assert report["score"] == report["max_score"] > 0
    # A clone of the release (grade release --notebooks): stubs in exercises/, the work in notebooks/.
    clone = tmp_path / "clone"
    shutil.copytree(EXERCISES, clone / "exercises")
    notebook.write_notebooks(EXERCISES, clone / "notebooks")
    nbformat.write(_book("ex03_vjp"), str(clone / "notebooks" / "ex03_vjp.ipynb"))
    result, report = run(clone, "-o", tmp_path / "r2.json", "-k", "ex03", "-k", "ex01")
    scores = {t["id"].split(".")[0]: t["score"] for t in report["tasks"]}
    assert report["score"] == sum(t.points for t in TASKS if t.module == "ex03_vjp"), result.output
    assert not any(scores[m] for m in scores if m != "ex03_vjp")
    # An edited .py is the student's work: it is graded, not a notebook beside it.
    edited = tmp_path / "edited"
    shutil.copytree(EXERCISES, edited)
    (edited / "ex03_vjp.py").write_text((SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8"), encoding="utf-8")
    nbformat.write(_book("ex03_vjp", EXERCISES), str(edited / "ex03_vjp.ipynb"))
    result, report = run(edited, "-o", tmp_path / "r3.json", "-k", "ex03")
    assert report["score"] == report["max_score"], result.output


def test_a_broken_notebook_beside_modules_costs_only_its_module(tmp_path):
    folder = tmp_path / "sub"
    shutil.copytree(SOLUTIONS, folder)
    (folder / "ex03_vjp.py").unlink()
    (folder / "ex03_vjp.ipynb").write_text("{not json")
    result, report = run(folder, "-o", tmp_path / "r.json", "-k", "ex01", "-k", "ex03")
    assert result.exit_code == 0 and "not a readable notebook" in result.output
    status = {t["id"].split(".")[0]: t["status"] for t in report["tasks"]}
    assert status["ex03_vjp"] == "missing" and status["ex01_backward"] == "passed"


def test_the_batch_digest_follows_the_notebooks(tmp_path):
    from grader import intake

    folder = tmp_path / "sub"
    shutil.copytree(EXERCISES, folder / "exercises")
    (folder / "notebooks").mkdir()
    nbformat.write(_book("ex03_vjp", EXERCISES), str(folder / "notebooks" / "ex03_vjp.ipynb"))
    before = intake.digest(folder)
    nbformat.write(_book("ex03_vjp"), str(folder / "notebooks" / "ex03_vjp.ipynb"))
    assert intake.digest(folder) != before
