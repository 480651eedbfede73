"""Text that came from student code: shown as data, never obeyed.

Everything the sandboxed child sends back (exception messages, printed output,
type names, file names in tracebacks) passes through here before any person or
program reads it: it is capped, its control characters become visible escapes,
and no line of it can be read as a CI workflow command. It is never used as a
``str.format`` template. Escape once, where the text is shown: the report keeps
the child's text escaped the same way, so every view starts from safe text.
"""
from __future__ import annotations

import re

# A capped text ends with this mark, so a reader knows there was more.
CUT = "…"
MAX_LINE = 2000

# C0 and C1 controls (but newline and tab, which ``escape`` handles by mode), DEL,
# the Unicode bidirectional overrides and isolates that reorder what a reader sees,
# zero-width characters that hide text, lone surrogates and the BOM/noncharacters.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069"
    "\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff]"
)
# GitHub Actions reads "::command::" at the start of a line and the old "##[command]"
# form anywhere in one; Azure Pipelines reads "##vso[". Neither may survive.
_WORKFLOW = re.compile(r"^(\s*)::|##(?=\s*(?:\[|vso\[))", re.MULTILINE)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(value: object, limit: int = MAX_LINE, *, multiline: bool = False) -> str:
    """``value`` as safe text of at most ``limit`` characters (plus the cut mark).

    One line unless ``multiline``: newlines and carriage returns then become
    ``\\n`` and ``\\r``. With ``multiline`` they stay, but a carriage return (which
    lets a line overwrite itself on a terminal) is still escaped.
    """
    text = value if type(value) is str else _to_text(value)
    cut = len(text) > limit
    text = text[:limit]
    if multiline:
        text = text.replace("\r", "\\r")
    else:
        text = text.replace("\r", "\\r").replace("\n", "\\n")
    text = text.replace("\t", " ")
    text = _CONTROL.sub(_visible, text)
    text = _WORKFLOW.sub(_defuse, text)
    # The substitutions above may add characters; the cap is on what the child sent.
    return text + (CUT if cut else "")


def _defuse(match: re.Match[str]) -> str:
    # Look-alike characters keep the text readable and idempotent under escape().
    if match.group(0).endswith("::"):
        return match.group(1) + ":\u2236"
    return "#\uff03"


def _to_text(value: object) -> str:
    try:
        return str(value)
    except Exception:  # a value whose __str__ fails is still shown, as its type
        return f"<{type(value).__name__}>"
