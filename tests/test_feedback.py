"""The classic autograd mistakes, written as a student would, get their specific
feedback in English and in Chinese."""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

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
    "an integer input made float64": ("ex01_backward/grad_int_to_float64", "ex01_backward.grad_of_2xtx",
                                      "code:wrong_dtype_default"),
    "side effect on the caller's tensor": ("ex03_vjp/vjp_grad_on_callers_x", "ex03_vjp.vjp", "code:argument_left_grad"),
    "wrong shape, and why": ("ex02_jacobian/vjps_flattened", "ex02_jacobian.jacobian_from_vjps", "hint:shape_jacobian"),
    "h.grad read without retain_grad()": ("ex04_detach/nonleaf_grad_of_none", "ex04_detach.nonleaf_grads",
                                          "hint:nonleaf_grad"),
    "retain_grad() after backward()": ("ex04_detach/nonleaf_retain_after_backward", "ex04_detach.nonleaf_grads",
                                       "hint:nonleaf_grad"),
    "TD target r − γ·q(s′)": ("ex04_detach/target_minus", "ex04_detach.semi_gradient", "hint:target_sign"),
    "4·xᵀx: a wrong coefficient": ("ex01_backward/grad_four_xtx", "ex01_backward.grad_of_2xtx", "hint:factor"),
    "a lost chain-rule factor (the 2 of a square)": ("ex04_detach/semi_missing_two", "ex04_detach.semi_gradient",
                                                     "hint:factor"),
    "per-task backward without clearing .grad": ("ex03_vjp/multitask_per_task_backward", "ex03_vjp.multitask_grads",
                                                 "hint:accumulated_across_tasks"),
    "mean where a sum is meant": ("ex06_losses/weights_times_mean", "ex06_losses.weighted_loss_grad",
                                  "hint:mean_sum_swapped"),
    "a rebound leaf in the training loop": ("ex01_backward/train_rebinds_w", "ex01_backward.train_linear_regression",
                                            "hint:rebound_leaf"),
    # The same torch error at the first backward pass, and at the second: two causes.
    "w made without requires_grad": ("ex01_backward/train_w_without_requires_grad",
                                     "ex01_backward.train_linear_regression", "hint:loss_not_tracked"),
    "w rebound under no_grad": ("ex01_backward/train_rebinds_w_under_no_grad",
                                "ex01_backward.train_linear_regression", "hint:rebound_under_no_grad"),
    "a polar Jacobian entry without its r": ("ex02_jacobian/polar_missing_r", "ex02_jacobian.jacobian_polar",
                                             "hint:entry_slip"),
    "weights passed to backward as a list": ("ex03_vjp/multitask_weights_list", "ex03_vjp.multitask_grads",
                                             "hint:tensor_expected"),
    "w.grad.zero_() first in the training loop": ("ex01_backward/train_zero_grad_at_loop_top",
                                                  "ex01_backward.train_linear_regression", "hint:grad_none_first_step"),
    "a dummy w that does not require grad": ("ex07_higher_order/jvp_w_without_requires_grad",
                                             "ex07_higher_order.jvp_by_double_backward", "hint:wrt_no_grad"),
    "a loss whose every term is detached": ("ex04_detach/semi_everything_detached", "ex04_detach.semi_gradient",
                                            "hint:no_grad_on_input"),
    "sort's indices for its values": ("ex05_control_flow/price_sort_indices", "ex05_control_flow.second_price_grad",
                                      "hint:no_grad_on_input"),
    "one factor of u detached": ("ex04_detach/one_factor_detached", "ex04_detach.detach_grads",
                                 "hint:one_factor_detached"),
    "the mean's .grad not cloned": ("ex06_losses/loss_grad_not_cloned", "ex06_losses.loss_grads",
                                    "hint:grad_not_cloned"),
    "f called again for the second backward": ("ex01_backward/twice_calls_f_twice", "ex01_backward.backward_twice",
                                               "hint:f_called_twice"),
    "no zero_() between one-hot passes": ("ex02_jacobian/vjps_grad_not_cleared", "ex02_jacobian.jacobian_from_vjps",
                                          "hint:accumulated"),
    "retain_graph on the first backward only": ("ex03_vjp/one_graph_retain_first_only", "ex03_vjp.vjps_on_one_graph",
                                                "hint:retain_graph"),
    "the first derivative detached": ("ex07_higher_order/hvp_detached_gradient", "ex07_higher_order.hvp",
                                      "hint:create_graph"),
}

# A hint must not fire on a submission whose mistake is another: (mutant, task, hints that must not appear).
NOT_THIS_HINT = {
    "4·xᵀx is not accumulation": ("ex01_backward/grad_four_xtx", "ex01_backward.grad_of_2xtx", {"accumulated"}),
    "missing zero_() is not a factor": ("ex01_backward/seq_missing_zero_grad", "ex01_backward.sequential_grads",
                                        {"factor", "sign"}),
    "a negated semi-gradient is not a wrong TD target": ("ex04_detach/semi_negated", "ex04_detach.semi_gradient",
                                                         {"target_sign"}),
    "a wrong TD target is not a sign error": ("ex04_detach/target_minus", "ex04_detach.semi_gradient",
                                              {"sign", "factor"}),
    "no retain_grad() is not a generic None": ("ex04_detach/nonleaf_grad_of_none", "ex04_detach.nonleaf_grads",
                                               {"none_grad"}),
    "a rebound leaf is not a non-leaf's .grad": ("ex01_backward/train_rebinds_w",
                                                 "ex01_backward.train_linear_regression", {"nonleaf_grad", "none_grad"}),
    "a transposed Jacobian is not an entry slip": ("ex02_jacobian/vjps_transposed", "ex02_jacobian.jacobian_from_vjps",
                                                   {"entry_slip", "sign"}),
    "a polar sign slip is not a transpose": ("ex02_jacobian/polar_sign_slip", "ex02_jacobian.jacobian_polar",
                                             {"transposed", "factor"}),
    "per-task backward is not one call adding to another": ("ex03_vjp/multitask_per_task_backward",
                                                            "ex03_vjp.multitask_grads", {"accumulated", "unweighted"}),
    "leaves kept across calls are not per-task accumulation": ("ex03_vjp/multitask_cached_leaves",
                                                               "ex03_vjp.multitask_grads", {"accumulated_across_tasks"}),
    "mean for sum is not a generic factor": ("ex06_losses/mean_sum_swapped", "ex06_losses.loss_grads", {"factor"}),
    "J·v is not a sign error": ("ex03_vjp/jv_instead_of_jtv", "ex03_vjp.vjp", {"sign", "factor"}),
    "None on the first step is not a rebound leaf": ("ex01_backward/train_zero_grad_at_loop_top",
                                                     "ex01_backward.train_linear_regression", {"rebound_leaf"}),
    "a rebound leaf is not None on the first step": ("ex01_backward/train_rebinds_w",
                                                     "ex01_backward.train_linear_regression", {"grad_none_first_step"}),
    "a dummy w without grad is not the input": ("ex07_higher_order/jvp_w_without_requires_grad",
                                                "ex07_higher_order.jvp_by_double_backward", {"no_grad_on_input"}),
    "the first backward pass cannot have accumulated": ("ex04_detach/one_factor_detached", "ex04_detach.detach_grads",
                                                        {"accumulated", "grad_not_cleared"}),
    "an uncloned .grad is not a swap": ("ex06_losses/loss_grad_not_cloned", "ex06_losses.loss_grads",
                                        {"mean_sum_swapped"}),
    "a swap is not an uncloned .grad": ("ex06_losses/mean_sum_swapped", "ex06_losses.loss_grads", {"grad_not_cloned"}),
}

# One rule, one check: a mistake against a rule that has its own check is charged there
# and nowhere else. (mutant, task, the checks it may fail)
CHARGED_ONCE = {
    "an unused parameter without zeros": ("ex03_vjp/multitask_unused_raises", "ex03_vjp.multitask_grads",
                                          {"unused_param"}),
    "an unused parameter returned as None": ("ex03_vjp/multitask_none_for_unused", "ex03_vjp.multitask_grads",
                                             {"unused_param"}),
    "no case for an output that ignores x": ("ex02_jacobian/vjps_constant_raises", "ex02_jacobian.jacobian_from_vjps",
                                             {"vjps_scalar_and_constant"}),
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


@pytest.mark.parametrize("case", sorted(NOT_THIS_HINT))
def test_a_hint_does_not_fire_on_another_mistake(case, grade, tmp_path):
    name, task_id, wrong_hints = NOT_THIS_HINT[case]
    folder = materialise(load(MUTANTS / f"{name}.py"), SOLUTIONS, tmp_path / "sub")
    (task,) = grade(folder, patterns=(task_id,))["tasks"]
    assert task["score"] < task["max_score"]
    given = {c["hint"] for c in task["checks"]}
    assert not given & wrong_hints, (case, given)


def test_a_sign_needs_every_input_of_the_check(grade, submission):
    """On the visible example alone, r − γ·q(s′) is the negated answer; the second input of
    the same check shows it is not, so no "opposite sign" claim survives anywhere."""
    code = ("def semi_gradient(w, s, s_next, r, gamma):\n"
            "    w = w.detach().clone().requires_grad_(True)\n"
            "    loss = ((w * s).sum() - (r - gamma * (w * s_next).sum()).detach()) ** 2\n"
            "    loss.backward()\n"
            "    return w.grad.detach().clone()\n")
    (task,) = grade(submission(append={"ex04_detach": code}), patterns=("ex04_detach.semi_gradient",))["tasks"]
    assert "sign" not in {c["hint"] for c in task["checks"]}


def test_a_check_on_several_inputs_keeps_a_hint_only_if_all_agree():
    from grader.checking import Fail, on_every_input

    def run(hint):
        raise Fail("wrong_values", hint=hint)

    with pytest.raises(Fail) as agreed:
        on_every_input(["sign", "sign"], run)
    assert agreed.value.params["hint"] == "sign"
    with pytest.raises(Fail) as disputed:
        on_every_input(["sign", "transposed"], run)
    assert disputed.value.params["hint"] == ""


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


def test_wrong_values_are_failed_not_error_even_when_another_input_raises(grade):
    """J·u by one reverse pass: wrong values on square Jacobians, a shape error on others."""
    folder = materialise(load(MUTANTS / "ex07_higher_order/jvp_single_vjp.py"), SOLUTIONS, Path(tempfile.mkdtemp()))
    (task,) = grade(folder, patterns=("ex07_higher_order.jvp_by_double_backward",))["tasks"]
    assert task["score"] == 0 and {c["outcome"] for c in task["checks"]} >= {"failed", "error"}
    assert task["status"] == "failed"


def test_the_hint_follows_hint_and_torch_is_cut_at_a_sentence(grade):
    folder = materialise(load(MUTANTS / "ex01_backward/twice_no_retain_graph.py"), SOLUTIONS,
                         Path(tempfile.mkdtemp()))
    for lang, label in (("en", " Hint: "), ("zh", " 提示：")):
        (task,) = grade(folder, patterns=("ex01_backward.backward_twice",), lang=lang)["tasks"]
        raised = [c for c in task["checks"] if c["outcome"] == "error"]
        assert raised
        for check in raised:
            message, _, hint = check["feedback"].partition(label)
            assert hint, check["feedback"]
            assert "freed). …" in message and "Specify retain_graph" not in message
        (group,) = task["lost"]
        assert group["checks"] == len(raised) and group["points"] == task["max_score"] - task["score"]


@pytest.mark.parametrize("error, hint", [
    ("FileNotFoundError: data.csv not found.", "no_files"),
    ("FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'", "no_files"),
    ("PermissionError: [Errno 13] Permission denied: '/home/me/x.pt'", "no_files"),
    ("OSError: [Errno 30] Read-only file system: 'out.png'", "no_files"),
    ("ModuleNotFoundError: No module named 'autograd_utils'", "module_not_available"),
    ("ValueError: not enough values to unpack", None),
])
def test_an_error_from_the_sandbox_gets_the_hint_of_its_cause(error, hint):
    from grader.messages import exception_hint

    assert exception_hint(error) == hint


def test_a_file_read_at_import_is_told_the_sandbox_has_no_files(grade, submission):
    folder = submission(append={"ex06_losses": "\nDATA = open('data.csv').read()\n"})
    for lang, words in (("en", "without access to files"), ("zh", "不能访问文件")):
        report = grade(folder, patterns=("ex06_losses.loss_grads",), lang=lang)
        (task,) = report["tasks"]
        assert task["status"] == "error" and all(words in c["feedback"] for c in task["checks"]), task["checks"][0]


@pytest.mark.parametrize("case", sorted(CHARGED_ONCE))
def test_a_rule_is_charged_by_its_own_check_only(case, grade, tmp_path):
    name, task_id, allowed = CHARGED_ONCE[case]
    folder = materialise(load(MUTANTS / f"{name}.py"), SOLUTIONS, tmp_path / "sub")
    (task,) = grade(folder, patterns=(task_id,))["tasks"]
    failed = {c["id"] for c in task["checks"] if c["outcome"] != "passed"}
    assert failed and failed <= allowed, (case, failed)


@pytest.mark.parametrize("error, hint", [
    ("NameError: name 'get_ipython' is not defined", "notebook_export"),
    ("InductorError: OSError: [Errno 30] Read-only file system: '/tmp/autograd-lab-jail-1/m7' "
     "Set TORCHDYNAMO_VERBOSE=1 for the internal stack trace (please do this especially if you're reporting a bug "
     "to PyTorch).", "no_compile"),
    ("BackendCompilerFailed: backend='inductor' raised: OSError: [Errno 30] Read-only file system", "no_compile"),
    ("RuntimeError: One of the differentiated Tensors does not require grad", "wrt_no_grad"),
])
def test_an_error_of_the_tools_gets_the_hint_of_its_cause(error, hint):
    from grader.messages import exception_hint

    assert exception_hint(error) == hint


def test_a_notebook_exported_as_a_script_is_told_so(grade, submission):
    """nbconvert --to script turns !pip and %matplotlib into get_ipython() calls."""
    source = (SOLUTIONS / "ex05_control_flow.py").read_text(encoding="utf-8")
    folder = submission(replace={"ex05_control_flow": source.replace(
        "import torch\n", "import torch\n\n# In[1]:\n\n\nget_ipython().run_line_magic('matplotlib', 'inline')\n", 1)})
    for lang, words in (("en", "exported from a notebook"), ("zh", "从 notebook 导出")):
        (task,) = grade(folder, patterns=("ex05_control_flow.second_price_grad",), lang=lang)["tasks"]
        assert task["status"] == "error"
        assert all(c["hint"] == "notebook_export" and words in c["feedback"] for c in task["checks"]), task["checks"]


def test_a_relative_import_is_not_called_the_graders_code(grade, submission):
    """Only the exercise modules are graded: a helper of the student's own is named as such."""
    folder = submission(append={"ex03_vjp": "from .utils import leaf\n"})
    for lang, words, wrong in (("en", "only the exercise modules are graded", "grader's"),
                               ("zh", "评分只针对各个练习模块", "评分程序或参考答案")):
        report = grade(folder, patterns=("ex03_vjp.vjp",), lang=lang)
        (task,) = report["tasks"]
        feedback = " ".join(c["feedback"] for c in task["checks"]) + " " + json.dumps(task, ensure_ascii=False)
        assert task["status"] == "forbidden" and words in feedback and wrong not in feedback, task


@pytest.mark.parametrize("what, text", [
    ("grad of the sum", "损失总和的梯度在这些检查的输入上与正确答案不符"),
    ("J", "J 在这些检查的输入上与正确答案不符"),
])
def test_no_space_between_a_chinese_subject_and_the_chinese_after_it(what, text):
    from grader.messages import render_message

    assert render_message("wrong_values_several", {"what": what}, "zh") == text
