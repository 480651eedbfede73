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
