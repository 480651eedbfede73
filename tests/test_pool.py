"""The worker pool of ``grade batch``: its protocol and its failures."""
from __future__ import annotations

import json
import sys

from grader import pool
from grader.intake import Item
from grader.options import Options

from .conftest import EXERCISES, SOLUTIONS


def test_workers_that_cannot_start_fail_every_submission_and_stop(tmp_path, monkeypatch):
    monkeypatch.setattr(pool, "WORKER", [sys.executable, "-c", "import sys; sys.exit(1)"])
    items = [Item(f"s{i}", SOLUTIONS) for i in range(3)]
    results = pool.run(items, tmp_path / "out", Options(seed=1), jobs=2)
    assert sorted(r.item.name for r in results) == ["s0", "s1", "s2"]
    assert all(r.error == "the grading worker could not start" for r in results)


def test_a_worker_grades_jobs_sent_over_the_channel(tmp_path):
    items = [Item("good", SOLUTIONS), Item("stub", EXERCISES), Item("gone", tmp_path / "nothing")]
    done = []
    results = pool.run(items, tmp_path / "out", Options(seed=4, patterns=("ex03_vjp",), timeout=5), jobs=1,
                       progress=lambda n, total, last: done.append((n, total)))
    assert done[-1] == (3, 3) and not any(r.error for r in results)
    scores = {r.item.name: (r.score, r.max_score, bool(r.problem)) for r in results}
    assert scores["good"][0] == scores["good"][1] > 0
    assert scores["stub"][0] == 0 and scores["gone"][2]
    for name in ("good", "stub", "gone"):
        report = json.loads((tmp_path / "out" / "reports" / f"{name}.json").read_text())
        assert report["seed"] == 4 and report["selection"] == ["ex03_vjp"]


def test_grade_batch_says_in_one_line_where_it_cannot_run(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from grader.cli import main

    monkeypatch.setattr(pool, "supported", lambda: False)
    (tmp_path / "class" / "a").mkdir(parents=True)
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "class"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "needs Linux or macOS" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_what_the_class_needs_is_loaded_before_its_first_submission(tmp_path, monkeypatch):
    """torch.func is loaded by every worker's sandbox at the start when any folder's
    code names it, so a server's memory does not step up in the middle of a batch;
    the rules' mentions in the exercises' docstrings and comments do not count."""
    import shutil

    from grader import intake

    assert intake.warm_up_for([Item("stub", EXERCISES), Item("good", SOLUTIONS)]) == ()
    user = tmp_path / "user"
    shutil.copytree(SOLUTIONS, user)
    with open(user / "ex03_vjp.py", "a", encoding="utf-8") as f:
        f.write("\n# vmap would do it\ndef _note():\n    '''torch.func.vjp is not allowed'''\n")
    assert intake.warm_up_for([Item("user", user)]) == ()
    with open(user / "ex03_vjp.py", "a", encoding="utf-8") as f:
        f.write("\nfrom torch.func import jacrev\n")
    assert intake.warm_up_for([Item("stub", EXERCISES), Item("user", user)]) == ("func",)

    sent = []
    send = pool._Worker.send
    monkeypatch.setattr(pool._Worker, "send", lambda self, item, job: (sent.append(job), send(self, item, job)))
    results = pool.run([Item("stub", EXERCISES), Item("user", user)], tmp_path / "out",
                       Options(seed=1, patterns=("ex03_vjp.vjp",)), jobs=1)
    assert [job["warm"] for job in sent] == [["func"], ["func"]]
    assert {r.item.name: r.score for r in results} == {"stub": 0.0, "user": 6.0}
