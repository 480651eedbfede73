"""The ``grade`` command: it parses options and delegates to ``grader.api``."""
from __future__ import annotations

import io
import json
import math
import os
import sys
from pathlib import Path

import click

from . import __version__
from .i18n import default_language, translator

# Help for the student-facing commands follows LANGUAGE / LC_ALL / LC_MESSAGES / LANG, as gettext does.
_ = translator(default_language())

from .cli_reports import collect, convert
from .errors import EXIT_BELOW, EXIT_INTERRUPTED, BadInput, GraderFailed
from .fileio import shown, write_atomic
from .formats import render as render_format
from .options import DEFAULTS, MEMORY_RANGE, SEED_RANGE, TIMEOUT_RANGE, Options
from .paths import clash, same_file
from .taskrecord import RECORDED


def _use_colour() -> bool:
    # no-color.org: only a non-empty NO_COLOR turns colour off.
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def _tolerant_streams() -> None:
    """Feedback holds ∇, ·, Chinese…: on a stdout that cannot encode them (a Windows
    console in cp1252, PYTHONIOENCODING=ascii) they become '?' instead of a crash."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="replace")


class _Number(click.FloatRange):
    """A float option in a range that also refuses NaN: every comparison with NaN is
    false, so click's range check lets it through (a --fail-under that never fails)."""

    def convert(self, value, param, ctx):  # type: ignore[override]
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


class _Grade(click.Group):
    """The ``grade`` group, with the exit statuses of the conventions every command keeps:
    130 on Ctrl-C (not click's 1, the status of --fail-under), and 3 with a crash report
    for an unexpected error (not a traceback and status 1)."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        _tolerant_streams()
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo(_("interrupted"), err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # click reports these itself (a closed pipe: `grade list | head`)
        except Exception as exc:  # the grader's own bug: say so, keep the traceback for the report
            where = _crash_report(ctx)
            raise GraderFailed(_("the grader itself failed: {detail}").format(
                detail=f"{type(exc).__name__}: {exc}"[:300]) + (" " + _("(traceback: {path})").format(path=where)
                                                               if where else "")) from None


def _crash_report(ctx: click.Context) -> str | None:
    """Write the current exception's traceback to a file; its path, or None if it cannot be written."""
    import tempfile
    import traceback

    text = (f"autograd-lab {__version__} · grade {' '.join(sys.argv[1:])}\n"
            f"python {sys.version.split()[0]} · {sys.platform}\n\n" + traceback.format_exc())
    try:
        fd, path = tempfile.mkstemp(prefix="autograd-lab-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as out:
            out.write(text)
        return path
    except OSError:
        return None


@click.group(cls=_Grade, context_settings={"help_option_names": ["-h", "--help"]},
             help=_("autograd-lab: grade PyTorch autograd exercises."))
@click.version_option(__version__, prog_name="autograd-lab")
def main() -> None:
    pass  # the group's help is given above, through gettext


@main.command(help=_("Grade the exercise modules in PATH (default: exercises), a notebook or a folder of notebooks, "
                      "and write a JSON report.\n\n"
                      "Exit status: 0 graded, 1 below --fail-under, 2 bad usage or input, 3 the grader failed, "
                      "130 interrupted."))
@click.argument("path", default="exercises", required=False)
@click.option("-o", "--output", default="grade-report.json", show_default=True,
              help=_("Where to write the JSON report."))
@click.option("--seed", type=click.IntRange(*SEED_RANGE), default=None,
              help=_("Seed for the checks' random inputs (default: a fresh one, recorded in the report)."))
@click.option("-k", "--task", "patterns", multiple=True, metavar="PATTERN",
              help=_("Grade only tasks whose id matches (glob or substring); repeatable."))
@click.option("--fail-under", type=_Number(0, 100), default=None, metavar="PERCENT",
              help=_("Exit with status 1 if the score is below PERCENT."))
@click.option("--timeout", type=_Number(*TIMEOUT_RANGE), default=DEFAULTS.timeout, show_default=True,
              help=_("Wall-clock seconds each task may spend in student code, all its checks together."))
@click.option("--memory", "memory_mb", type=click.IntRange(*MEMORY_RANGE), default=DEFAULTS.memory_mb,
              show_default=True,
              help=_("Megabytes a task may allocate beyond the loaded libraries."))
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
              help=_("Language of the feedback (default: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG)."))
@click.option("--format", "formats", multiple=True, metavar="NAME[=FILE]",
              help=_("Also write the report in another format (gradescope, github, junit, markdown); repeatable."))
def run(path: str, output: str, seed: int | None, patterns: tuple[str, ...], fail_under: float | None,
        timeout: float, memory_mb: int, lang: str | None, formats: tuple[str, ...]) -> None:
    from . import api, report as report_mod
    from .formats import terminal
    from .submission import BadSubmission
    from .tasks import select

    lang = lang or default_language()
    t = translator(lang)
    ctx = click.get_current_context()
    default = click.core.ParameterSource.DEFAULT
    if path == "exercises" and not Path(path).exists() and ctx.get_parameter_source("path") is default \
            and _holds_modules(Path(".")):
        path = "."  # started inside the exercises folder: grade it
    out = Path(output)
    if ctx.get_parameter_source("output") is default and _holds_modules(Path(path)) \
            and clash(out, folders=[path]):
        # The default report would land inside the submission: beside it instead, where
        # 'grade run' started from the folder above writes it.
        out = Path(os.path.relpath(Path(path).resolve().parent / output))
        output = str(out)
        click.echo(t("grading {path}; the report goes outside it, to {output}").format(
            path=Path(path).resolve().name or path, output=output), err=True)
    if out.is_dir():
        raise BadInput(t("--output {path}: is a folder, give a file name").format(path=output))
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise BadInput(t("--output {path}: folder {folder} does not exist").format(path=output, folder=out.parent))
    if path == "exercises" and not Path(path).exists():
        # An installed grader run from another folder: say where the exercises live.
        raise BadInput(t("exercises: no such folder here. The exercises are in your copy of the course's "
                         "student repository: run 'grade run' in it, or give their folder: grade run PATH"))
    sub, failed = _read_submission(path, lang)
    folder = sub.root if sub else Path(path).resolve()  # (a notebook given alone: the notebook)
    if patterns and not select(patterns):
        raise BadInput(t("-k {patterns}: no task matches (see 'grade list')").format(patterns=" ".join(patterns)))
    extra = _format_targets(formats)
    targets = [("--output", out), *((f"--format {name}={file}", file) for name, file in extra)]
    for option, target in targets:
        if clash(target, files=[folder]) or (folder.is_dir() and clash(target, folders=[folder])):
            raise BadInput(t("{option} {path}: inside the submission folder {folder}; write it elsewhere").format(
                option=option, path=target, folder=folder))
    _refuse_same_target(targets)
    from .sandbox.spawn import describe

    isolation = describe()
    if isolation:
        click.echo(isolation, err=True)
    options = Options(seed=seed, patterns=patterns, timeout=timeout, memory_mb=memory_mb, lang=lang,
                      formats=tuple((name, str(file)) for name, file in extra)).seeded()
    _import_torch()
    failures: list[str] = []
    try:
        if failed is not None:
            raise failed
        report = api.grade(sub, options)
        if sub.built:
            report["submission"]["path"] = shown(str(path))
        report_mod.validate(report)
    except BadSubmission as exc:
        raise BadInput(exc.render(lang)) from None
    # Whatever failed while grading or building the report, a report is written:
    # every task an error of the grader's, and exit status 3.
    except Exception as exc:  # noqa: BLE001
        report = report_mod.grader_failure(path, exc, options)
    try:
        try:
            report_mod.write(report, out)
        # A report that cannot be serialised is the grader's failure: write the one that says so.
        except (TypeError, ValueError) as exc:
            report = report_mod.grader_failure(path, exc, options)
            report_mod.write(report, out)
    except OSError as exc:
        raise BadInput(t("--output {path}: cannot write ({reason})").format(path=output, reason=exc.strerror)) from None
    for name, target in options.formats:
        try:
            write_atomic(target, render_format(report, name))
        except OSError as exc:
            raise BadInput(t("--output {path}: cannot write ({reason})").format(path=target, reason=exc.strerror)) from None
        except Exception as exc:  # noqa: BLE001 - the JSON report is written; this format is not
            failures.append(f"--format {name}: {report_mod.failure_text(exc)}")
    try:
        click.echo(terminal.render(report, colour=_use_colour(), output=str(out)))
    except Exception as exc:  # noqa: BLE001 - the report is written; only the summary is lost
        failures.append(f"summary: {report_mod.failure_text(exc)}")
    from .sandbox.isolation import summary_line

    click.echo(summary_line(report.get("isolation"), t))
    failures = report["grader_errors"][:3] + failures
    if failures:
        raise GraderFailed(t("the grader itself failed: {detail}").format(detail="; ".join(failures[:3])))
    if fail_under is not None and report["percent"] < fail_under:
        sys.exit(EXIT_BELOW)


def _holds_modules(folder: Path) -> bool:
    from .layout import modules_in

    return bool(modules_in(folder))


def _import_torch() -> None:
    """Load torch (``preload.load``) with Ctrl-C held until it is done: a
    KeyboardInterrupt raised at some moments of torch's import is lost inside it,
    and the run would go on."""
    import signal

    from .preload import load

    pressed: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    except ValueError:  # not the main thread: nothing to hold
        load()
        return
    try:
        load()
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt


def _read_submission(path: str, lang: str):
    """The submission at ``path``, read once, before torch is loaded (its files chosen
    as ``grade batch`` and Gradescope choose them: ``layout``); what was graded from
    which file is said on stderr. ``BadInput`` if nothing can be graded; a failure of
    the grader's own is handed back, for the report that says so: (submission, None)
    or (None, exception)."""
    from . import api
    from .submission import BadSubmission

    try:
        sub = api.read(path, translator(lang))
    except BadSubmission as exc:
        raise BadInput(exc.render(lang)) from None
    except Exception as exc:  # noqa: BLE001 - written as the grader's failure once the options are known
        return None, exc
    for note in sub.notes:
        click.echo(note, err=True)
    return sub, None


def _refuse_same_target(targets: list[tuple[str, Path]]) -> None:
    """Two outputs of one command never go to one file: the later would replace the earlier."""
    for i, (option, target) in enumerate(targets):
        for first, earlier in targets[:i]:
            if same_file(target, earlier):
                raise BadInput(f"{option}: the same file as {first} {earlier}; give each output a file of its own")


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
              help=_("Language of the feedback (default: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG)."))
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
              help=_("Language of the feedback (default: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG)."))
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
        apis = ", ".join(a for a in task.forbidden_scan if a.startswith(RECORDED))
        if task.scope:
            click.echo("  " + t("Not allowed inside {scope}: {apis}").format(scope=", ".join(task.scope), apis=apis))
        else:
            click.echo("  " + t("Not allowed: {apis}").format(apis=apis))
    if report_path == "grade-report.json" and not Path(report_path).exists() and _holds_modules(Path(".")) \
            and Path("..", report_path).is_file():
        report_path = str(Path("..", report_path))  # inside the exercises folder: where 'grade run' wrote it
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
@click.option("--resume", is_flag=True, help="Skip submissions whose report exists and whose files are unchanged; "
                                              "the seed and options are those the batch started with.")
@click.option("--seed", type=click.IntRange(*SEED_RANGE), default=None, help="Seed for every submission.")
@click.option("-k", "--task", "patterns", multiple=True, metavar="PATTERN", help="Grade only matching tasks.")
@click.option("--timeout", type=_Number(*TIMEOUT_RANGE), default=DEFAULTS.timeout, show_default=True,
              help="Wall-clock seconds each task may spend in student code.")
@click.option("--memory", "memory_mb", type=click.IntRange(*MEMORY_RANGE), default=DEFAULTS.memory_mb,
              show_default=True,
              help="Megabytes a task may allocate beyond the loaded libraries.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Language of the feedback.")
@click.option("--allow-weak-isolation", "allow_weak", is_flag=True,
              help="Grade even where the kernel cannot isolate student code (no Landlock or seccomp); "
                   "every report records it.")
@click.pass_context
def batch(ctx: click.Context, submissions: str, outdir: str, jobs: int | None, shard: str | None, resume: bool,
          seed: int | None, patterns: tuple[str, ...], timeout: float, memory_mb: int, lang: str | None,
          allow_weak: bool) -> None:
    """Grade every submission in SUBMISSIONS (a folder of folders/archives, or a CSV/text list).

    Writes OUTDIR/reports/<name>.json for each, then OUTDIR/gradebook.csv and
    OUTDIR/class-summary.json. Finished reports survive an interruption; --resume
    completes the batch with the seed and options recorded in OUTDIR/batch.json.
    """
    from . import intake, pool
    from .sandbox import jail
    from .tasks import select

    if not pool.supported():
        raise BadInput("grade batch needs Linux or macOS (its workers are handed a socket by descriptor); "
                       "on Windows use WSL, or grade run for each submission")

    if patterns and not select(patterns):
        raise BadInput(f"-k {' '.join(patterns)}: no task matches (see 'grade list')")
    if not allow_weak and not jail.kernel_isolation_available():
        raise BadInput("this machine cannot isolate student code with the kernel (Landlock and seccomp are needed): "
                       "a submission could read and change your files. Grade in a Linux VM or container, "
                       "or pass --allow-weak-isolation to grade anyway (each report records it)")
    try:
        items = intake.shard(intake.discover(submissions), shard)
    except intake.BatchError as exc:
        raise BadInput(str(exc)) from None
    if not outdir.strip():  # Path("") is the current folder: never written into by accident
        raise BadInput("--output: empty; give the folder for the reports")
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--output {outdir}: is a file, give a folder")
    _refuse_batch_clash(out, submissions, items)
    given = {name for name in RESUMED if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT}
    options = Options(seed=seed, patterns=tuple(sorted(patterns)), timeout=timeout, memory_mb=memory_mb,
                      lang=lang or default_language(), allow_weak_isolation=allow_weak)
    _lock_output(ctx, out, outdir)
    if resume:
        options = _resumed_options(out, options, given)
    else:
        _refuse_earlier_reports(out, outdir)
    options = options.seeded()
    recorded = {k: v for k, v in options.to_json().items() if k in RESUMED}
    try:
        (out / "reports").mkdir(exist_ok=True)
        write_atomic(out / OPTIONS_FILE, json.dumps(recorded, indent=2) + "\n")
    except OSError as exc:
        raise BadInput(f"--output {outdir}: cannot write ({exc.strerror or type(exc).__name__})") from None
    jobs = jobs or os.cpu_count() or 1
    click.echo(f"grading {len(items)} submissions with {jobs} workers · seed {options.seed}", err=True)
    from .sandbox.spawn import describe

    if describe():
        click.echo(describe(), err=True)
    try:
        with click.progressbar(length=len(items), label="grading", file=sys.stderr, show_pos=True,
                               item_show_func=lambda name: name) as bar:
            results = pool.run(items, out, options, jobs=jobs, resume=resume,
                               progress=lambda done, total, last: bar.update(done - bar.pos, last.item.name))
    except KeyboardInterrupt:
        again = f"grade batch {submissions} -o {outdir}" + (f" --shard {shard}" if shard else "") + " --resume" + (" --allow-weak-isolation" if allow_weak else "")
        finished = len(list((out / "reports").glob("*.json")))
        click.echo(f"\ninterrupted: {finished} report(s) kept in {out / 'reports'}; to finish, run: {again}",
                   err=True)
        raise
    failures = [r for r in results if r.error]
    click.echo(_batch_table(results))
    try:
        _write_gradebook(out, results, items)
    except OSError as exc:
        raise BadInput(f"--output {outdir}: cannot write the gradebook "
                       f"({exc.strerror or type(exc).__name__}); the reports are in {out / 'reports'}") from None
    if failures:
        for r in failures:
            click.echo(f"grader failed on {r.item.path}: {r.error}", err=True)
        raise GraderFailed(f"{len(failures)} submissions could not be graded")


def _refuse_batch_clash(out: Path, submissions: str, items: list) -> None:
    """The output folder may not be, or lie in, anything the batch reads."""
    source = Path(submissions)
    why = clash(out, folders=[source] if source.is_dir() else [])
    written = [out / "gradebook.csv", out / "class-summary.json", out / OPTIONS_FILE, out / "reports"]
    why = why or next((w for target in written if (w := clash(target, files=[source]))), None)
    why = why or clash(out, files=[i.path for i in items if not i.path.is_dir()],
                       folders=[i.path for i in items if i.path.is_dir()])
    if why:
        raise BadInput(f"--output {out}: {why}; write the batch's output elsewhere")


OPTIONS_FILE = "batch.json"  # the seed and options a batch started with, for --resume
RESUMED = {"seed": "--seed", "patterns": "-k", "timeout": "--timeout", "memory_mb": "--memory", "lang": "--lang"}


def _resumed_options(out: Path, options: Options, given: set[str]) -> Options:
    """The options the interrupted batch started with; refuse any given option that differs."""
    from .options import OptionsError

    try:
        recorded = json.loads((out / OPTIONS_FILE).read_text(encoding="utf-8"))
        started = Options.from_json({k: v for k, v in recorded.items() if k in RESUMED},
                                    allow_weak_isolation=options.allow_weak_isolation)
    except FileNotFoundError:
        if any((out / "reports").glob("*.json")):
            raise BadInput(f"--resume: {out} holds reports but no record of their seed and options "
                           f"({OPTIONS_FILE}); grade again without --resume") from None
        return options
    except (OSError, ValueError, OptionsError) as exc:
        raise BadInput(f"--resume: {out / OPTIONS_FILE} cannot be read ({exc})") from None
    now, then = options.to_json(), started.to_json()
    differs = [f"{flag} {_shown(then[k])} (now {_shown(now[k])})"
               for k, flag in RESUMED.items() if k in given and then[k] != now[k]]
    if differs:
        raise BadInput(f"--resume: this batch was started with {'; '.join(differs)}; resume with the same "
                       "options (or leave them out), or grade into another folder")
    return started


def _shown(value) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)


def _batch_table(results) -> str:
    graded = [r for r in results if not r.error]
    full = sum(1 for r in graded if r.max_score and r.score >= r.max_score)
    problems = sum(1 for r in graded if r.problem)
    mean = sum(r.score for r in graded) / len(graded) if graded else 0.0
    rows = [("submissions", len(results)), ("graded", len(graded)), ("resumed (unchanged)", sum(r.skipped for r in results)),
            ("full marks", full), ("not a submission", problems), ("grader failures", len(results) - len(graded)),
            ("mean score", f"{mean:.1f}")]
    return "\n".join(f"  {name:<22} {value}" for name, value in rows)


LOCK_FILE = ".grade-batch.lock"  # held by the batch writing into the folder


def _lock_output(ctx: click.Context, out: Path, outdir: str) -> None:
    """Create the output folder and hold its lock until the command ends: two batches
    writing into one folder at once would mix their reports and gradebooks."""
    from .fileio import FolderInUse, lock_exclusive

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"--output {outdir}: cannot create the folder ({exc.strerror or type(exc).__name__})") from None
    try:
        fd = lock_exclusive(out / LOCK_FILE)
    except FolderInUse as exc:
        raise BadInput(f"--output {outdir}: another grade batch is writing into it (process {exc.holder or '?'}); "
                       "wait for it to finish, or grade into another folder") from None
    except OSError as exc:
        raise BadInput(f"--output {outdir}: cannot write ({exc.strerror or type(exc).__name__})") from None
    ctx.call_on_close(lambda: os.close(fd))


def _refuse_earlier_reports(out: Path, outdir: str) -> None:
    """A fresh batch never mixes its reports with an earlier batch's (another seed, other
    tasks, a student who has since withdrawn), and never deletes them either."""
    reports = out / "reports"
    if reports.is_dir() and any(reports.glob("*.json")):
        raise BadInput(f"--output {outdir}: holds the reports of an earlier batch; finish that batch with --resume, "
                       f"or grade into a new folder (or remove {reports} first)")


def _write_gradebook(out: Path, results: list, items: list) -> None:
    """The gradebook and class summary of this batch's submissions: one report each,
    OUT/reports/<name>.json. A report the parent already holds (a worker's answer, or
    one --resume kept) is not read again unless the file changed since. Any report left
    out, and any other file in OUT/reports, is named on stderr, one line each."""
    from . import collect
    from .pool import stamp

    reports = out / "reports"
    known = {r.report.resolve(): collect.Submission(str(r.report), r.kept, r.files_digest)
             for r in results if r.kept is not None and r.report is not None and not r.error
             and r.stamp is not None and r.stamp == stamp(r.report)}
    ours = [reports / f"{item.name}.json" for item in items]
    collection = collect.collect([str(p) for p in ours], known=known)
    mine = {p.name for p in ours}
    for other in sorted(reports.glob("*.json")):
        if other.name not in mine:
            click.echo(f"{other}: not a report of this batch's submissions; left out of the gradebook", err=True)
    for line in collection.bad:
        click.echo(f"{line}; left out of the gradebook", err=True)
    write_atomic(out / "gradebook.csv", collect.render_csv(collection))
    write_atomic(out / "class-summary.json", json.dumps(collect.summary(collection), indent=2, ensure_ascii=False)
                 + "\n")


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
@click.option("--seed", type=click.IntRange(*SEED_RANGE), default=None, help="Seed for every run.")
def selftest(root: str | None, seed: int | None) -> None:
    """Prove the checks: solutions score full marks, stubs 0, every mutant loses its task."""
    from . import selftest as selftest_mod
    from .sandbox.spawn import start

    repo = _instructor_repo(root, ("exercises", "solutions", "mutants"))
    options = Options(seed=seed).seeded()
    click.echo(f"selftest of {repo} · seed {options.seed}")
    colour = _use_colour()
    # The outcomes are shown while the checks run, under pytest's capture of sys.stdout.
    out = sys.stdout

    def show(outcome) -> None:
        mark = click.style("ok  ", fg="green") if colour and outcome.ok else ("ok  " if outcome.ok else "FAIL")
        if colour and not outcome.ok:
            mark = click.style("FAIL", fg="red", bold=True)
        click.echo(f"  {mark} {outcome.name:<48} expected {outcome.expected:<40} got {outcome.got}", file=out)
        if outcome.problem:
            click.echo(f"         {outcome.problem}", file=out)

    _import_torch()
    with start(fork=True) as server:
        outcomes = selftest_mod.run(repo, server, options, show)
    failed = [o for o in outcomes if not o.ok]
    click.echo(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    if failed:
        sys.exit(EXIT_BELOW)


@main.command()
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--root", default=None, help="The instructor repository (default: found automatically).")
@click.option("--notebooks", is_flag=True, help="Also one notebook per module (notebooks/), with check cells.")
def release(out: str, root: str | None, notebooks: bool) -> None:
    """Build the student repository in OUT: stubs, README, workflow, visible checks only."""
    from .release import ReleaseError, build

    repo = _instructor_repo(root, ("exercises", "solutions", "grader"))
    why = clash(out, folders=[repo / name for name in ("exercises", "solutions", "grader", "mutants", "tests")])
    if why:
        raise BadInput(f"{out}: {why}; write the release elsewhere")
    try:
        hidden = build(repo, Path(out), notebooks=notebooks)
    except ReleaseError as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"student release written to {out} ({hidden['checks']} hidden checks left out)")


@main.command()
@click.argument("out", metavar="OUT.zip")
@click.option("--root", default=None, help="The instructor repository (default: found automatically).")
@click.option("--seed", type=click.IntRange(*SEED_RANGE), default=None,
              help="One seed for every submission (default: a fresh one each, in its report).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the feedback students see.")
@click.option("--timeout", type=_Number(*TIMEOUT_RANGE), default=DEFAULTS.timeout, show_default=True,
              help="Wall-clock seconds each task may spend in student code.")
@click.option("--memory", "memory_mb", type=click.IntRange(*MEMORY_RANGE), default=DEFAULTS.memory_mb,
              show_default=True,
              help="Megabytes a task may allocate beyond the loaded libraries.")
def gradescope(out: str, root: str | None, seed: int | None, lang: str, timeout: float, memory_mb: int) -> None:
    """Build the Gradescope autograder zip: setup.sh, run_autograder, the pinned requirements
    (torch's CPU build) and the grader with its hidden checks. Upload it as the assignment's
    autograder (Ubuntu base image); every submission gets a results.json."""
    from .gradescope import ZipError, build_zip

    repo = _instructor_repo(root, ("grader",))
    target = Path(out)
    if target.suffix.lower() != ".zip":
        raise BadInput(f"{out}: give a file name ending in .zip")
    if target.is_dir() or not (target.parent if str(target.parent) else Path(".")).is_dir():
        raise BadInput(f"{out}: give a file name in an existing folder")
    if clash(target, folders=[repo / "grader"]):
        raise BadInput(f"{out}: inside the grader it packs; write it elsewhere")
    try:
        names = build_zip(repo, target, Options(seed=seed, lang=lang, timeout=timeout, memory_mb=memory_mb))
    except ZipError as exc:
        raise BadInput(str(exc)) from None
    checks = sum(1 for n in names if n.startswith("grader/checks/check_"))
    click.echo(f"{out}: Gradescope autograder ({len(names)} files, {checks} check modules with their hidden "
               f"checks); seed {'fresh per submission' if seed is None else seed}")


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
