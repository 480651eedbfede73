"""The classic autograd mistakes, written as a student would, get their specific
feedback in English and in Chinese."""
from __future__ import annotations

import re

import pytest

from grader.i18n import translator
from grader.messages import HINTS, MESSAGES
from grader.mutants import load, materialise

from .conftest import MUTANTS, SOLUTIONS

# mistake: (mutant, the task it hits, "hint:<code>" or "code:<code>")
CLASSIC = {
    "missing zero_()": ("ex01_backward/seq_missing_zero_grad", "ex01_backward.sequential_grads", "hint:accumulated"),
    "missing detach (3x² for x²)": ("ex04_detach/not_detached", "ex04_detach.detach_grads", "hint:not_detached"),
    "transposed Jacobian": ("ex02_jacobian/vjps_transposed", "ex02_jacobian.jacobian_from_vjps", "hint:transposed"),
    "J·v instead of Jᵀ·v": ("ex03_vjp/jv_instead_of_jtv", "ex03_vjp.vjp", "hint:jv_not_jtv"),
    "None for a non-leaf's .grad": ("ex04_detach/nonleaf_no_retain_grad", "ex04_detach.nonleaf_grads",
                                    "hint:nonleaf_grad"),
    "missing retain_graph": ("ex01_backward/twice_no_retain_graph", "ex01_backward.backward_twice",
                             "hint:retain_graph"),
    "missing create_graph": ("ex07_higher_order/second_without_create_graph", "ex07_higher_order.second_derivative",
                             "hint:create_graph"),
    "backward() on a non-scalar": ("ex05_control_flow/curve_implicit_backward", "ex05_control_flow.derivative_curve",
                                   "hint:implicit_scalar"),
    "requires_grad on an integer tensor": ("ex01_backward/grad_int_requires_grad", "ex01_backward.grad_of_2xtx",
                                           "hint:integer_grad"),
    "result still requiring grad": ("ex06_losses/loss_attached", "ex06_losses.loss_grads", "code:requires_grad"),
    "lost float64": ("ex03_vjp/vjp_always_float32", "ex03_vjp.vjp", "code:wrong_dtype"),
    "side effect on the caller's tensor": ("ex03_vjp/vjp_grad_on_callers_x", "ex03_vjp.vjp", "code:argument_left_grad"),
    "wrong shape, and why": ("ex02_jacobian/vjps_flattened", "ex02_jacobian.jacobian_from_vjps", "hint:shape_jacobian"),
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _with(check: dict, kind: str, code: str) -> bool:
    return check["hint" if kind == "hint" else "code"] == code


@pytest.mark.parametrize("mistake", sorted(CLASSIC))
def test_a_classic_mistake_gets_its_feedback_in_both_languages(mistake, grade, tmp_path):
    name, task_id, expected = CLASSIC[mistake]
    kind, code = expected.split(":")
    mutant = load(MUTANTS / f"{name}.py")
    folder = materialise(mutant, SOLUTIONS, tmp_path / "sub")
    texts = {}
    for lang in ("en", "zh"):
        report = grade(folder, patterns=(task_id,), lang=lang)
        (task,) = report["tasks"]
        matching = [c for c in task["checks"] if _with(c, kind, code)]
        assert matching, (mistake, [(c["code"], c["hint"]) for c in task["checks"]])
        texts[lang] = matching[0]["feedback"]
    template = HINTS[code] if kind == "hint" else MESSAGES[code]
    fixed = re.split(r"\{[^}]*\}", template)[0].strip()
    fixed_zh = re.split(r"\{[^}]*\}", translator("zh")(template))[0].strip()
    assert fixed in texts["en"] if fixed else True
    assert fixed_zh in texts["zh"] if fixed_zh else True
    assert CJK.search(texts["zh"]) and not CJK.search(texts["en"])


def test_nan_is_named(grade, submission):
    folder = submission(append={"ex03_vjp": "def vjp(f, x, v):\n    return torch.full_like(x, float('nan'))\n"})
    report = grade(folder, patterns=("ex03_vjp.vjp",), lang="zh")
    codes = {c["code"] for c in report["tasks"][0]["checks"]}
    assert codes == {"not_finite"}
    assert "NaN" in report["tasks"][0]["checks"][0]["feedback"]


def test_a_visible_check_says_where_and_what_differed(grade, submission):
    folder = submission(append={"ex03_vjp": "def vjp(f, x, v):\n    return torch.zeros_like(x)\n"})
    report = grade(folder, patterns=("ex03_vjp.vjp",))
    visible = [c for c in report["tasks"][0]["checks"] if c["visibility"] == "visible"]
    assert visible and visible[0]["code"] == "wrong_values_visible"
    assert re.search(r"at index \[\d+\] expected [-\d.e]+, got 0", visible[0]["feedback"])
    assert "tolerance" in visible[0]["feedback"]


@pytest.mark.parametrize("what, expected, got, hint", [
    ("J", (4, 5, 3, 2), (20, 6), "shape_jacobian"),
    ("Jᵀv", (3,), (1, 3), "shape_like_input"),
    ("J·u", (5,), (3,), "shape_like_output"),
    ("w", (3,), (3, 1), "shape_reshaped"),
    ("w", (3,), (1, 4), "shape_dims"),
    ("w", (3,), (4,), "shape_exact"),
])
def test_a_wrong_shape_says_why(what, expected, got, hint):
    from grader.checking import shape_hint

    assert shape_hint(what, expected, got) == hint


def test_a_check_that_knows_its_input_rereads_the_hint(grade, submission):
    """On a linear f, "no grad_fn" means f″ ≡ 0 was not handled, not a missing create_graph."""
    code = ("def second_derivative(f, x):\n"
            "    x = x.detach().clone().requires_grad_(True)\n"
            "    (g,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)\n"
            "    (h,) = torch.autograd.grad(g.sum(), x)\n"
            "    return h.detach()\n")
    report = grade(submission(append={"ex07_higher_order": code}), patterns=("ex07_higher_order.second_derivative",))
    checks = report["tasks"][0]["checks"]
    linear = [c for c in checks if c["hint"] == "linear_zero"]
    assert linear and all(c["outcome"] == "error" for c in linear)
    assert report["tasks"][0]["status"] == "partial"
