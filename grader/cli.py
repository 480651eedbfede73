"""The ``grade`` command: it parses options and delegates to ``grader.api``."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from . import __version__
from .i18n import default_language, translator

# Help for the student-facing commands follows the locale (LANG / LC_ALL).
_ = translator(default_language())

from .cli_reports import collect, convert
from .errors import EXIT_BELOW, BadInput, GraderFailed
from .fileio import write_atomic
from .formats import render as render_format


def _use_colour() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             help=_("autograd-lab: grade PyTorch autograd exercises."))
@click.version_option(__version__, prog_name="autograd-lab")
def main() -> None:
    pass  # the group's help is given above, through gettext


@main.command(help=_("Grade the exercise modules in PATH (default: exercises) and write a JSON report.\n\n"
                      "Exit status: 0 graded, 1 below --fail-under, 2 bad usage or input, 3 the grader failed."))
@click.argument("path", default="exercises", required=False)
@click.option("-o", "--output", default="grade-report.json", show_default=True,
              help=_("Where to write the JSON report."))
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None,
              help=_("Seed for the checks' random inputs (default: a fresh one, recorded in the report)."))
@click.option("-k", "--task", "patterns", multiple=True, metavar="PATTERN",
              help=_("Grade only tasks whose id matches (glob or substring); repeatable."))
@click.option("--fail-under", type=click.FloatRange(0, 100), default=None, metavar="PERCENT",
              help=_("Exit with status 1 if the score is below PERCENT."))
@click.option("--timeout", type=click.FloatRange(0.5, 600), default=10.0, show_default=True,
              help=_("Wall-clock seconds each task may spend in student code, all its checks together."))
@click.option("--memory", "memory_mb", type=click.IntRange(64, 65536), default=1024, show_default=True,
              help=_("Megabytes a task may allocate beyond the loaded libraries."))
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
              help=_("Language of the feedback (default: from LANG / LC_ALL)."))
@click.option("--format", "formats", multiple=True, metavar="NAME[=FILE]",
              help=_("Also write the report in another format (gradescope, github, junit, markdown); repeatable."))
def run(path: str, output: str, seed: int | None, patterns: tuple[str, ...], fail_under: float | None,
        timeout: float, memory_mb: int, lang: str | None, formats: tuple[str, ...]) -> None:
    from . import api, report as report_mod, summary
    from .submission import BadSubmission, locate
    from .tasks import select

    lang = lang or default_language()
    t = translator(lang)
    out = Path(output)
    if out.is_dir():
        raise BadInput(t("--output {path}: is a folder, give a file name").format(path=output))
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise BadInput(t("--output {path}: folder {folder} does not exist").format(path=output, folder=out.parent))
    try:
        locate(path)
    except BadSubmission as exc:
        raise BadInput(exc.render(lang)) from None
    if patterns and not select(patterns):
        raise BadInput(t("-k {patterns}: no task matches (see 'grade list')").format(patterns=" ".join(patterns)))
    extra = _format_targets(formats)
    failures: list[str] = []
    try:
        report = api.grade(path, seed=seed, patterns=patterns, timeout=timeout, memory_mb=memory_mb, lang=lang)
        report_mod.validate(report)
    except BadSubmission as exc:
        raise BadInput(exc.render(lang)) from None
    # Whatever failed while grading or building the report, a report is written:
    # every task an error of the grader's, and exit status 3.
    except Exception as exc:  # noqa: BLE001
        report = report_mod.grader_failure(path, exc, seed=seed, patterns=patterns, timeout=timeout,
                                           memory_mb=memory_mb, lang=lang)
    try:
        try:
            report_mod.write(report, out)
        # A report that cannot be serialised is the grader's failure: write the one that says so.
        except (TypeError, ValueError) as exc:
            report = report_mod.grader_failure(path, exc, seed=seed, patterns=patterns, timeout=timeout,
                                               memory_mb=memory_mb, lang=lang)
            report_mod.write(report, out)
    except OSError as exc:
        raise BadInput(t("--output {path}: cannot write ({reason})").format(path=output, reason=exc.strerror)) from None
    for name, target in extra:
        try:
            write_atomic(target, render_format(report, name))
        except OSError as exc:
            raise BadInput(t("--output {path}: cannot write ({reason})").format(path=target, reason=exc.strerror)) from None
        except Exception as exc:  # noqa: BLE001 - the JSON report is written; this format is not
            failures.append(f"--format {name}: {report_mod.failure_text(exc)}")
    try:
        click.echo(summary.render(report, colour=_use_colour(), output=str(out)))
    except Exception as exc:  # noqa: BLE001 - the report is written; only the summary is lost
        failures.append(f"summary: {report_mod.failure_text(exc)}")
    from .sandbox.isolation import summary_line

    click.echo(summary_line(report.get("isolation"), t))
    failures = report["grader_errors"][:3] + failures
    if failures:
        raise GraderFailed(t("the grader itself failed: {detail}").format(detail="; ".join(failures[:3])))
    if fail_under is not None and report["percent"] < fail_under:
        sys.exit(EXIT_BELOW)


def _format_targets(specs: tuple[str, ...]) -> list[tuple[str, Path]]:
    """``NAME`` or ``NAME=FILE`` for each --format, checked before any grading."""
    from .formats import FORMATS

    targets = []
    for spec in specs:
        name, _sep, file = spec.partition("=")
        if name not in FORMATS or FORMATS[name][1] is None and not file:
            raise BadInput(f"--format {spec}: unknown format (one of: "
                           f"{', '.join(n for n, (_r, f) in FORMATS.items() if f)}, or NAME=FILE)")
        target = Path(file or FORMATS[name][1])
        if not (target.parent if str(target.parent) else Path(".")).is_dir():
            raise BadInput(f"--format {spec}: folder {target.parent} does not exist")
        targets.append((name, target))
    return targets


@main.command("list", help=_("List the tasks, their points, and the example each one comes from."))
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
              help=_("Language of the feedback (default: from LANG / LC_ALL)."))
def list_tasks(lang: str | None) -> None:
    from .tasks import MAX_SCORE, TASKS

    t = translator(lang or default_language())
    width = max(len(task.id) for task in TASKS)
    for task in TASKS:
        click.echo(f"{task.id:<{width}}  {task.points:>2}  {t(task.summary)}")
        click.echo(f"{'':<{width}}      {t('e.g.')} {t(task.seed)}")
    click.echo(f"{t('total'):<{width}}  {MAX_SCORE}")


@main.command(help=_("Explain a task: what it asks, the example it comes from, and the hints "
                     "your last report earned."))
@click.argument("task_id", metavar="TASK")
@click.option("-r", "--report", "report_path", default="grade-report.json", show_default=True,
              help=_("The report to read hints from."))
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
              help=_("Language of the feedback (default: from LANG / LC_ALL)."))
def explain(task_id: str, report_path: str, lang: str | None) -> None:
    from . import messages
    from .tasks import TASKS, select

    lang = lang or default_language()
    t = translator(lang)
    matches = [task for task in TASKS if task_id in (task.id, task.name)] or select((task_id,))
    if len(matches) != 1:
        raise BadInput(t("{task}: give one task id (see 'grade list')").format(task=task_id))
    task = matches[0]
    click.echo(f"{task.id} ({task.points}) — {task.signature}")
    click.echo(f"  {t(task.summary)}")
    click.echo(f"  {t('e.g.')} {t(task.seed)}")
    if task.forbidden_scan:
        apis = ", ".join(a for a in task.forbidden_scan if a.startswith("torch"))
        if task.scope:
            click.echo("  " + t("Not allowed inside {scope}: {apis}").format(scope=task.scope, apis=apis))
        else:
            click.echo("  " + t("Not allowed: {apis}").format(apis=apis))
    hints = _earned_hints(Path(report_path), task.id)
    if hints is None:
        click.echo("  " + t("No report at {path} yet: run 'grade run' first.").format(path=report_path))
        return
    if not hints:
        click.echo("  " + t("Your last report earned no hint for this task."))
    for code in hints:
        click.echo("  • " + t(messages.HINTS[code]))


def _earned_hints(path: Path, task_id: str) -> list[str] | None:
    from . import messages

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tasks = [t for t in data.get("tasks", []) if isinstance(t, dict) and t.get("id") == task_id]
    codes = [c.get("hint") for t in tasks for c in t.get("checks", []) if isinstance(c, dict)]
    return list(dict.fromkeys(c for c in codes if c in messages.HINTS))


@main.command()
@click.argument("submissions")
@click.option("-o", "--output", "outdir", required=True, help="Folder for the reports, gradebook and class summary.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Worker processes (default: the machine's cores).")
@click.option("--shard", default=None, metavar="K/N", help="Grade only the K-th of N shares (for CI matrices).")
@click.option("--resume", is_flag=True, help="Skip submissions whose report exists and whose files are unchanged.")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None, help="Seed for every submission.")
@click.option("-k", "--task", "patterns", multiple=True, metavar="PATTERN", help="Grade only matching tasks.")
@click.option("--timeout", type=click.FloatRange(0.5, 600), default=10.0, show_default=True,
              help="Wall-clock seconds each task may spend in student code.")
@click.option("--memory", "memory_mb", type=click.IntRange(64, 65536), default=1024, show_default=True,
              help="Megabytes a task may allocate beyond the loaded libraries.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Language of the feedback.")
@click.option("--allow-weak-isolation", "allow_weak", is_flag=True,
              help="Grade even where the kernel cannot isolate student code (no Landlock or seccomp); "
                   "every report records it.")
def batch(submissions: str, outdir: str, jobs: int | None, shard: str | None, resume: bool, seed: int | None,
          patterns: tuple[str, ...], timeout: float, memory_mb: int, lang: str | None, allow_weak: bool) -> None:
    """Grade every submission in SUBMISSIONS (a folder of folders/archives, or a CSV/text list).

    Writes OUTDIR/reports/<name>.json for each, then OUTDIR/gradebook.csv and
    OUTDIR/class-summary.json. Finished reports survive an interruption; --resume
    completes the batch.
    """
    import secrets

    from . import batch as batch_mod
    from .sandbox import jail
    from .tasks import select

    if patterns and not select(patterns):
        raise BadInput(f"-k {' '.join(patterns)}: no task matches (see 'grade list')")
    if not allow_weak and not jail.kernel_isolation_available():
        raise BadInput("this machine cannot isolate student code with the kernel (Landlock and seccomp are needed): "
                       "a submission could read and change your files. Grade in a Linux VM or container, "
                       "or pass --allow-weak-isolation to grade anyway (each report records it)")
    try:
        items = batch_mod.shard(batch_mod.discover(submissions), shard)
    except batch_mod.BatchError as exc:
        raise BadInput(str(exc)) from None
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--output {outdir}: is a file, give a folder")
    seed = secrets.randbelow(2**31) if seed is None else seed
    jobs = jobs or os.cpu_count() or 1
    click.echo(f"grading {len(items)} submissions with {jobs} workers · seed {seed}", err=True)
    bar = _ProgressBar(len(items))
    results = batch_mod.run(items, out, jobs=jobs, seed=seed, timeout=timeout, memory_mb=memory_mb,
                            lang=lang or default_language(), patterns=patterns, resume=resume, progress=bar.update,
                            allow_weak_isolation=allow_weak)
    bar.close()
    failures = [r for r in results if r.error]
    click.echo(_batch_table(results))
    _write_gradebook(out)
    if failures:
        for r in failures:
            click.echo(f"grader failed on {r.item.path}: {r.error}", err=True)
        raise GraderFailed(f"{len(failures)} submissions could not be graded")


class _ProgressBar:
    """Count, rate and time left, on one line of stderr (or every 10% when piped)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.step = max(1, total // 10)

    def update(self, done: int, total: int, last) -> None:
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * done / max(total, 1))
        line = (f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}  {rate:.2f}/s  "
                f"{int(left // 60)}m{int(left % 60):02d}s left")
        if self.tty:
            click.echo("\r" + line, nl=False, err=True)
        elif done % self.step == 0 or done == total:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.tty:
            click.echo("", err=True)


def _batch_table(results) -> str:
    graded = [r for r in results if not r.error]
    full = sum(1 for r in graded if r.max_score and r.score >= r.max_score)
    problems = sum(1 for r in graded if r.problem)
    mean = sum(r.score for r in graded) / len(graded) if graded else 0.0
    rows = [("submissions", len(results)), ("graded", len(graded)), ("resumed (unchanged)", sum(r.skipped for r in results)),
            ("full marks", full), ("not a submission", problems), ("grader failures", len(results) - len(graded)),
            ("mean score", f"{mean:.1f}")]
    return "\n".join(f"  {name:<22} {value}" for name, value in rows)


def _write_gradebook(out: Path) -> None:
    try:
        from . import collect
    except ImportError:
        return
    collection = collect.collect([str(out / "reports")])
    (out / "gradebook.csv").write_text(collect.render_csv(collection), encoding="utf-8")
    (out / "class-summary.json").write_text(json.dumps(collect.summary(collection), indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")


def _instructor_repo(root: str | None, needs: tuple[str, ...]) -> Path:
    """--root, or else this folder or the grader's own checkout, if it holds ``needs``."""
    candidates = [Path(root)] if root else [Path.cwd(), Path(__file__).resolve().parent.parent]
    for candidate in candidates:
        if all((candidate / folder).is_dir() for folder in needs):
            return candidate
    where = root or "this folder or the grader's repository"
    folders = ", ".join(f"{folder}/" for folder in needs)
    raise BadInput(f"{where}: needs the instructor repository ({folders}); the student release has none")


@main.command()
@click.option("--root", default=None, help="The instructor repository (default: found automatically).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None, help="Seed for every run.")
def selftest(root: str | None, seed: int | None) -> None:
    """Prove the checks: solutions score full marks, stubs 0, every mutant loses its task."""
    import secrets

    from . import api, selftest as selftest_mod
    from .sandbox.client import Server

    repo = _instructor_repo(root, ("exercises", "solutions", "mutants"))
    seed = secrets.randbelow(2**31) if seed is None else seed
    click.echo(f"selftest of {repo} · seed {seed}")
    colour = _use_colour()

    def show(outcome) -> None:
        mark = click.style("ok  ", fg="green") if colour and outcome.ok else ("ok  " if outcome.ok else "FAIL")
        if colour and not outcome.ok:
            mark = click.style("FAIL", fg="red", bold=True)
        click.echo(f"  {mark} {outcome.name:<48} expected {outcome.expected:<40} got {outcome.got}")
        if outcome.problem:
            click.echo(f"         {outcome.problem}")

    with Server() as server:
        outcomes = selftest_mod.run(repo, lambda path, **kw: api.grade(path, server=server, seed=seed, **kw), show)
    failed = [o for o in outcomes if not o.ok]
    click.echo(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    if failed:
        sys.exit(EXIT_BELOW)


@main.command()
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--root", default=None, help="The instructor repository (default: found automatically).")
def release(out: str, root: str | None) -> None:
    """Build the student repository in OUT: stubs, README, workflow, visible checks only."""
    from .release import ReleaseError, build

    repo = _instructor_repo(root, ("exercises", "solutions", "grader"))
    try:
        hidden = build(repo, Path(out))
    except ReleaseError as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"student release written to {out} ({hidden['checks']} hidden checks left out)")


main.add_command(convert)
main.add_command(collect)


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
