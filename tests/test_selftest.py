"""`grade selftest` fails, naming the mistake, when a check is loosened."""
from __future__ import annotations

import shutil


from grader import checking, selftest
from grader.options import Options

from .conftest import EXERCISES, MUTANTS, SOLUTIONS


def _root_with(tmp_path, mutant: str):
    root = tmp_path / "repo"
    shutil.copytree(SOLUTIONS, root / "solutions")
    shutil.copytree(EXERCISES, root / "exercises")
    target = root / "mutants" / mutant.split("/")[0]
    target.mkdir(parents=True)
    shutil.copyfile(MUTANTS / f"{mutant}.py", target / (mutant.split("/")[1] + ".py"))
    return root


def test_selftest_passes_on_the_real_checks(server, tmp_path):
    root = _root_with(tmp_path, "ex02_jacobian/vjps_transposed")
    outcomes = selftest.run(root, server, Options(seed=3))
    assert all(o.ok for o in outcomes), [o.problem for o in outcomes if not o.ok]


def test_a_loosened_tolerance_lets_the_transposed_jacobian_through(server, tmp_path, monkeypatch):
    monkeypatch.setattr(checking, "tolerance", lambda dtype: (10.0, 10.0))
    root = _root_with(tmp_path, "ex02_jacobian/vjps_transposed")
    outcomes = selftest.run(root, server, Options(seed=3))
    failed = {o.name: o for o in outcomes if not o.ok}
    assert "ex02_jacobian/vjps_transposed" in failed
    problem = failed["ex02_jacobian/vjps_transposed"].problem
    assert "slipped through" in problem and "ex02_jacobian.jacobian_from_vjps" in problem
    assert "transpose" in problem.lower()  # the mistake is named, from the mutant's own summary
