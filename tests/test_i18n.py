"""Every student-facing string has its Simplified Chinese, through the gettext catalog."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader import i18n, messages, tasks
from grader.status import Status
from grader.checking import load_manifest
from grader.taskrecord import Hint
from grader.tasks import TASKS

from .conftest import EXERCISES, ROOT

PO = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
CATALOG = i18n.parse_po(PO.read_text(encoding="utf-8"))
GRADER = ROOT / "grader"
# Arguments of these calls that are phrases shown to students ("what" a value is).
WHAT_ARGS = {"expect_tensor": 3, "expect_close": 2, "tensor": 2, "sequence": 2, "expect_clean": 1, "phrase": 0}


def _gettext_calls(path: Path) -> set[str]:
    """Constant strings passed to _() or t() in a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "t")
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "BadSubmission":
            if node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
    return found


def _detail_templates(path: Path) -> set[str]:
    """English templates given as a message's ``detail`` (keyword, attribute or dict entry)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        values = []
        if isinstance(node, ast.keyword) and node.arg == "detail":
            values.append(node.value)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "detail"
                                                  for t in node.targets):
            values.append(node.value)
        elif isinstance(node, ast.Dict):
            values += [v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and k.value == "detail"]
        # phrase("template", ...) is a template filled from its own parameters.
        values = [v.args[0] if isinstance(v, ast.Call) and getattr(v.func, "id", "") == "phrase" and v.args else v
                  for v in values]
        found |= {v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value}
    return found


def _what_phrases(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        values = [k.value for k in node.keywords if k.arg == "what"]
        if name in WHAT_ARGS and len(node.args) > WHAT_ARGS[name]:
            values.append(node.args[WHAT_ARGS[name]])
        found |= {v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return found


def _shown_by_the_grader() -> set[str]:
    """What the grader's own code shows, whatever the task."""
    ids = set(messages.MESSAGES.values()) | set(messages.SHARED_HINTS.values()) | set(messages.KIND_NAMES.values())
    ids |= {status.text for status in Status}
    for module in ("formats/terminal.py", "cli.py", "submission.py", "messages.py"):
        ids |= _gettext_calls(GRADER / module)
    for module in ("sandbox/client.py", "engine.py", "report.py"):
        ids |= _detail_templates(GRADER / module)
    for path in (GRADER / "checks").glob("check_*.py"):
        ids |= _what_phrases(path)
    return ids


def _shown_by_task(task) -> set[str]:
    """A task's summary, seed, its checks' titles and its own hints."""
    titles = {spec.title for spec in load_manifest().values() if spec.task == task.id}
    return {task.summary, task.seed} | titles | {hint.en for hint in task.own_hints}


def required() -> set[str]:
    return _shown_by_the_grader().union(*(_shown_by_task(t) for t in TASKS))


def test_every_message_has_a_chinese_translation():
    # A task's own texts have their Chinese in its record, the shared ones in the catalogue.
    missing = sorted(m for m in required() if not CATALOG.get(m) and not tasks.ZH.get(m))
    assert not missing, "missing zh translations:\n" + "\n".join(missing)


def test_placeholders_match_between_languages():
    for msgid, msgstr in [*CATALOG.items(), *tasks.ZH.items()]:
        if msgid:
            assert set(re.findall(r"\{\w+", msgid)) == set(re.findall(r"\{\w+", msgstr)), msgid


def _own_texts(task) -> set[str]:
    """What a task shows that may be its own: summary, seed, its checks' titles, the
    phrases of its module's checks, its own hints."""
    own = {task.summary, task.seed} | {h.en for h in task.own_hints}
    own |= {spec.title for spec in load_manifest().values() if spec.task == task.id}
    return own | _what_phrases(GRADER / "checks" / f"check_{task.module}.py")


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_a_record_translates_only_its_own_texts_and_only_there(task):
    assert set(task.zh) <= _own_texts(task), sorted(set(task.zh) - _own_texts(task))
    texts = set(task.zh) | {h.en for h in task.own_hints}
    # One home for each translation: the record, or the catalogue when tasks share it.
    assert not texts & set(CATALOG), sorted(texts & set(CATALOG))
    for hint in task.own_hints:
        assert hint.en.strip() and hint.zh.strip() and hint.zh != hint.en, hint.code


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_a_text_only_one_task_shows_has_its_chinese_in_its_record(task):
    # Otherwise adding the task would touch the shared catalogue.
    others = _shown_by_the_grader().union(*(_shown_by_task(t) for t in TASKS if t is not task))
    alone = _shown_by_task(task) - others
    assert alone <= set(task.zh) | {hint.en for hint in task.own_hints}, sorted(alone - set(task.zh))


def test_a_record_hint_without_chinese_is_an_error():
    with pytest.raises(ValueError, match="Chinese"):
        Hint("made_up", "It is wrong.", "")
    with pytest.raises(ValueError, match="Chinese"):
        Hint("made_up", "It is wrong.", "  ")


def test_two_chinese_texts_for_one_english_text_are_an_error():
    one = TASKS[0]
    other = type(one)(**{**one.__dict__, "name": "other", "zh": {one.summary: "另一种译法"}})
    with pytest.raises(ValueError, match="two Chinese texts"):
        tasks._translations((one, other), {})


def test_a_task_hint_renders_from_its_record_and_a_shared_one_from_the_catalogue():
    # Any task's own hint and own text will do: the test must not pin one task.
    code, own = next(iter(tasks.OWN_HINTS.items()))
    assert messages.render_hint({"hint": code}, "zh") == own.zh
    assert messages.render_hint({"hint": code}, "en") == own.en
    assert code not in messages.SHARED_HINTS and own.en not in CATALOG
    assert messages.render_hint({"hint": "sign"}, "zh") == CATALOG[messages.SHARED_HINTS["sign"]]
    assert messages.render_hint({"hint": "no_such_hint"}, "zh") == ""
    # The translator the reports use reads the records first, then the catalogue.
    text, chinese = next(iter(TASKS[0].zh.items()))
    assert i18n.translator("zh")(text) == chinese
    assert i18n.translator("zh")("random data in float32") == CATALOG["random data in float32"]


def test_a_filled_record_hint_keeps_its_fields_in_chinese():
    shown = messages.render_hint({"hint": "entry_slip", "entries": "∂r/∂θ"}, "zh")
    assert "∂r/∂θ" in shown and "{" not in shown


def test_the_compiled_catalog_is_up_to_date():
    assert PO.with_suffix(".mo").read_bytes() == i18n.compile_mo(CATALOG)


def test_default_language_follows_the_locale():
    assert i18n.default_language({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.default_language({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert i18n.default_language({}) == "en"


# Code and math keep their names in Chinese text: API names, dtypes, functions.
ALLOWED_ENGLISH = {"autograd", "lab", "NotImplementedError", "rtol", "atol", "sin", "cos", "tanh", "exp",
                   "sigmoid", "softplus", "gelu", "torch", "grad", "backward", "detach", "tensor"}
# Kernel features named in the isolation line keep their names too.
ALLOWED_ENGLISH |= {"Linux", "Landlock", "ABI", "seccomp", "chroot", "uid", "user", "mount", "net", "ipc", "uts"}


def _english_words(text: str) -> set[str]:
    # An exception's own text (torch's, for a stub that ships with its bug) is shown as
    # it was raised: it is not ours to translate.
    text = re.sub(r"抛出了 \w+：.*?（", "", text)
    text = re.sub(r"ex\d\d_[a-z_0-9]+(\.[a-z_0-9]+)?", "", text)  # task ids and module names are code
    text = re.sub(r"/[^\s]+", "", text)  # paths
    text = re.sub(r"\S*[._()=\[\]0-9]\S*", "", text)  # code: calls, attributes, names with _ or digits
    return {w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED_ENGLISH}


def test_the_stub_summary_is_all_chinese(tmp_path):
    grade = Path(sys.executable).parent / "grade"
    done = subprocess.run([str(grade), "run", str(EXERCISES), "--lang", "zh", "-o", str(tmp_path / "r.json")],
                          capture_output=True, text=True, env={"NO_COLOR": "1", "PATH": ""}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _english_words(done.stdout) == set(), done.stdout


def test_no_colour_when_piped_or_no_color(tmp_path):
    grade = Path(sys.executable).parent / "grade"
    done = subprocess.run([str(grade), "run", str(EXERCISES), "-k", "ex03", "-o", str(tmp_path / "r.json")],
                          capture_output=True, text=True, env={"NO_COLOR": "1", "PATH": ""}, timeout=300)
    assert "\x1b[" not in done.stdout


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_help_of_run_follows_the_locale(lang):
    grade = Path(sys.executable).parent / "grade"
    env = {"LANG": "zh_CN.UTF-8" if lang == "zh" else "C", "PATH": ""}
    done = subprocess.run([str(grade), "run", "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert ("评分" in done.stdout or "报告" in done.stdout) == (lang == "zh"), done.stdout
