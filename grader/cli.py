"""The ``grade`` command: it parses options and delegates to ``grader.api``."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__

EXIT_OK, EXIT_BELOW, EXIT_USAGE, EXIT_GRADER = 0, 1, 2, 3


class BadInput(click.ClickException):
    exit_code = EXIT_USAGE


class GraderFailed(click.ClickException):
    exit_code = EXIT_GRADER


def _use_colour() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def _default_lang() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autograd-lab")
def main() -> None:
    """autograd-lab: grade PyTorch autograd exercises."""


@main.command()
@click.argument("path", default="exercises", required=False)
@click.option("-o", "--output", default="grade-report.json", show_default=True,
              help="Where to write the JSON report.")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None,
              help="Seed for the checks' random inputs (default: a fresh one, recorded in the report).")
@click.option("-k", "--task", "patterns", multiple=True, metavar="PATTERN",
              help="Grade only tasks whose id matches (glob or substring); repeatable.")
@click.option("--fail-under", type=click.FloatRange(0, 100), default=None, metavar="PERCENT",
              help="Exit with status 1 if the score is below PERCENT.")
@click.option("--timeout", type=click.FloatRange(0.5, 600), default=10.0, show_default=True,
              help="Wall-clock seconds each task may spend in student code, all its checks together.")
@click.option("--memory", "memory_mb", type=click.IntRange(64, 65536), default=1024, show_default=True,
              help="Megabytes a task may allocate beyond the loaded libraries.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
              help="Language of the feedback (default: from LANG / LC_ALL).")
def run(path: str, output: str, seed: int | None, patterns: tuple[str, ...], fail_under: float | None,
        timeout: float, memory_mb: int, lang: str | None) -> None:
    """Grade the exercise modules in PATH (default: exercises) and write a JSON report.

    Exit status: 0 graded, 1 below --fail-under, 2 bad usage or input, 3 the grader failed.
    """
    from . import api, report as report_mod, summary
    from .submission import BadSubmission, locate
    from .tasks import select

    out = Path(output)
    if out.is_dir():
        raise BadInput(f"--output {output}: is a folder, give a file name")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise BadInput(f"--output {output}: folder {out.parent} does not exist")
    try:
        locate(path)
    except BadSubmission as exc:
        raise BadInput(str(exc)) from None
    if patterns and not select(patterns):
        raise BadInput(f"-k {' '.join(patterns)}: no task matches (see 'grade list')")
    lang = lang or _default_lang()
    try:
        report = api.grade(path, seed=seed, patterns=patterns, timeout=timeout, memory_mb=memory_mb, lang=lang)
        report_mod.validate(report)
    except BadSubmission as exc:
        raise BadInput(str(exc)) from None
    except api.GraderError as exc:
        raise GraderFailed(str(exc)) from None
    except OSError as exc:
        raise GraderFailed(f"{type(exc).__name__}: {exc}") from None
    try:
        report_mod.write(report, out)
    except OSError as exc:
        raise BadInput(f"--output {output}: cannot write ({exc.strerror})") from None
    click.echo(summary.render(report, colour=_use_colour(), output=str(out)))
    if report["grader_errors"]:
        raise GraderFailed("; ".join(report["grader_errors"][:3]))
    if fail_under is not None and report["percent"] < fail_under:
        sys.exit(EXIT_BELOW)


@main.command("list")
def list_tasks() -> None:
    """List the tasks, their points, and the example each one comes from."""
    from .tasks import MAX_SCORE, TASKS

    width = max(len(t.id) for t in TASKS)
    for task in TASKS:
        click.echo(f"{task.id:<{width}}  {task.points:>2}  {task.summary}")
        click.echo(f"{'':<{width}}      e.g. {task.seed}")
    click.echo(f"{'total':<{width}}  {MAX_SCORE}")


def entry() -> None:
    """Console-script entry point.

    Leaves without interpreter teardown once everything is written: with torch
    loaded, teardown alone costs a large share of a grading run's time.
    """
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            click.echo(exc.code, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
