"""The static scan: what it refuses, and what it lets through."""
from __future__ import annotations

import pytest

from grader.scan import scan_module
from grader.tasks import BY_ID, MODULES

from .conftest import EXERCISES, SOLUTIONS


@pytest.mark.parametrize("folder", [SOLUTIONS, EXERCISES], ids=["solutions", "exercises"])
@pytest.mark.parametrize("module", MODULES)
def test_the_shipped_modules_are_clean(folder, module):
    scan = scan_module(module, (folder / f"{module}.py").read_text())
    assert scan.syntax_error is None and scan.escapes == []
    for task in BY_ID.values():
        if task.module == module:
            assert task.name in scan.defined
            assert scan.forbidden_uses(task) == []


@pytest.mark.parametrize("source, task, detail", [
    ("import torch\ndef vjp(f, x, v):\n    return torch.autograd.functional.vjp(f, x, v)[1]\n",
     "ex03_vjp.vjp", "torch.autograd.functional.vjp"),
    ("from torch.autograd.functional import vjp as V\ndef vjp(f, x, v):\n    return V(f, x, v)[1]\n",
     "ex03_vjp.vjp", "torch.autograd.functional.vjp"),
    ("import torch\nF = torch.func\ndef helper(f):\n    return F.jacrev(f)\ndef vjp(f, x, v):\n    return helper(f)(x)\n",
     "ex03_vjp.vjp", "torch.func"),
    ("import torch\ndef jacobian_by_hand(x):\n    x = x.clone().requires_grad_(True)\n    return x\n",
     "ex02_jacobian.jacobian_by_hand", ".requires_grad_"),
    ("import torch\ndef jacobian_from_vjps(f, x):\n    return torch.autograd.grad(f(x), x, torch.eye(2), is_grads_batched=True)\n",
     "ex02_jacobian.jacobian_from_vjps", "is_grads_batched="),
])
def test_not_allowed_apis_are_found_through_aliases_and_helpers(source, task, detail):
    uses = scan_module(BY_ID[task].module, source).forbidden_uses(BY_ID[task])
    assert uses and uses[0].detail.startswith(detail)


def test_a_not_allowed_api_in_another_task_does_not_count():
    source = ("import torch\ndef jacobian_from_vjps(f, x):\n    return torch.autograd.grad(f(x), x)\n"
              "def jacobian_by_hand(x):\n    return torch.stack([x, x])\n")
    scan = scan_module("ex02_jacobian", source)
    assert scan.forbidden_uses(BY_ID["ex02_jacobian.jacobian_by_hand"]) == []


@pytest.mark.parametrize("source, code", [
    ("import os\n", "import_denied"),
    ("import subprocess as sp\n", "import_denied"),
    ("from importlib import import_module\n", "import_denied"),
    ("import solutions.ex01_backward\n", "import_grader"),
    ("from grader import checks\n", "import_grader"),
    ("x = __import__('os')\n", "builtin_denied"),
    ("eval('1')\n", "builtin_denied"),
    ("open('f')\n", "builtin_denied"),
    ("y = ().__class__\n", "introspection"),
    ("import torch\ntorch._C._set_grad_enabled(True)\n", "api_denied"),
    ("import torch\ntorch.load('x')\n", "attribute_denied"),
    ("import numpy as np\nnp.os.system('x')\n", "attribute_denied"),
    ("getattr(object, name)\n", "dynamic_attribute"),
    ("getattr(object, '__subclasses__')\n", "introspection"),
    ("from . import x\n", "import_denied"),
])
def test_escape_hatches_are_found(source, code):
    assert code in {f.code for f in scan_module("ex01_backward", source).escapes}


def test_ordinary_student_code_passes():
    source = ("from __future__ import annotations\nimport math\nimport numpy as np\nimport torch\n"
              "import torch.nn.functional as F\nfrom typing import Callable\n"
              "from ex05_control_flow import f\n"
              "def helper(x):\n    return F.softplus(x) + math.pi * np.float64(1.0)\n"
              "print(__name__)\n")
    scan = scan_module("ex07_higher_order", source)
    assert scan.escapes == []


def test_a_syntax_error_is_reported_with_its_line():
    scan = scan_module("ex01_backward", "x = 1\ndef f(:\n")
    assert scan.syntax_error is not None and scan.syntax_error.line == 2


def test_an_escape_inside_one_task_costs_that_task_only():
    source = ("import os\nimport torch\n"
              "def helper():\n    os._exit(0)\n"
              "def vjp(f, x, v):\n    helper()\n"
              "def multitask_grads(task_losses, params, task_weights):\n    return params\n")
    scan = scan_module("ex03_vjp", source)
    assert [f.detail for f in scan.escapes_for(BY_ID["ex03_vjp.vjp"])] == ["os"]
    assert scan.escapes_for(BY_ID["ex03_vjp.multitask_grads"]) == []
    assert scan.module_level_escapes == []


@pytest.mark.parametrize("source", [
    "import os\nos._exit(0)\n",                       # runs at import
    "from solutions.ex03_vjp import vjp\n",           # the grader's code
    "import os\nfrom os import _exit as vjp\n",       # rebinds a task
])
def test_an_escape_at_module_level_costs_every_task(source):
    scan = scan_module("ex03_vjp", source + "def multitask_grads(a, b, c):\n    return b\n")
    assert scan.module_level_escapes
    assert scan.escapes_for(BY_ID["ex03_vjp.multitask_grads"])
