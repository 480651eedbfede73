"""``grade convert`` and ``grade collect``: reports for the platforms instructors use.

Standalone click commands (attach them to the ``grade`` group). A report is plain
JSON, so this module and what it imports never load torch.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from .errors import BadInput
from .fileio import write_atomic
from .paths import clash, same_file

from .formats import FORMATS

EXIT_OK, EXIT_SOME_BAD, EXIT_NOTHING = 0, 1, 2


def _write(path: Path, text: str, *, append: bool = False) -> None:
    """Write ``text`` (UTF-8): appended, or atomically."""
    if append:
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
        return
    write_atomic(path, text)


def _target(option: str, value: str, default_name: str | None) -> Path:
    """Where ``-o value`` writes: the file, or a folder's default file for the format."""
    path = Path(value)
    if path.is_dir():
        if not default_name:
            raise BadInput(f"{option} {value}: is a folder, give a file name")
        path = path / default_name
    if not (path.parent if str(path.parent) else Path(".")).is_dir():
        raise BadInput(f"{option} {value}: folder {path.parent} does not exist")
    return path


@click.command("convert")
@click.argument("report", metavar="REPORT")
@click.option("-f", "--format", "fmt", required=True, type=click.Choice(list(FORMATS)),
              help="gradescope, github (GitHub Classroom's result), github-output (its result=<base64> "
                   "line for $GITHUB_OUTPUT), junit, markdown.")
@click.option("-o", "--output", default=None, metavar="FILE",
              help="Write to FILE (a folder: the format's usual file name in it) instead of stdout.")
@click.option("--append", is_flag=True,
              help="Append to FILE instead of replacing it (for $GITHUB_OUTPUT or $GITHUB_STEP_SUMMARY).")
def convert(report: str, fmt: str, output: str | None, append: bool) -> None:
    """Convert a JSON report (written by 'grade run') to another platform's format.

    Prints to stdout unless -o is given. Exit status: 0 converted, 2 the report or
    an option is unusable (one line on stderr, nothing written).
    """
    from .collect import ReportError, load_report

    try:
        data = load_report(report)
    except ReportError as exc:
        raise BadInput(f"{report}: {exc}") from None
    render, default_name = FORMATS[fmt]
    text = render(data)
    if output is None:
        click.echo(text, nl=False)
        return
    target = _target("--output", output, default_name)
    why = clash(target, files=[report])
    if why:
        raise BadInput(f"--output {output}: {why}; write it elsewhere")
    try:
        _write(target, text, append=append)
    except OSError as exc:
        raise BadInput(f"--output {output}: cannot write ({exc.strerror or type(exc).__name__})") from None


@click.command("collect")
@click.argument("paths", nargs=-1, required=True, metavar="REPORT_OR_FOLDER...")
@click.option("-o", "--output", default="gradebook.csv", show_default=True, metavar="FILE",
              help="Where to write the gradebook (CSV, one row per submission).")
@click.option("--summary", "summary_path", default=None, metavar="FILE",
              help="Also write the class summary (JSON): per task its mean score, pass rate and "
                   "most frequent failure reasons.")
def collect(paths: tuple[str, ...], output: str, summary_path: str | None) -> None:
    """Merge reports (files, or folders searched recursively for *.json) into a gradebook.

    Inputs that are not usable reports (corrupt JSON, not a report, another
    schema_version, invalid) and duplicates (the same submission path and files)
    are not counted; each is named on stderr, one line each.

    Exit status: 0 every input was a good report; 1 some were not, the gradebook
    holds the rest; 2 nothing usable (nothing written) or bad usage.
    """
    from .collect import collect as collect_reports

    out = _target("-o/--output", output, None)
    summary_out = _target("--summary", summary_path, None) if summary_path else None
    if summary_out is not None and same_file(summary_out, out):
        raise BadInput(f"--summary {summary_path}: the same file as -o/--output {output}; "
                       "give each output a file of its own")
    files = [p for p in paths if not Path(p).is_dir()]
    folders = [p for p in paths if Path(p).is_dir()]
    for option, target in (("-o/--output", out), ("--summary", summary_out)):
        # A file the folder search would read next time is an input too; a CSV beside the reports is not.
        why = target is not None and (clash(target, files=files)
                                      or (target.suffix.lower() == ".json" and clash(target, folders=folders)))
        if why:
            raise BadInput(f"{option} {target}: {why}; write it elsewhere")
    result = collect_reports(paths)
    for line in result.bad:
        click.echo(line, err=True)
    if not result.submissions:
        click.echo(f"nothing collected: no usable report among {len(paths)} input(s)", err=True)
        raise SystemExit(EXIT_NOTHING)
    try:
        _write(out, result.render_csv())
        if summary_out is not None:
            _write(summary_out, json.dumps(result.summary(), indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise BadInput(f"cannot write ({exc.strerror or type(exc).__name__}): {exc.filename}") from None
    note = ""
    if result.problems or result.duplicates:
        note = f" ({len(result.problems)} unusable, {len(result.duplicates)} duplicate(s) not counted)"
    click.echo(f"{out}: {len(result.submissions)} submission(s){note}"
               + (f"; summary: {summary_out}" if summary_out else ""))
    if result.bad:
        raise SystemExit(EXIT_SOME_BAD)
