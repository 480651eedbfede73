"""Reports for the platforms instructors already use.

Each format is a pure function ``render(report: dict) -> str`` from a schema-1
report (plain JSON: no torch, no I/O). ``FORMATS`` maps a format's name to
``(render, default_filename)``; ``grade convert --format NAME`` uses it.

- ``gradescope``: Gradescope's autograder ``results.json``.
- ``github``: the result object GitHub Classroom's autograding reporter reads.
- ``github-output``: the same, as the ``result=<base64>`` line a runner step
  appends to ``$GITHUB_OUTPUT`` (no file of its own).
- ``junit``: JUnit XML for CI test reports.
- ``markdown``: a job-summary page.
- ``terminal``: the summary ``grade run`` prints (no file of its own).
"""
from __future__ import annotations

from typing import Any, Callable

from . import github, gradescope, junit, markdown, terminal

Render = Callable[[dict[str, Any]], str]

FORMATS: dict[str, tuple[Render, str | None]] = {
    "gradescope": (gradescope.render, gradescope.DEFAULT_FILENAME),
    "github": (github.render, github.DEFAULT_FILENAME),
    "github-output": (github.render_step_output, None),
    "junit": (junit.render, junit.DEFAULT_FILENAME),
    "markdown": (markdown.render, markdown.DEFAULT_FILENAME),
    "terminal": (terminal.document, terminal.DEFAULT_FILENAME),
}


def render(report: dict[str, Any], name: str) -> str:
    """The report in format ``name`` (a key of ``FORMATS``)."""
    try:
        fn, _ = FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r} (one of: {', '.join(FORMATS)})") from None
    return fn(report)


__all__ = ["FORMATS", "render", "github", "gradescope", "junit", "markdown", "terminal"]
