"""Gradescope: the autograder zip (``grade gradescope OUT.zip``) and what it runs.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once as root
to build its image, then for every submission runs ``/autograder/run_autograder`` (a
copy of the zip's) with the student's files in ``/autograder/submission``, and shows
``/autograder/results/results.json`` (gradescope-autograders.readthedocs.io, "Autograder
Specifications"). ``run_autograder`` calls ``python -m grader.gradescope``, which always
writes a results.json: for a good or wrong submission the graded tests; for misnamed
files the same, saying which file was graded as which module; for a notebook, its code
cells; for an empty or unusable upload a score of 0 and what was expected; for a failure
of the grader itself a score of 0 that says so (the traceback goes to the instructors'
stdout). ``AUTOGRADER_ROOT`` moves ``/autograder`` elsewhere (tests).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path
from typing import Any

from .fileio import shown_all, write_atomic
from .options import DEFAULTS, Options, OptionsError

CONFIG = "autograd-lab.json"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
SOURCE_FILES = ("requirements.txt", "setup.cfg", "pyproject.toml", "README.md")

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# The grader needs Python 3.11 or later (its numpy pin); it is tested on 3.11.
set -euo pipefail
cd /autograder/source
python=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    python="$candidate"; break
  fi
done
if [ -z "$python" ]; then
  # Ubuntu 22.04 images ship Python 3.10: take 3.11 from the deadsnakes archive.
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update
  apt-get install -y python3.11 python3.11-venv
  python=python3.11
fi
"$python" -m venv /autograder/venv || {{
  apt-get update && apt-get install -y "$python-venv" && "$python" -m venv /autograder/venv
}}
# The pinned versions the grader is tested with, torch's CPU build (no CUDA download).
/autograder/venv/bin/pip install --no-cache-dir --extra-index-url {CPU_INDEX} -r requirements.txt .
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it always writes results/results.json.
# AUTOGRADER_ROOT moves /autograder elsewhere; AUTOGRADER_PYTHON picks the interpreter.
root="${AUTOGRADER_ROOT:-/autograder}"
python="${AUTOGRADER_PYTHON:-$root/venv/bin/python}"
export PYTHONPATH="$root/source${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m grader.gradescope --root "$root"
"""


class ZipError(ValueError):
    """The autograder zip cannot be built as asked (exit status 2)."""


def build_zip(repo: Path, out: Path, options: Options = DEFAULTS) -> list[str]:
    """Write the autograder zip: setup.sh and run_autograder at its top, the grader with
    every check (hidden ones included), the pinned requirements; no solutions, no tests."""
    for needed in ("grader", *SOURCE_FILES[:3]):
        if not (repo / needed).exists():
            raise ZipError(f"{repo}: not the instructor repository (no {needed})")
    if not (repo / "grader" / "checks").is_dir() or (repo / "grader" / "checks" / "hidden.json").exists():
        raise ZipError(f"{repo}: this grader carries no hidden checks (a student release); "
                       "build the zip from the instructor repository")
    config = {k: v for k, v in options.to_json().items() if k in ("seed", "lang", "timeout", "memory_mb")}
    names = []
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(name: str, text: str, mode: int = 0o644) -> None:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
            names.append(name)

        add("setup.sh", SETUP_SH, 0o755)
        add("run_autograder", RUN_AUTOGRADER, 0o755)
        add(CONFIG, json.dumps(config, indent=2) + "\n")
        for name in SOURCE_FILES:
            if (repo / name).is_file():
                add(name, (repo / name).read_text(encoding="utf-8"))
        for path in sorted((repo / "grader").rglob("*")):
            rel = path.relative_to(repo).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                info = zipfile.ZipInfo(rel, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = (0o100000 | 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
                names.append(rel)
    os.replace(tmp, out)
    return names


# In the autograder ------------------------------------------------------------------------


def _options(config: dict[str, Any]) -> Options:
    """The options the zip was built with; a config this grader cannot read grades with the defaults."""
    try:
        return Options.from_json(config)
    except (OptionsError, TypeError):
        return DEFAULTS.but(lang=config.get("lang") if config.get("lang") in ("en", "zh") else "en")


def _results_for_problem(problem: str, config: dict[str, Any]) -> dict[str, Any]:
    """Score 0 and why, in the student-visible output, with every task as a failed test."""
    from . import report as report_mod
    from .formats import gradescope as fmt

    report = report_mod.not_a_submission("submission", problem, _options(config).but(seed=config.get("seed") or 0))
    results = fmt.results(report)
    results["output"] = problem + "\n\n" + results["output"]
    return results


def _expected(t: Any) -> str:
    from .tasks import MODULES

    return t("Upload the exercise files: {files} (or notebooks named like them).").format(
        files=", ".join(f"{m}.py" for m in MODULES))


def grade_upload(root: Path) -> dict[str, Any]:
    """Grade ``root/submission``; the results.json object (never raises for a bad upload)."""
    from . import api, report as report_mod
    from .formats import gradescope as fmt
    from .gather import gather, place
    from .preload import load
    from .i18n import translator
    from .layout import Layout, choose
    from .notebook import materialize, relabel

    config_path = root / "source" / CONFIG
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    lang = config.get("lang", "en")
    t = translator(lang)
    upload = root / "submission"
    if not upload.is_dir() or not any(upload.iterdir()):
        return _results_for_problem(t("Your submission is empty.") + " " + _expected(t), config)
    found, notes = gather(upload, t)
    stray = [f for f in found.unused if f.lower().endswith(".py")]
    if stray and (found.modules or found.notebooks):
        notes.append(t("Not graded (not an exercise file's name): {files}.").format(files=", ".join(stray[:10])))
    built: dict[str, Any] = {}
    if found.notebooks:
        # Which file is graded as each module: as grade run and grade batch choose.
        chosen = choose(Layout(upload, dict(found.modules), list(found.notebooks)), t)
        notes += chosen.notes
        built = chosen.built
        found.modules = chosen.py
    if not found.modules and not built:
        listed = ", ".join(found.unused[:10]) + (" …" if len(found.unused) > 10 else "")
        problem = t("No exercise file found in your submission (it holds: {files}).").format(files=listed or "-")
        return _results_for_problem(problem + " " + _expected(t), config)
    with tempfile.TemporaryDirectory(prefix="autograd-lab-gs-") as tmp:
        folder = place(found, Path(tmp) / "submission")
        if built:
            materialize(built, folder)
        load()  # torch, before the sandbox server is forked from this process
        report = api.grade(folder, _options(config).seeded())
    report["submission"]["path"] = "submission"
    if built:
        relabel(report, built)
    report_mod.validate(report)
    results_dir = root / "results"
    report_mod.write(report, results_dir / "grade-report.json")
    results = fmt.results(report)
    if notes:
        results["output"] = "\n".join(notes) + "\n\n" + results["output"]
    return results


def validate(results: dict[str, Any]) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parent / "schema" / "gradescope-results.json").read_text(encoding="utf-8"))
    jsonschema.validate(results, schema)


def _json(results: dict[str, Any]) -> str:
    text = json.dumps(shown_all(results), indent=2, ensure_ascii=False) + "\n"
    text.encode("utf-8")  # fails here, inside the fallback's reach, rather than while writing
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope",
                                     description="Grade /autograder/submission into /autograder/results/results.json.")
    parser.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    args = parser.parse_args(argv)
    root = Path(args.root)
    (root / "results").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        results = grade_upload(root)
        results["execution_time"] = round(time.monotonic() - started)
        validate(results)
        text = _json(results)
    except Exception:  # the grader's own failure: the student sees that, the instructor why
        traceback.print_exc(file=sys.stdout)
        results = {"score": 0.0, "output": "The grader itself failed on this submission; it is not your "
                   "mistake. Your instructor can see why and will regrade it.", "stdout_visibility": "hidden",
                   "execution_time": round(time.monotonic() - started)}
        text = _json(results)
    # Atomic: Gradescope never reads a results.json half written, or empty.
    write_atomic(root / "results" / "results.json", text)
    summary = results.get("output", "").splitlines()
    print(summary[-1] if summary else "")
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(errors="replace")
    code = main()
    sys.stdout.flush()
    os._exit(code)  # as grade does: no interpreter teardown with torch loaded
