"""The task records: one per task, and everything derived from them agrees with them."""
from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from grader import messages, scan, tasks
from grader.i18n import translator
from grader.mutants import discover
from grader.sandbox.catalogue import CATALOGUE
from grader.taskrecord import ANY_AUTOGRAD, RECORDED, Task

from .conftest import EXERCISES, MUTANTS, ROOT, SOLUTIONS
from .hint_sites import given_anywhere, given_by_task

CHECKS = ROOT / "grader" / "checks"


def test_the_readme_table_is_the_records_table():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert tasks.markdown_table() in text, "run: python -m grader.tasks --readme README.md"
    assert tasks.with_table(text) == text


def test_the_table_command_prints_every_task():
    done = subprocess.run([sys.executable, "-m", "grader.tasks"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == tasks.markdown_table()
    for task in tasks.TASKS:
        assert f"`{task.module}.{task.signature}` | {task.points} |" in done.stdout


def test_the_student_readme_is_built_from_the_records():
    from grader import release

    readme = release.student_readme({"checks": 1, "points": 1.0})
    assert tasks.markdown_table() in readme
    # what the grader does not load or allow, told before it costs points, in both languages
    assert "utils.py" in readme and "filename=" in readme and "辅助文件" in readme


def test_modules_are_discovered_in_numeric_order():
    numbers = [int(m[2:].split("_")[0]) for m in tasks.MODULES]
    assert numbers == sorted(numbers)
    assert tasks.MAX_SCORE == sum(t.points for t in tasks.TASKS)
    assert len(tasks.BY_ID) == len(tasks.TASKS)


@pytest.mark.parametrize("task", tasks.TASKS, ids=[t.id for t in tasks.TASKS])
def test_every_record_matches_its_stub_and_its_solution(task: Task):
    for folder in (EXERCISES, SOLUTIONS):
        tree = ast.parse((folder / f"{task.module}.py").read_text(encoding="utf-8"))
        fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == task.name), None)
        assert fn is not None, (folder.name, task.id)
        params = [a.arg for a in fn.args.args]
        assert task.signature.startswith(f"{task.name}(") and all(p in task.signature for p in params), \
            (task.signature, params)
    assert task.signature.split("(")[0] == task.name


@pytest.mark.parametrize("task", tasks.TASKS, ids=[t.id for t in tasks.TASKS])
def test_every_record_names_only_what_exists(task: Task):
    assert set(task.catalogue) <= set(CATALOGUE), set(task.catalogue) - set(CATALOGUE)
    own = {hint.code for hint in task.own_hints}
    # A shared code names the catalogue, never another task's own hint.
    shared = set(task.hint_codes) - own
    assert shared <= set(messages.SHARED_HINTS), shared - set(messages.SHARED_HINTS)
    for drawn, meant in task.exception_hints:
        assert drawn.removesuffix(messages.FIRST_PASS) in messages.DEFAULT_FOR and meant in task.hint_codes
    assert all(rule.startswith(RECORDED) for rule in task.forbidden_runtime)
    if task.scope:
        tree = ast.parse((SOLUTIONS / f"{task.module}.py").read_text(encoding="utf-8"))
        classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        methods = {(cls, n.name) for cls, owner in classes.items() for n in owner.body
                   if isinstance(n, ast.FunctionDef)}
        # every scope names a class of the solution; its backward at least is written there
        assert {place.split(".")[0] for place in task.scope} <= set(classes)
        assert any(tuple(place.split(".", 1)) in methods for place in task.scope)


def _passed_functions(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", None) == "FnSpec" and n.args and isinstance(n.args[0], ast.Constant)}


@pytest.mark.parametrize("module", tasks.MODULES)
def test_checks_pass_only_the_catalogue_functions_their_records_name(module):
    named = {name for t in tasks.TASKS if t.module == module for name in t.catalogue}
    passed = _passed_functions(CHECKS / f"check_{module}.py")
    assert passed <= named, f"not in the records of {module}: {sorted(passed - named)}"


def test_every_mutant_hint_is_one_its_task_declares():
    for mutant in discover(MUTANTS):
        if mutant.hint:
            declared = {h for t in mutant.loses for h in tasks.BY_ID[t].hint_codes}
            assert mutant.hint in declared, (mutant.name, mutant.hint)


def _reached(task: Task) -> set[str]:
    given = given_by_task((CHECKS / f"check_{task.module}.py").read_text(encoding="utf-8")).get(task.id, set())
    return (given - {""}) | {meant for _, meant in task.exception_hints}


@pytest.mark.parametrize("task", tasks.TASKS, ids=[t.id for t in tasks.TASKS])
def test_every_record_hint_is_given_by_a_check_of_its_task(task: Task):
    unreached = {hint.code for hint in task.own_hints} - _reached(task)
    assert not unreached, f"no check of {task.id} gives {sorted(unreached)}"


@pytest.mark.parametrize("task", tasks.TASKS, ids=[t.id for t in tasks.TASKS])
def test_every_hint_a_tasks_checks_give_is_in_its_record(task: Task):
    undeclared = _reached(task) - set(task.hint_codes)
    assert not undeclared, f"{task.id}'s checks give {sorted(undeclared)}: add them to its record"


@pytest.mark.parametrize("module", tasks.MODULES)
def test_every_hint_code_in_the_checks_is_known(module):
    given = given_anywhere((CHECKS / f"check_{module}.py").read_text(encoding="utf-8")) - {""}
    unknown = given - set(messages.HINTS)
    assert not unknown, f"check_{module}.py gives hints no record nor the catalogue knows: {sorted(unknown)}"


def test_hint_codes_are_found_wherever_a_check_gives_them():
    source = (
        'T = "ex03_vjp.vjp"\n'
        'OTHER = "ex03_vjp.multitask_grads"\n'
        'MAP = {"no_grad_on_input": "by_hinting_map"}\n'
        'def _matches(name, other):\n    def d(got, want):\n        return name\n    return d\n'
        'def _diagnose(got, want):\n'
        '    table = (("by_table", 0), ("also_table", 1))\n'
        '    for hint, index in table:\n        return hint\n'
        '    return "by_return" if got else "by_else"\n'
        '@check(T, 1, "t")\n'
        'def test_a(task, inputs):\n'
        '    raise Fail("wrong_values", hint="by_keyword", **{"hint": "by_dict"}, none_hint="by_none_hint")\n'
        '@check(T, 1, "u")\n'
        'def test_b(task, inputs):\n'
        '    expect_close(1, 2, diagnose=first_hint(_matches("by_helper", 0), _diagnose))\n'
        '    task.hinting(MAP)(1)\n    hint_with("by_hint_with", k=1)\n'
        '@check(OTHER, 1, "v")\n'
        'def test_c(task, inputs):\n'
        '    task.hinting({"create_graph": "by_inline_map"})(1)\n'
    )
    by_task = given_by_task(source)
    assert by_task["ex03_vjp.vjp"] == {"by_hinting_map", "by_helper", "by_table", "also_table", "by_return",
                                       "by_else", "by_keyword", "by_dict", "by_none_hint", "by_hint_with"}
    assert by_task["ex03_vjp.multitask_grads"] == {"by_inline_map"}
    assert given_anywhere(source) == by_task["ex03_vjp.vjp"] | by_task["ex03_vjp.multitask_grads"]


def test_a_hint_code_is_one_tasks_own_or_shared_never_both():
    codes = [hint.code for task in tasks.TASKS for hint in task.own_hints]
    assert len(codes) == len(set(codes))
    assert not set(codes) & set(messages.SHARED_HINTS)
    assert set(messages.HINTS) == set(codes) | set(messages.SHARED_HINTS)
    twice = (Task("ex03_vjp", "a", 1, "a()", "", hints=(tasks.OWN_HINTS["ignored_v"],)),
             Task("ex03_vjp", "b", 1, "b()", "", hints=(tasks.Hint("ignored_v", "Other.", "别的。"),)))
    with pytest.raises(ValueError, match="two records"):
        tasks._own_hints(twice)


def test_an_error_means_what_the_task_says():
    message = "element 0 of tensors does not require grad and does not have a grad_fn"
    assert messages.exception_hint(message, "ex07_higher_order.hvp") == "create_graph"
    assert messages.exception_hint(message, "ex03_vjp.vjp") == "no_grad_on_input"


def test_a_mutant_folder_that_is_not_a_module_is_an_error(tmp_path):
    (tmp_path / "ex10_typo").mkdir()
    (tmp_path / "ex10_typo" / "m.py").write_text('"""x.\n\nloses: ex03_vjp.vjp\n"""\n')
    with pytest.raises(ValueError, match="exercise module"):
        discover(tmp_path)


SCOPED = Task("ex03_vjp", "vjp", 1, "vjp(f, x, v)", "", forbidden_scan=("torch.autograd", ".backward"),
              scope=("Op.backward",))


def _scoped_uses(source: str) -> list[str]:
    return [f.detail for f in scan.scan_module("ex03_vjp", source).forbidden_uses(SCOPED)]


def test_a_scoped_rule_looks_only_inside_its_method():
    source = (
        "import torch\n"
        "class Op(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n        return x\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n        return g\n"
        "def vjp(f, x, v):\n"
        "    y = Op.apply(x)\n    y.backward(v)\n    return torch.autograd.grad(y, x)\n"
    )
    assert _scoped_uses(source) == []


def test_a_scoped_rule_finds_autograd_in_the_method_and_its_helpers():
    source = (
        "import torch\n"
        "from torch.autograd import grad as g2\n"
        "def helper(y, x, g):\n    return g2(y, x, g)\n"
        "class Op(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        x, = ctx.saved_tensors\n"
        "        return helper(x * 2, x, g)\n"
    )
    assert _scoped_uses(source) == ["torch.autograd.grad"]


def test_explain_says_where_a_scoped_rule_applies(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    done = CliRunner().invoke(main, ["explain", "softplus_grad", "-r", str(tmp_path / "none.json"), "--lang", "en"])
    assert done.exit_code == 0, done.output
    (line,) = [line for line in done.output.splitlines() if "Not allowed inside" in line]
    assert "SmoothReLU.forward" in line and "SmoothReLU.backward" in line and ": torch.autograd" in line


def test_explain_shows_an_earned_record_hint_in_chinese(tmp_path):
    import json

    from click.testing import CliRunner

    from grader.cli import main

    code, hint = next((c, h) for c, h in tasks.OWN_HINTS.items())
    task = next(t for t in tasks.TASKS if code in t.hint_codes)
    report = {"tasks": [{"id": task.id, "checks": [{"id": "c", "hint": code}, {"id": "d", "hint": "sign"}]}]}
    (tmp_path / "r.json").write_text(json.dumps(report), encoding="utf-8")
    done = CliRunner().invoke(main, ["explain", task.id, "-r", str(tmp_path / "r.json"), "--lang", "zh"])
    assert done.exit_code == 0, done.output
    assert hint.zh in done.output and hint.en not in done.output
    assert translator("zh")(messages.SHARED_HINTS["sign"]) in done.output


def test_every_task_has_two_mutants_with_a_hint_or_a_verdict():
    from collections import Counter

    mutants = discover(MUTANTS)
    counts = Counter(t for m in mutants for t in m.loses)
    assert {t.id: counts[t.id] for t in tasks.TASKS if counts[t.id] < 2} == {}
    for mutant in mutants:
        assert mutant.hint or mutant.status, mutant.name


def test_a_whole_task_id_selects_that_task_alone():
    assert [t.id for t in tasks.select(["ex03_vjp.vjp"])] == ["ex03_vjp.vjp"]
    assert [t.id for t in tasks.select(["vjp"])] == ["ex03_vjp.vjp"]
    assert {t.id for t in tasks.select(["ex03_vjp.vjp*"])} == {"ex03_vjp.vjp", "ex03_vjp.vjps_on_one_graph"}
    assert {t.module for t in tasks.select(["ex08"])} == {"ex08_custom_function"}
    assert tasks.select([]) == list(tasks.TASKS)


def test_module_order_is_numeric_so_ex10_follows_ex09():
    stems = ["ex10_more", "ex09_last_but_one", "ex01_backward", "check_ex01_backward", "ex2_bad", "__init__"]
    assert tasks.module_order(stems) == ["ex01_backward", "ex09_last_but_one", "ex10_more"]


def test_a_given_functions_code_is_the_exercises():
    """The checks run a given function's code from its task's record: it must be the
    code the exercise gives (docstring and annotations aside), and the solution's."""
    import ast

    from .conftest import EXERCISES, SOLUTIONS

    def body(tree: ast.Module, name: str) -> tuple[list[str], str]:
        fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
        statements = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
        return [a.arg for a in fn.args.args], ast.dump(ast.Module(body=statements, type_ignores=[]))

    given = [t for t in tasks.TASKS if t.given]
    assert given
    for task in given:
        for folder in (EXERCISES, SOLUTIONS):
            shipped = ast.parse((folder / f"{task.module}.py").read_text(encoding="utf-8"))
            assert body(ast.parse(task.given), task.name) == body(shipped, task.name), (task.id, folder)


BY_HAND = Task("ex02_jacobian", "jacobian_polar", 1, "jacobian_polar(p)", "", forbidden_scan=ANY_AUTOGRAD)


def _by_hand_uses(body: str) -> list[str]:
    source = "import torch\ndef jacobian_polar(p):\n" + body
    return [f.detail for f in scan.scan_module("ex02_jacobian", source).forbidden_uses(BY_HAND)]


@pytest.mark.parametrize("body", [
    "    assert p.grad_fn is None\n    return p\n",
    "    if p.grad_fn is not None:\n        p = p.detach()\n    return p\n",
    "    return p if None is p.grad_fn else p.detach()\n",
    "    if p.grad_fn:\n        p = p.detach()\n    print(p.grad_fn, f'{p.grad_fn}')\n    return p\n",
    "    assert not p.grad_fn and type(p.grad_fn) is type(None)\n    return p\n",
    "    print('node', p.grad_fn, flush=True)\n    print('%s' % p.grad_fn, 'a {} b'.format(p.grad_fn), '%s %s' % (p, p.grad_fn))\n"
    "    return p\n",
])
def test_asking_whether_a_tensor_is_attached_is_not_autograd(body):
    assert _by_hand_uses(body) == []


@pytest.mark.parametrize("body", [
    "    node = p.grad_fn\n    return node(p)\n",
    "    return p.grad_fn(p)\n",
    "    return p.grad_fn is None or p.grad_fn.next_functions\n",
    "    return p.grad_fn == None\n",
    "    return p.grad_fn or p\n",
    "    print(p.grad_fn(p))\n    return p\n",
    "    return bool(p.grad_fn)\ndef bool(v):\n    return v(None)\n",
    "    return (lambda print: print(p.grad_fn))(lambda n: n(p))\n",
])
def test_reaching_a_graph_node_is_autograd(body):
    assert {".grad_fn", ".next_functions"} & set(_by_hand_uses(body))


def _by_hand_module_uses(source: str) -> list[str]:
    return [f.detail for f in scan.scan_module("ex02_jacobian", "import torch\nimport enum, typing, collections\n"
                                               + source).forbidden_uses(BY_HAND)]


_UNUSED_CHECK = "    def check(self):\n        return torch.autograd.functional.jacobian(torch.sin, torch.ones(1))\n"
RECORD_CLASSES = {
    "named_tuple": "class P(typing.NamedTuple):\n    r: float\n    theta: float\n" + _UNUSED_CHECK,
    "namedtuple_call": "class P(collections.namedtuple('P', ['r', 'theta'])):\n" + _UNUSED_CHECK,
    "enum": "class P(enum.Enum):\n    R = 0\n    THETA = 1\n" + _UNUSED_CHECK,
    "int_enum": "class P(int, enum.Enum):\n    R = 0\n" + _UNUSED_CHECK,
    "str_enum": "class P(str, enum.Enum):\n    R = 'r'\n" + _UNUSED_CHECK,
}


@pytest.mark.parametrize("name", sorted(RECORD_CLASSES))
def test_an_unused_method_of_a_record_class_is_not_run(name):
    source = RECORD_CLASSES[name] + "def jacobian_polar(p):\n    P\n    return p\n"
    assert _by_hand_module_uses(source) == []
    # named by the task, it runs
    used = RECORD_CLASSES[name] + "def jacobian_polar(p):\n    return P.check(None)\n"
    assert _by_hand_module_uses(used) == ["torch.autograd.functional.jacobian"]


def test_a_shadowed_builtin_base_is_not_plain():
    source = ("class str(torch.nn.Module):\n    def forward(self, p):\n"
              "        return torch.autograd.functional.jacobian(torch.sin, p)\n"
              "class P(str):\n    pass\n"
              "def jacobian_polar(p):\n    return P()(p)\n")
    assert _by_hand_module_uses(source) == ["torch.autograd.functional.jacobian"]


def test_an_enums_own_hooks_run_of_their_own_accord():
    source = ("class P(enum.Enum):\n    R = 0\n    @classmethod\n    def _missing_(cls, value):\n"
              "        return torch.autograd.functional.jacobian(torch.sin, value)\n"
              "def jacobian_polar(p):\n    return P(p)\n")
    assert _by_hand_module_uses(source) == ["torch.autograd.functional.jacobian"]
    built = "class P(collections.namedtuple('P', [torch.autograd.functional.jacobian.__name__])):\n    pass\n" \
            "def jacobian_polar(p):\n    return P(p)\n"
    assert _by_hand_module_uses(built) != []
