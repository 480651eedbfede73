"""Lost points add up: the report's ``lost`` (one entry per distinct reason) and every
view rendered from it list, for each task, exactly the points it lost. And what the
student's code printed is kept per task and shown, escaped, under a failing task."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from grader.formats import terminal as summary
from grader.formats import github, gradescope, junit, markdown
from grader.mutants import load, materialise

from .conftest import MUTANTS, SOLUTIONS

# Several tasks, several kinds of loss: repeated errors, wrong values in float32 and
# float64, a hint on some checks only, partial and zero scores.
MISTAKES = ("ex01_backward/twice_no_retain_graph", "ex01_backward/seq_missing_zero_grad",
            "ex04_detach/target_minus", "ex03_vjp/multitask_weights_list", "ex07_higher_order/jvp_single_vjp")
LOST = re.compile(r"−(\d+(?:\.\d+)?)")


@pytest.fixture(scope="module")
def reports(server, tmp_path_factory):
    from grader import api, report

    out = {}
    for lang in ("en", "zh"):
        for name in MISTAKES:
            mutant = load(MUTANTS / f"{name}.py")
            folder = materialise(mutant, SOLUTIONS, tmp_path_factory.mktemp("sub"))
            result = api.grade(folder, patterns=mutant.loses, seed=7, lang=lang, server=server)
            report.validate(result)
            out[(lang, name)] = result
    return out


def _lost(task: dict) -> float:
    return round(task["max_score"] - task["score"], 4)


def test_the_report_groups_add_up(reports):
    for report in reports.values():
        for task in report["tasks"]:
            assert round(sum(g["points"] for g in task["lost"]), 4) == _lost(task)
            assert sum(g["checks"] for g in task["lost"]) == sum(c["score"] < c["max_score"] for c in task["checks"])
            assert len({(g["reason"], g["hint"]) for g in task["lost"]}) == len(task["lost"])


def test_repeated_feedback_is_one_line_with_its_total(reports):
    (task,) = reports[("en", "ex01_backward/twice_no_retain_graph")]["tasks"]
    (group,) = task["lost"]
    assert group["checks"] == 3 and group["points"] == 3
    text = summary.render(reports[("en", "ex01_backward/twice_no_retain_graph")])
    assert "−3 on 3 checks: raised RuntimeError" in text
    assert text.count("Hint: A backward pass frees the graph") == 1


def _lost_under_tasks(text: str, head: str, bullet: str) -> dict[str, float]:
    """The points of every lost-point line (starting with ``bullet``) under each task heading."""
    found: dict[str, float] = {}
    current = None
    for line in text.splitlines():
        task = re.match(head, line)
        if task:
            current = task.group(1)
            found[current] = 0.0
        elif current and line.startswith(bullet):
            found[current] += float(LOST.search(line).group(1))
    return found


def _summary_lost(text: str) -> dict[str, float]:
    return _lost_under_tasks(text, r"  (ex0\d_\w+\.\w+) ", "      −")


def _markdown_lost(text: str) -> dict[str, float]:
    return _lost_under_tasks(text, r"\*\*`(ex0\d_\w+\.\w+)`\*\*", "- **−")


def _junit_lost(text: str) -> dict[str, float]:
    found = {}
    for suite in ET.fromstring(text).iter("testsuite"):
        out = suite.find("system-out")
        lines = out.text.splitlines() if out is not None and out.text else []
        found[suite.get("name")] = sum(float(LOST.match(line).group(1)) for line in lines)
    return found


def _per_check_lost(tests: list[dict], key: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for test in tests:
        task = test[key].split(": ")[0] if key == "name" else test[key][0]
        found[task] = found.get(task, 0.0) + float(test["max_score"]) - float(test["score"])
    return found


@pytest.mark.parametrize("view", ["summary", "markdown", "junit", "gradescope", "github"])
def test_every_view_lists_what_each_task_lost(reports, view):
    for report in reports.values():
        if view == "summary":
            shown = _summary_lost(summary.render(report))
        elif view == "markdown":
            shown = _markdown_lost(markdown.render(report))
        elif view == "junit":
            shown = _junit_lost(junit.render(report))
        elif view == "gradescope":
            shown = _per_check_lost(gradescope.results(report)["tests"], "tags")
        else:
            shown = _per_check_lost(github.result(report)["tests"], "name")
        for task in report["tasks"]:
            assert round(shown.get(task["id"], 0.0), 4) == _lost(task), (view, task["id"], task["lost"])


def test_chinese_views_label_the_hint(reports):
    report = reports[("zh", "ex04_detach/target_minus")]
    assert "提示：" in summary.render(report)
    assert "*提示*：" in markdown.render(report)
    assert all("提示：" in c["feedback"] for c in report["tasks"][0]["checks"] if c["hint"])


PRINTS = '''
def vjp(f, x, v):
    print("shape of x:", tuple(x.shape))
    print("\\x1b[31mred\\x1b[0m and a line that looks like the grader's:")
    print("::error::not from the grader")
    return torch.zeros_like(x)


def multitask_grads(task_losses, params, task_weights):
    print("x" * 5000)
    raise ValueError("too much")
'''


def test_printed_output_is_kept_escaped_and_shown_under_a_failing_task(grade, submission):
    report = grade(submission(append={"ex03_vjp": PRINTS}), patterns=("ex03_vjp",))
    tasks = {t["id"]: t for t in report["tasks"]}
    vjp, multi = tasks["ex03_vjp.vjp"], tasks["ex03_vjp.multitask_grads"]
    assert "shape of x: (2,)" in vjp["output"]["text"]
    assert "\x1b" not in vjp["output"]["text"] and "\\x1b[31m" in vjp["output"]["text"]
    assert vjp["output"]["truncated"] is False
    assert multi["output"]["truncated"] is True and len(multi["output"]["text"]) <= 4200
    text = summary.render(report)
    block = text.split("ex03_vjp.vjp", 1)[1].split("ex03_vjp.multitask_grads", 1)[0]
    printed = [line for line in block.splitlines() if "shape of x" in line or "error::" in line]
    assert printed and all(line.startswith(summary.OUTPUT_MARK) for line in printed)
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    assert "… (output cut)" in text.split("ex03_vjp.multitask_grads", 1)[1]


def test_a_passing_task_prints_nothing_into_the_summary(grade, submission):
    code = "def vjp(f, x, v):\n    print('debugging')\n    return _vjp_solution(f, x, v)\n"
    source = (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8").replace("def vjp(", "def _vjp_solution(", 1)
    report = grade(submission(replace={"ex03_vjp": source + "\n\n" + code}), patterns=("ex03_vjp.vjp",))
    (task,) = report["tasks"]
    assert task["status"] == "passed" and "debugging" in task["output"]["text"]
    assert "debugging" not in summary.render(report)


def test_the_child_captures_both_streams_within_its_cap():
    from grader.sandbox.child import _CappedOutput

    out = _CappedOutput(limit=10)
    print("abc", file=out)
    out.write("0123456789")
    assert out.text() == "abc\n012345" and out.truncated
    with pytest.raises(TypeError):
        out.write(b"bytes")
