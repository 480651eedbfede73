"""The grading process's stand-in for torch's symbolic shapes (``grader.shapes``).

Each test runs in a fresh interpreter: the stand-in is only ever installed before
the real module is loaded, which this test process may have done long ago.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from .conftest import ROOT, SOLUTIONS


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_stand_in_answers_plain_shapes_as_torch_does_without_loading_sympy():
    out = _run("""
        import json, sys
        import torch
        from grader import shapes
        shapes.install()
        m = sys.modules[shapes.NAME]
        answers = [m.sym_eq((2, 3), (2, 3)), m.sym_eq(torch.Size([2, 3]), [2, 3]), m.sym_eq((2, 3), (2, 4)),
                   m.sym_eq((2,), (2, 3)), m.sym_eq(4, 4), m.sym_eq(4, 5), m.expect_true(True), m.expect_true(False)]
        x = torch.ones(3, dtype=torch.float64, requires_grad=True)
        (x * x).backward(gradient=torch.full((3,), 2.0, dtype=torch.float64))
        try:
            torch.autograd.grad(x * x, x, torch.ones(4, dtype=torch.float64))
            mismatch = ""
        except RuntimeError as exc:
            mismatch = str(exc)
        torch._check(x.shape[0] == 3, lambda: "three")
        print(json.dumps({"answers": answers, "grad": x.grad.tolist(), "mismatch": mismatch,
                          "loaded": shapes.loaded(), "sympy": "sympy" in sys.modules}))
    """)
    assert out["answers"] == [True, True, False, False, True, False, True, False]
    assert out["grad"] == [4.0, 4.0, 4.0]
    assert "Mismatch in shape" in out["mismatch"]
    assert out["loaded"] is False and out["sympy"] is False


def test_any_other_name_or_a_symbolic_value_loads_the_real_module_for_everyone():
    out = _run("""
        import json, sys
        import torch
        import torch.fx.experimental as package
        from grader import shapes
        shapes.install()
        stand_in = sys.modules[shapes.NAME]
        from torch.fx.experimental.symbolic_shapes import ShapeEnv
        real = sys.modules[shapes.NAME]
        try:
            stand_in.sym_eq((1,), 1.5)  # not plain: torch's own answer, its own error
            mixed = "no error"
        except AssertionError as exc:
            mixed = str(exc)
        print(json.dumps({"loaded": shapes.loaded(), "same": package.symbolic_shapes is real,
                          "real": type(real).__name__, "env": ShapeEnv.__module__, "mixed": mixed,
                          "forwarded": stand_in.guard_or_false is real.guard_or_false,
                          "installed_again": (shapes.install(), sys.modules[shapes.NAME] is real)[1]}))
    """)
    assert out == {"loaded": True, "same": True, "real": "module", "env": "torch.fx.experimental.symbolic_shapes",
                   "mixed": "unexpected sym_eq between <class 'tuple'> <class 'float'>", "forwarded": True,
                   "installed_again": True}


def test_grading_the_solutions_never_loads_sympy_in_the_grading_process():
    out = _run(f"""
        import json, sys
        from grader import preload
        preload.load()
        from grader import api, shapes
        report = api.grade({str(SOLUTIONS)!r}, seed=5)
        print(json.dumps({{"score": report["score"], "loaded": shapes.loaded(), "sympy": "sympy" in sys.modules}}))
    """)
    assert out == {"score": 130.0, "loaded": False, "sympy": False}


def test_the_scan_reads_the_real_modules_names():
    """A submission naming something of torch's symbolic shapes is read against the
    real module (loaded then), not the stand-in's two names."""
    out = _run("""
        import json
        import torch
        from grader import evasion, shapes
        shapes.install()
        found = evasion._module("torch.fx.experimental.symbolic_shapes")
        print(json.dumps({"loaded": shapes.loaded(), "has": hasattr(found, "ShapeEnv") and "ShapeEnv" in vars(found)}))
    """)
    assert out == {"loaded": True, "has": True}


def test_a_batch_worker_loads_the_real_module_once_before_its_server_forks():
    """A worker grades submission after submission: it imports the real module itself,
    so that its sandbox server, forked from it, shares that import."""
    out = _run("""
        import json
        from grader import preload, shapes
        preload.load(serving=True)
        print(json.dumps({"loaded": shapes.loaded()}))
    """)
    assert out == {"loaded": True}
