"""Text from student code is shown as data: capped, controls visible, no workflow commands."""
from __future__ import annotations

import pytest

from grader.untrusted import CUT, escape


@pytest.mark.parametrize("raw", ["\x1b[31mred", "bell\x07", "over\rwrite", "\u202eevil", "nul\x00", "\x9bcsi"])
def test_control_characters_become_visible_escapes(raw: str) -> None:
    shown = escape(raw)
    assert not any(ch in shown for ch in "\x1b\x07\r\u202e\x00\x9b")
    assert "\\" in shown


@pytest.mark.parametrize("raw", ["::notice::x", "ok\n::error::x", "  ::warning file=a::b", "a ##[group]b", "##vso[task.x]y"])
def test_no_line_can_start_a_workflow_command(raw: str) -> None:
    for shown in (escape(raw), escape(raw, multiline=True)):
        for line in shown.splitlines():
            assert not line.lstrip().startswith("::")
        assert "##[" not in shown and "##vso[" not in shown


def test_one_line_unless_multiline() -> None:
    assert "\n" not in escape("a\nb")
    assert escape("a\nb", multiline=True) == "a\nb"


def test_capped_with_a_visible_mark() -> None:
    assert escape("x" * 50, 10) == "x" * 10 + CUT
    assert escape("short", 10) == "short"


def test_escaping_twice_changes_nothing() -> None:
    for raw in ["\x1b[0m::notice::x\n##[y]", "plain"]:
        once = escape(raw, multiline=True)
        assert escape(once, multiline=True) == once


def test_a_value_whose_str_raises_is_shown_by_type() -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert escape(Hostile()) == "<Hostile>"


# Text from the child is a value, never a template ----------------------------------

from grader import messages  # noqa: E402
from grader.messages import phrase  # noqa: E402


@pytest.mark.parametrize("text", ["{0.__class__}", "{hint}", "{message}", "{type.__init__.__globals__}",
                                  "{what:>999999999}", "{", "}{", "{detail!r}"])
def test_child_text_is_shown_as_it_came(text: str) -> None:
    params = {"type": text, "message": text, "detail": text, "hint": "", "file": text, "line": 3}
    for code in ("raised", "import_error", "garbled", "crashed", "grader_error", "unencodable"):
        shown = messages.render(code, params)
        assert text in shown, (code, shown)
        assert "<class" not in shown and "function" not in shown


def test_only_a_phrase_is_a_template() -> None:
    assert "time limit 3 s" in messages.render("timeout", {"detail": phrase("time limit {seconds:g} s", seconds=3)})
    assert "time limit {seconds:g} s" in messages.render("timeout", {"detail": "time limit {seconds:g} s",
                                                                     "seconds": 3})


def test_a_phrase_cannot_look_attributes_up() -> None:
    shown = messages.render("crashed", {"detail": phrase("{code.__class__} {0}", code=1)})
    assert "<class" not in shown and "{code.__class__}" in shown


def test_parameters_of_odd_types_never_break_a_message() -> None:
    odd = {"what": ["x"], "expected": {"a": 1}, "got": None, "rtol": "tight", "atol": object(), "index": [1],
           "hint": ["accumulated"], "detail": 5}
    for code in messages.MESSAGES:
        assert isinstance(messages.render(code, odd), str)
