"""The static scan: what it refuses, and what it lets through."""
from __future__ import annotations

import ast
import contextlib
import signal

import pytest

from grader import pyast
from grader.scan import scan_module
from grader.tasks import BY_ID, MODULES, TASKS

from .conftest import EXERCISES, SOLUTIONS, lost_tasks


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
    # The graph called directly: a Parameter requires grad without saying so, and a
    # grad_fn node computes a local derivative without backward or grad.
    ("import torch\ndef jacobian_by_hand(x):\n    p = torch.nn.Parameter(x.clone())\n    return p\n",
     "ex02_jacobian.jacobian_by_hand", "torch.nn.Parameter"),
    ("from torch import nn\ndef jacobian_by_hand(x):\n    return nn.parameter.Parameter(x)\n",
     "ex02_jacobian.jacobian_by_hand", "torch.nn.parameter"),
    ("def jacobian_polar(p):\n    y = p * p\n    return y.grad_fn(p)\n",
     "ex02_jacobian.jacobian_polar", ".grad_fn"),
    ("def numerical_grad(f, x, eps=1e-6):\n    return f(x).grad_fn.next_functions\n",
     "ex08_custom_function.numerical_grad", ".next_functions"),
    # A star import binds the module's public names: each is found as its full path.
    ("from torch.autograd.functional import *\nimport functools\ndef jacobian_by_hand(x):\n"
     "    return functools.partial(jacobian, torch.sin)(x)\n",
     "ex02_jacobian.jacobian_by_hand", "torch.autograd.functional.jacobian"),
])
def test_not_allowed_apis_are_found_through_aliases_and_helpers(source, task, detail):
    """(the cases above, and a star import's names: see the parameters)"""
    uses = scan_module(BY_ID[task].module, source).forbidden_uses(BY_ID[task])
    assert uses and uses[0].detail.startswith(detail)


@pytest.mark.parametrize("line", [
    "x = x.clone().requires_grad_()",
    "x = x.clone().requires_grad_(True)",
    "x = x.clone().requires_grad_(requires_grad=True)",
    "x = torch.zeros_like(x, requires_grad=True)",
    "x = torch.zeros_like(x, requires_grad=FLAG)",
    "x = x.clone()\n    x.requires_grad = True",
    "switch = x.requires_grad_",
])
def test_turning_autograd_on_counts_where_it_is_not_allowed(line):
    source = f"import torch\nFLAG = True\ndef numerical_grad(f, x, eps=1e-6):\n    {line}\n    return x\n"
    task = BY_ID["ex08_custom_function.numerical_grad"]
    assert scan_module(task.module, source).forbidden_uses(task)


def test_a_name_of_the_modules_own_is_not_a_star_imports():
    """``from torch.autograd import *`` binds ``grad``; a variable the code calls ``grad``
    is its own."""
    source = ("import torch\nfrom torch.autograd import *\ndef numerical_grad(f, x, eps=1e-6):\n"
              "    grad = torch.zeros_like(x)\n    return grad\n")
    task = BY_ID["ex08_custom_function.numerical_grad"]
    assert scan_module(task.module, source).forbidden_uses(task) == []
    used = source.replace("    grad = torch.zeros_like(x)\n    return grad\n", "    return grad(f(x), x)[0]\n")
    assert scan_module(task.module, used).forbidden_uses(task)


@pytest.mark.parametrize("line", [
    "x = x.clone().requires_grad_(False)",
    "x = x.clone().requires_grad_(requires_grad=False)",
    "x = torch.zeros_like(x, requires_grad=False)",
    "x = x.clone()\n    x.requires_grad = False",
    "assert not x.requires_grad",
    "if x.requires_grad:\n        x = x.detach()",
])
def test_reading_or_switching_off_requires_grad_is_honest_where_autograd_is_not_allowed(line):
    source = f"import torch\ndef numerical_grad(f, x, eps=1e-6):\n    {line}\n    return x\n"
    task = BY_ID["ex08_custom_function.numerical_grad"]
    assert scan_module(task.module, source).forbidden_uses(task) == []


@pytest.mark.parametrize("binding", [
    "for J in [torch.autograd.functional.jacobian]:\n    pass\n",
    "with contextlib.nullcontext(torch.autograd.functional.jacobian) as J:\n    pass\n",
    "if True:\n    J = torch.autograd.functional.jacobian\n",
    "try:\n    J = torch.autograd.functional.jacobian\nexcept ImportError:\n    J = None\n",
    "[(J := torch.autograd.functional.jacobian) for _ in '1']\n",
    "J = None\nJ = torch.autograd.functional.jacobian\n",
])
def test_a_module_level_binding_of_any_form_is_followed(binding):
    source = f"import contextlib\nimport torch\n{binding}def jacobian_by_hand(x):\n    return J(torch.sin, x)\n"
    uses = scan_module("ex02_jacobian", source).forbidden_uses(BY_ID["ex02_jacobian.jacobian_by_hand"])
    assert {u.detail for u in uses} == {"torch.autograd.functional.jacobian"}


@pytest.mark.parametrize("source, detail", [
    # An object changed at module level, used by the task: what was put in it counts.
    ("import functools, torch\nimport torch.autograd.functional as AF\nclass Box(torch.nn.Module):\n    pass\n"
     "box = Box()\nbox.forward = functools.partial(AF.jacobian)\n"
     "def jacobian_by_hand(x):\n    return box(torch.sin, x)\n", "torch.autograd.functional.jacobian"),
    ("import torch\nTABLE = {}\nTABLE['j'] = torch.autograd.functional.jacobian\n"
     "def jacobian_by_hand(x):\n    return TABLE['j'](torch.sin, x)\n", "torch.autograd.functional.jacobian"),
    ("import torch\nHOOKS = []\nHOOKS.append(torch.func.jacrev)\n"
     "def jacobian_by_hand(x):\n    return HOOKS[0](torch.sin)(x)\n", "torch.func.jacrev"),
    # The task's own name bound to the API after (or instead of) its def.
    ("import functools, torch\ndef jacobian_by_hand(x):\n    return x\n"
     "jacobian_by_hand = functools.partial(torch.autograd.functional.jacobian, torch.sin)\n",
     "torch.autograd.functional.jacobian"),
    ("def jacobian_by_hand(x):\n    return x\nfrom torch.autograd.functional import jacobian as jacobian_by_hand\n",
     "torch.autograd.functional.jacobian"),
    # A helper called at import fills a registry the task reads.
    ("import torch\n_api = {}\ndef _register():\n    _api['j'] = torch.autograd.functional.jacobian\n_register()\n"
     "def jacobian_by_hand(x):\n    return _api['j'](torch.sin, x)\n", "torch.autograd.functional.jacobian"),
    ("import torch\nbox = []\n_ = box.append(torch.func.jacrev)\n"
     "def jacobian_by_hand(x):\n    return box[0](torch.sin)(x)\n", "torch.func.jacrev"),
    ("import torch\nbox = []\n[box.append(torch.func.jacrev)]\n"
     "def jacobian_by_hand(x):\n    return box[0](torch.sin)(x)\n", "torch.func.jacrev"),
    # A plain class's method reached through a property made in the class body.
    ("import torch\nclass H:\n    def _get(self):\n        return torch.autograd.functional.jacobian\n"
     "    jac = property(_get)\ndef jacobian_by_hand(x):\n    return H().jac(torch.sin, x)\n",
     "torch.autograd.functional.jacobian"),
    # A registry filled at import with a helper that returns the API.
    ("import torch\n_tools = {}\ndef _tool():\n    return torch.autograd.functional.jacobian\n_tools['j'] = _tool\n"
     "def jacobian_by_hand(x):\n    return _tools['j']()(torch.sin, x)\n", "torch.autograd.functional.jacobian"),
    # ... by a function another one calls at import, by a helper given the API, by update()
    ("import torch\n_tools = {}\ndef _fill():\n    _tools['j'] = torch.autograd.functional.jacobian\n"
     "def _setup():\n    _fill()\n_setup()\ndef jacobian_by_hand(x):\n    return _tools['j'](torch.sin, x)\n",
     "torch.autograd.functional.jacobian"),
    ("import torch\n_tools = {}\ndef _put(name, value):\n    _tools[name] = value\n"
     "_put('j', torch.autograd.functional.jacobian)\ndef jacobian_by_hand(x):\n    return _tools['j'](torch.sin, x)\n",
     "torch.autograd.functional.jacobian"),
    ("import torch\n_tools = {}\ndef _register():\n    _tools.update(j=torch.autograd.functional.jacobian)\n"
     "_register()\ndef jacobian_by_hand(x):\n    return _tools['j'](torch.sin, x)\n",
     "torch.autograd.functional.jacobian"),
    # ... by a class body (it runs at import), or by a function rebinding a global
    ("import torch\n_tools = {}\nclass _Setup:\n    _tools.update(j=torch.func.jacrev)\n"
     "def jacobian_by_hand(x):\n    return _tools['j'](torch.sin)(x)\n", "torch.func.jacrev"),
    ("import torch\n_tools = None\ndef _setup():\n    global _tools\n    _tools = {'j': torch.func.jacrev}\n_setup()\n"
     "def jacobian_by_hand(x):\n    return _tools['j'](torch.sin)(x)\n", "torch.func.jacrev"),
    # torch.func under its older name.
    ("import functorch\ndef jacobian_by_hand(x):\n    return functorch.jacrev(lambda t: t)(x)\n", "functorch"),
    ("from functorch import jacfwd\ndef jacobian_by_hand(x):\n    return jacfwd(lambda t: t)(x)\n", "functorch"),
])
def test_what_the_task_runs_is_found_however_it_was_put_there(source, detail):
    uses = scan_module("ex02_jacobian", source).forbidden_uses(BY_ID["ex02_jacobian.jacobian_by_hand"])
    assert uses and uses[0].detail.startswith(detail), uses


def test_a_task_defined_under_an_if_or_a_try_is_defined_but_not_under_the_main_guard():
    source = ("import torch\nif hasattr(torch, 'func'):\n    def jacobian_by_hand(x):\n        return x\n"
              "else:\n    print('old torch')\ntry:\n    def jacobian_polar(p):\n        return p\nexcept Exception:\n    pass\n"
              "if __name__ == '__main__':\n    def jacobian_from_vjps(f, x):\n        return x\n")
    defined = scan_module("ex02_jacobian", source).defined
    assert {"jacobian_by_hand", "jacobian_polar"} <= defined and "jacobian_from_vjps" not in defined


@pytest.mark.parametrize("source", [
    # three tasks bound in one tuple: each is only its own value
    "import torch\ndef _a(x):\n    return x\ndef _c(f, x):\n    return torch.autograd.functional.jacobian(f, x)\n"
    "jacobian_by_hand, jacobian_from_vjps = _a, _c\n",
    # a call counter shared with a task that uses autograd, counted when the tasks run
    "import torch\nCALLS = {}\ndef jacobian_from_vjps(f, x):\n    CALLS['v'] = CALLS.get('v', 0) + 1\n"
    "    return torch.autograd.functional.jacobian(f, x)\ndef jacobian_by_hand(x):\n    CALLS['h'] = 1\n    return x\n",
    # an abstract helper base class whose autograd method the task never calls
    "import abc, torch\nclass Base(abc.ABC):\n    def check(self, f, x):\n        return torch.autograd.functional.jacobian(f, x)\n"
    "class Hand(Base):\n    def run(self, x):\n        return x\ndef jacobian_by_hand(x):\n    return Hand().run(x)\n",
])
def test_what_another_task_or_an_unused_method_does_is_not_the_tasks(source):
    assert scan_module("ex02_jacobian", source).forbidden_uses(BY_ID["ex02_jacobian.jacobian_by_hand"]) == []


def test_a_parameter_is_not_the_module_level_name_it_shadows():
    source = ("import torch\nfor x in [torch.ones(2, requires_grad=True)]:\n    print(torch.autograd.grad(x.sum(), x))\n"
              "def jacobian_by_hand(x):\n    return torch.stack([x, x])\n")
    assert scan_module("ex02_jacobian", source).forbidden_uses(BY_ID["ex02_jacobian.jacobian_by_hand"]) == []


def test_a_not_allowed_api_in_another_task_does_not_count():
    source = ("import torch\ndef jacobian_from_vjps(f, x):\n    return torch.autograd.grad(f(x), x)\n"
              "def jacobian_by_hand(x):\n    return torch.stack([x, x])\n")
    scan = scan_module("ex02_jacobian", source)
    assert scan.forbidden_uses(BY_ID["ex02_jacobian.jacobian_by_hand"]) == []


# One snippet per class of deliberate evasion (the code is ex03_vjp's).
EVASION = {

 "getattr_computed": "import torch\ndef vjp(f,x,v):\n    return getattr(torch, 'o'+'s')\n",
 "getattr_dunder": "def vjp(f,x,v):\n    return getattr(f, '__globals__')\n",
 "getattr_private": "import random\ndef vjp(f,x,v):\n    return getattr(random, '_os')\n",
 "setattr_torch": "import torch\ndef vjp(f,x,v):\n    setattr(torch, 'allclose', None)\n",
 "hasattr_computed": "def vjp(f,x,v):\n    n='a'\n    return hasattr(x, n)\n",
 "delattr": "import torch\ndef vjp(f,x,v):\n    delattr(torch, 'equal')\n",
 "attrgetter": "import operator\nimport torch\ndef vjp(f,x,v):\n    return operator.attrgetter('autograd.functional.vjp')(torch)\n",
 "attrgetter_from": "from operator import attrgetter as ag\nimport torch\ndef vjp(f,x,v):\n    return ag('autograd')(torch)\n",
 "methodcaller": "from operator import methodcaller\ndef vjp(f,x,v):\n    return methodcaller('backward')(x)\n",
 "formatter": "import string\nimport torch\ndef vjp(f,x,v):\n    return string.Formatter().get_field('0.autograd', [torch], {})\n",
 "format_field": "def vjp(f,x,v):\n    return '{0.__class__}'.format(x)\n",
 "format_module": "import torch\ndef vjp(f,x,v):\n    return '{0.autograd.functional}'.format(torch)\n",
 "format_computed": "import torch\ndef vjp(f,x,v):\n    t = '{0.' + 'autograd}'\n    return t.format(torch)\n",
 "wrapped": "import torch\ndef vjp(f,x,v):\n    return torch.autograd.grad.__wrapped__\n",
 "closure": "import torch\ndef vjp(f,x,v):\n    return torch.autograd.grad.__closure__[0].cell_contents\n",
 "globals_attr": "import torch\ndef vjp(f,x,v):\n    return torch.autograd.grad.__globals__\n",
 "dict": "import torch\ndef vjp(f,x,v):\n    return torch.__dict__\n",
 "code": "def vjp(f,x,v):\n    return f.__code__\n",
 "defaults": "def vjp(f,x,v):\n    return f.__defaults__\n",
 "getframe": "import sys\ndef vjp(f,x,v):\n    return sys._getframe(1)\n",
 "currentframe": "import inspect\ndef vjp(f,x,v):\n    return inspect.currentframe().f_back.f_locals\n",
 "tb_frame": "def vjp(f,x,v):\n    try:\n        1/0\n    except Exception as e:\n        return e.__traceback__.tb_frame\n",
 "gi_frame": "def g():\n    yield 1\ndef vjp(f,x,v):\n    return g().gi_frame\n",
 "gc": "import gc\ndef vjp(f,x,v):\n    return gc.get_referrers(x)\n",
 "gc_objects": "from gc import get_objects\ndef vjp(f,x,v):\n    return get_objects()\n",
 # A module handed around as a value: what is reached through it has no path.
 "module_in_a_list": "import sys\ndef vjp(f,x,v):\n    return [sys][0].setprofile(None)\n",
 "module_from_a_lambda": "import sys\ndef vjp(f,x,v):\n    (lambda: sys)().setprofile(None)\n",
 "module_in_a_tuple": "import builtins\ndef vjp(f,x,v):\n    for m in (builtins,):\n        return m.getattr(x, 'sh' + 'ape')\n",
 "module_as_an_argument": "import sys, weakref\ndef vjp(f,x,v):\n    return weakref.proxy(sys)\n",
 "module_chosen_by_an_expression": "import builtins\ndef vjp(f,x,v):\n    return (builtins or None).eval\n",
 "module_imported_in_the_function": ("def vjp(f,x,v):\n    import builtins\n    ga = [builtins][0].getattr\n"
                                     "    return ga(x, 'sh' + 'ape')\n"),
 "torch_internals_through_a_value": "import torch\ndef vjp(f,x,v):\n    return [torch][0]._C\n",
 "engine_through_a_value": ("import torch\ndef vjp(f,x,v):\n"
                            "    return [torch][0].autograd.Variable._execution_engine.run_backward\n"),
 "instance_dict_read": "class C:\n    def get(self, k):\n        return self.__dict__[k]\ndef vjp(f,x,v):\n    return C.get(x, 'y')\n",
 "dict_update_of_another_object": ("import torch\nclass C:\n    def m(self, o):\n        o.__dict__.update(a=1)\n"
                                   "def vjp(f,x,v):\n    C().m(torch)\n"),
 "unbound_method_dict_update": ("import torch\nclass C:\n    def set(self, **kw):\n        self.__dict__.update(kw)\n"
                                "def vjp(f,x,v):\n    C.set(torch.nn, patched=True)\n"),
 "init_called_on_a_module": ("import torch\nclass C:\n    def __init__(self, **kw):\n        self.__dict__.update(kw)\n"
                             "def vjp(f,x,v):\n    C.__init__(torch.nn, patched=True)\n"),
 "static_method_dict_update": ("import torch\nclass C:\n    @staticmethod\n    def m(self):\n        self.__dict__.update(a=1)\n"
                               "def vjp(f,x,v):\n    C.m(torch)\n"),
 "star_import_then_currentframe": "from inspect import *\ndef vjp(f,x,v):\n    return currentframe().f_back\n",
 "star_import_then_get_type_hints": "from typing import *\ndef vjp(f,x,v):\n    return get_type_hints(f)\n",
 "star_import_of_an_unreadable_module": "from importlib import *\ndef vjp(f,x,v):\n    return import_module('torch')\n",
 "random_os": "import random\ndef vjp(f,x,v):\n    random._os.system('x')\n",
 "collections_sys": "import collections\ndef vjp(f,x,v):\n    return collections._sys.modules\n",
 "enum_bltns": "import enum\ndef vjp(f,x,v):\n    return enum.bltns.eval('1')\n",
 "torch_C": "import torch\ndef vjp(f,x,v):\n    return torch._C\n",
 "serialization_pickle": "import torch\ndef vjp(f,x,v):\n    return torch.serialization.pickle\n",
 "from_private": "from random import _os\ndef vjp(f,x,v):\n    return _os\n",
 "match_class": "import torch\ndef vjp(f,x,v):\n    match torch:\n        case object(autograd=a):\n            return a\n",
 "get_type_hints": "import typing\ndef h(a: '__import__(\"os\")'): pass\ndef vjp(f,x,v):\n    return typing.get_type_hints(h)\n",
 "get_annotations": "import inspect\ndef h(a: 'x'): pass\ndef vjp(f,x,v):\n    return inspect.get_annotations(h, eval_str=True)\n",
 "annotations": "def h(a: 'x'): pass\ndef vjp(f,x,v):\n    return h.__annotations__\n",
 "exec": "def vjp(f,x,v):\n    exec('y=1')\n",
 "eval": "def vjp(f,x,v):\n    return eval('x')\n",
 "compile": "def vjp(f,x,v):\n    return compile('1','s','eval')\n",
 "dunder_import": "def vjp(f,x,v):\n    return __import__('os')\n",
 "importlib": "import importlib\ndef vjp(f,x,v):\n    return importlib.import_module('os')\n",
 "from_importlib": "from importlib import import_module\ndef vjp(f,x,v):\n    return import_module('os')\n",
 "eval_alias": "e = eval\ndef vjp(f,x,v):\n    return e('x')\n",
 "eval_param": "def run(eval, s):\n    return eval(s)\ndef vjp(f,x,v):\n    return run(eval, 'x')\n",
 "builtins_eval": "import builtins\ndef vjp(f,x,v):\n    return builtins.eval('x')\n",
 "getattr_alias": "g = getattr\nimport torch\ndef vjp(f,x,v):\n    return g(torch, 'autograd')\n",
 "patch_torch": "import torch\ntorch.allclose = lambda *a, **k: True\ndef vjp(f,x,v):\n    return x\n",
 "patch_tensor": "import torch\ndef vjp(f,x,v):\n    torch.Tensor.__eq__ = lambda a, b: True\n",
 "patch_numpy": "import numpy as np\ndef vjp(f,x,v):\n    np.allclose = None\n",
 "patch_aug": "import torch\ndef vjp(f,x,v):\n    torch.pi += 1\n",
 "import_grader": "import grader.sandbox.child\ndef vjp(f,x,v):\n    return x\n",
 "import_solutions": "from solutions.ex03_vjp import vjp\n",
 "import_tests": "def vjp(f,x,v):\n    import tests.conftest\n",
 "relative": "from . import ex01_backward\n",
 "vars_module": "import torch\ndef vjp(f,x,v):\n    return vars(torch)\n",
 "globals": "def vjp(f,x,v):\n    return globals()\n",
 "sys_modules": "import sys\ndef vjp(f,x,v):\n    return sys.modules['torch']\n",
 "setprofile": "import sys\ndef vjp(f,x,v):\n    sys.setprofile(None)\n",
 "pickle_loads": "import pickle\ndef vjp(f,x,v):\n    return pickle.loads(b'')\n",
 "torch_os": "import torch\ndef vjp(f,x,v):\n    return torch.os\n",
 "format_private": "import random\ndef vjp(f,x,v):\n    return '{0._os}'.format(random)\n",
 "str_format_module": "import torch\ndef vjp(f,x,v):\n    return str.format('{0.autograd}', torch)\n",
 "pydoc_locate": "import pydoc\ndef vjp(f,x,v):\n    return pydoc.locate('torch.autograd.functional.vjp')\n",
 "mock_patch": "from unittest import mock\ndef vjp(f,x,v):\n    mock.patch('torch.allclose', lambda *a: True).start()\n",
 "timeit_text": "import timeit\ndef vjp(f,x,v):\n    timeit.timeit('import os', number=1)\n",
 "ctypes_pythonapi": "import ctypes\ndef vjp(f,x,v):\n    ctypes.pythonapi.PyRun_SimpleString(b'import os')\n",
 "profile_run": "import cProfile\ndef vjp(f,x,v):\n    cProfile.run('import os')\n",
 "star_import": "from operator import *\nimport torch\ndef vjp(f,x,v):\n    return attrgetter('autograd')(torch)\n",
 "format_map_of_a_module": "import torch\ndef vjp(f,x,v):\n    return '{m.autograd}'.format_map({'m': torch})\n",
 "format_of_a_module_alias": "import torch\nT = torch\ndef vjp(f,x,v):\n    return '{0.autograd}'.format(*[T])\n",
 "global_eval": "def vjp(f,x,v):\n    global eval\n    return eval('torch.autograd')\n",
 "comprehension_eval": "def vjp(f,x,v):\n    [0 for eval in ()]\n    return eval('torch.autograd')\n",
 "ctypes_object_at_an_address": "import ctypes\ndef vjp(f,x,v):\n    return ctypes.cast(id(x), ctypes.py_object).value\n",
 "cpp_extension": "import torch.utils.cpp_extension as ce\ndef vjp(f,x,v):\n    return ce.load_inline('m', '')\n",
 # A class pattern reads attributes by name; a metaclass's __instancecheck__ lets any
 # subject through, the module's own class or not.
 "match_dunder_on_own_class": "import threading\nclass Meta(type):\n    def __instancecheck__(cls, o):\n        return True\n"
                              "class P(metaclass=Meta):\n    pass\ndef vjp(f,x,v):\n    match f:\n"
                              "        case P(__self__=r):\n            return r\n",
 "getprofile": "import threading\ndef vjp(f,x,v):\n    return threading.getprofile()\n",
 # The sandbox's own code runs on the standard library: a store into it changes what
 # the child sends (its reply's text, its seal), and one into another exercise module
 # puts a name there that module's scan never sees bound.
 "json_dumps_rebound": "import json\n_real = json.dumps\njson.dumps = lambda o, **k: _real(o)\ndef vjp(f,x,v):\n    return x\n",
 "json_encoder_method": "from json import JSONEncoder\ndef vjp(f,x,v):\n    JSONEncoder.encode = str\n    return x\n",
 "hmac_digest_rebound": "import hmac\ndef spy(*a):\n    return b''\nhmac.digest = spy\ndef vjp(f,x,v):\n    return x\n",
 "socket_method_in_a_for_target": "import socket\ndef vjp(f,x,v):\n    for socket.socket.sendall in [print]:\n        pass\n",
 "stdlib_store_as_with_target": "import contextlib, json\ndef vjp(f,x,v):\n    with contextlib.nullcontext(str) as json.dumps:\n"
                                "        return x\n",
 "stdlib_deleted": "import json\ndef vjp(f,x,v):\n    del json.dumps\n",
 "store_into_another_exercise_module": "import ex02_jacobian\nimport torch.autograd.functional as AF\n"
                                       "ex02_jacobian.jacobian_tool = AF.jacobian\n",
 "warnings_machinery_replaced": "import warnings\nwarnings.catch_warnings = object\n",
 "private_c_module_replaced": "import _hashlib\n_hashlib.hmac_digest = print\n",
 "builtins_replaced": "import builtins\nbuiltins.isinstance = lambda *a: True\n",
 "sys_hook_replaced": "import sys\nsys.getprofile = lambda: None\n",
 "a_switch_in_a_tuple_set_to_a_function": "import torch\ntorch.backends.cudnn.benchmark, torch.backends.cudnn.enabled = "
                                          "False, torch.autograd.grad\n",
 "torchscript_loaded_from_bytes": "import io, torch\ndef vjp(f,x,v):\n    return torch.jit.load(io.BytesIO(b''))(x)\n",
 "torch_load_of_bytes": "import io, torch\ndef vjp(f,x,v):\n    return torch.load(io.BytesIO(b''), weights_only=False)['tool'](f, x, v)\n",
 "torch_load_by_name": "from torch import load\nT = load(None)\n",
 "torch_serialization_load": "import torch.serialization as S\ndef vjp(f,x,v):\n    return S.load(None)\n",
 "numpy_load_pickled": "import numpy as np\ndef vjp(f,x,v):\n    return np.load(None, allow_pickle=True)\n",
 "forking_pickler": "from multiprocessing.reduction import ForkingPickler\ndef vjp(f,x,v):\n    return ForkingPickler.loads(b'')\n",
 "torch_package": "import torch.package as P\ndef vjp(f,x,v):\n    return P.PackageImporter(None)\n",
 "exported_program_loaded": "import torch\ndef vjp(f,x,v):\n    return torch.export.load(None)\n",
 "name_set_on_another_exercise_module": "import ex01_backward\nimport torch.autograd.functional as AF\n"
                                        "J = AF.jacobian\nex01_backward.helper = J\n",
 "api_in_a_tuple_set_on_another_exercise_module": "import ex01_backward, torch\n"
                                                  "ex01_backward.A, ex01_backward.B = 1, torch.autograd.grad\n",
 "a_string_set_on_another_exercise_module": "import ex01_backward\nex01_backward.STREAM = 'ext://torch.jit'\n",
 "sys_modules_handed_on_in_a_chain": "import sys\nclass Box:\n    pass\nb = Box()\nIN = 'torch' in sys.modules in b\n",
 "find_spec_returned_through_or": "from importlib.util import find_spec\ndef vjp(f,x,v):\n    return find_spec('sys') or None\n",
 "find_spec_in_bool_with_a_key": "import importlib.util\ndef vjp(f,x,v):\n    return bool(importlib.util.find_spec('os'), **{})\n",
 "find_spec_through_a_bool_of_its_own": "from importlib.util import find_spec\ndef bool(v):\n    return v\n"
                                         "def vjp(f,x,v):\n    return bool(find_spec('sys')).loader\n",
 "pydoc_safeimport": "import pydoc\ndef vjp(f,x,v):\n    return pydoc.safeimport('torch.jit')\n",
 "audit_hook": "import sys\nsys.addaudithook(lambda event, args: None)\n",
 "module_taken_out_of_a_list": "import torch\nU = [torch.jit][0].CompilationUnit('')\n",
 "autograd_through_a_library_table": "import numpy as np, torch\nB = 'torch'\nxp = {'torch': torch, 'numpy': np}[B]\n"
                                     "J = xp.func.jacrev(torch.sin)\n",
 "jit_through_a_library_table": "import math, torch\ndef vjp(f,x,v):\n"
                                "    return (math, torch)[x.dim() > 0].jit.script(f)\n",
 "func_through_a_table_kept_in_a_name": "import numpy as np, torch\n_TAB = {'torch': torch, 'numpy': np}\n"
                                        "_LIB = _TAB['torch' if True else 'numpy']\nJ = _LIB.func.jacrev(torch.sin)\n",
 "func_through_a_helper_returning_a_table": "import numpy as np, torch\ndef _pick():\n"
                                            "    return {'torch': torch, 'numpy': np}[KEY]\nKEY = 'torch'\n"
                                            "J = _pick().func.jacrev(torch.sin)\n",
 "module_taken_out_of_a_dict": "import torch\ndef vjp(f,x,v):\n    return {0: torch}[0].autograd.grad(f(x), x, v)\n",
 "aliased_module_taken_out_of_a_tuple": "from torch import jit\nU = (jit,)[0].CompilationUnit('')\n",
 "gc_callback": "import gc\ngc.callbacks.append(lambda *a: None)\n",
 "gc_threshold": "import gc\ngc.set_threshold(1, 1, 1)\n",
 "torch_library_kernel": "import torch\nL = torch.library.Library('aten', 'IMPL')\n",
 "find_spec_loader_used": "import importlib.util\ndef vjp(f,x,v):\n    s = importlib.util.find_spec('os')\n"
                          "    return s.loader.load_module()\n",
 "find_spec_from_import_loader": "from importlib.util import find_spec\ndef vjp(f,x,v):\n"
                                 "    return find_spec('os').loader\n",
 "sys_modules_read": "import sys\nIN = 'x' in sys.modules\ndef vjp(f,x,v):\n    return sys.modules['torch']\n",
 "metadata_entry_points": "from importlib import metadata\ndef vjp(f,x,v):\n    return metadata.entry_points()\n",
 "logging_config_importer_used": "import logging.config\nos = logging.config.BaseConfigurator.importer('os')\n",
 "logging_file_config": "import io, logging.config\nlogging.config.fileConfig(io.StringIO(''))\n",
 "match_positional_on_a_module": "import sys\nclass M:\n    __match_args__ = ('modules',)\ndef vjp(f,x,v):\n"
                                 "    match sys:\n        case M(mods):\n            return mods\n",
 "instancecheck": "class Meta(type):\n    def __instancecheck__(cls, o):\n        return True\n"
                  "class M(metaclass=Meta):\n    __match_args__ = ('modules',)\ndef vjp(f,x,v):\n"
                  "    match f:\n        case M(mods):\n            return mods\n",
 "torchscript_from_text": "import torch\ncu = torch.jit.CompilationUnit('def f(x):\\n    return x')\n"
                          "def vjp(f,x,v):\n    return cu.f(x)\n",
 "subclasshook": "import abc\nclass M(abc.ABC):\n    @classmethod\n    def __subclasshook__(cls, c):\n        return True\n"
                 "def vjp(f,x,v):\n    return isinstance(f, M)\n",
 "match_args_of_frames": "class T:\n    __match_args__ = ('tb_frame',)\ndef vjp(f,x,v):\n    return T\n",
 "abc_register": "import abc, types\nclass M(abc.ABC):\n    pass\nM.register(types.ModuleType)\ndef vjp(f,x,v):\n    return M\n",
 "add_to_class_on_torch": "import torch\ndef add_to_class(Class):\n    def wrapper(obj):\n        setattr(Class, obj.__name__, obj)\n"
                          "    return wrapper\ndef equal(a, b):\n    return True\nadd_to_class(torch)(equal)\n"
                          "def vjp(f,x,v):\n    return x\n",
}
EXPECTED_KIND = {
    "getattr_computed": "dynamic_attribute", "attrgetter": "dynamic_attribute", "format_field": "dynamic_attribute",
    "wrapped": "introspection", "closure": "introspection", "currentframe": "introspection", "gc": "introspection",
    "random_os": "module_internals", "enum_bltns": "module_internals", "serialization_pickle": "module_internals",
    "match_class": "introspection", "get_type_hints": "introspection", "exec": "dynamic_code",
    "match_dunder_on_own_class": "introspection", "getprofile": "introspection",
    **dict.fromkeys(("warnings_machinery_replaced", "builtins_replaced", "sys_hook_replaced", "private_c_module_replaced",
                     "a_switch_in_a_tuple_set_to_a_function"), "patching"),
    **dict.fromkeys(("logging_config_importer_used", "logging_file_config"), "dynamic_code"),
    **dict.fromkeys(("json_dumps_rebound", "json_encoder_method", "hmac_digest_rebound", "socket_method_in_a_for_target",
                     "stdlib_store_as_with_target", "stdlib_deleted", "store_into_another_exercise_module"), "patching"),
    **dict.fromkeys(("torchscript_loaded_from_bytes", "torch_package", "exported_program_loaded"), "dynamic_code"),
    **{name: "dynamic_code" for name in ("logging_config_variable_stored_into", "logging_config_variable_updated",
                                         "logging_config_variable_rebound", "logging_config_variable_factory",
                                         "logging_config_parameter_shadows", "logging_config_variable_aliased")},
    "match_positional_on_a_module": "introspection",
    "instancecheck": "introspection", "torchscript_from_text": "dynamic_code", "subclasshook": "introspection",
    "match_args_of_frames": "introspection", "abc_register": "introspection",
    "importlib": "dynamic_code", "patch_torch": "patching", "patch_tensor": "patching", "import_grader": "import_grader",
    "relative": "relative_import",
}


@pytest.mark.parametrize("name", sorted(EVASION))
def test_deliberate_evasion_is_found(name):
    scan = scan_module("ex03_vjp", EVASION[name])
    found = scan.escapes_for(BY_ID["ex03_vjp.vjp"]) or scan.module_level_escapes
    assert found, name
    if name in EXPECTED_KIND:
        assert EXPECTED_KIND[name] in {f.code for f in found}


# Reaching past what the source names: a module re-exported by another module of its
# own package, and a private name on a class reached from a module.
REACHED_PAST = {
    "reexported_torch": "import torch.nn.modules.module as M\ndef vjp(f, x, v):\n    return M.torch.autograd.grad\n",
    "reexported_stdlib": "import torch.nn.modules.module as M\ndef vjp(f, x, v):\n    return M.functools.partial\n",
    "reexported_submodule": "import torch.nn as nn\ndef vjp(f, x, v):\n    return nn.modules.module.torch.func\n",
    "engine_of_a_class": ("import torch\ndef vjp(f, x, v):\n"
                          "    return torch.autograd.Variable._execution_engine.run_backward\n"),
}


@pytest.mark.parametrize("name", sorted(REACHED_PAST))
def test_a_module_or_private_name_reached_past_the_public_path_is_internal(name):
    found = scan_module("ex03_vjp", REACHED_PAST[name]).escapes_for(BY_ID["ex03_vjp.vjp"])
    assert "module_internals" in {f.code for f in found}, found


# Honest code in ordinary styles: nothing here is evasion.
HONEST = {
 "a_model_compiled_and_a_solver_with_a_func": "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.compile()\n"
                                              "class Solver:\n    func = staticmethod(torch.sin)\n"
                                              "def vjp(f,x,v):\n    return Solver.func(x) * 0 + v\n",
 "modules_in_a_tuple_looped_over": "import numpy as np, torch\nfor m in (np, torch):\n    print(m.__version__)\n"
                                   "LIBS = {'np': np, 'torch': torch}\nprint(LIBS['np'].__name__)\n",
 "an_array_library_chosen_by_a_setting": "import math, numpy as np, torch\nBACKEND = 'torch'\n"
                                         "xp = {'torch': torch, 'numpy': np}[BACKEND]\n"
                                         "la = {'torch': torch.linalg, 'numpy': np.linalg}[BACKEND]\n"
                                         "def vjp(f,x,v):\n    m = (math, torch)[isinstance(x, torch.Tensor)]\n"
                                         "    return m.zeros_like(x) + xp.ones_like(x)\n",

 "print_tensor": "import torch\ndef vjp(f,x,v):\n    print(x)\n    return x\n",
 "input_var": "def vjp(f,x,v):\n    input = x\n    vars = 1\n    sum = 2\n    id = 3\n    open = 4\n    return input\n",
 "version": "import torch\nprint(torch.__version__)\n",
 "sys_stderr": "import sys\ndef vjp(f,x,v):\n    print('hi', file=sys.stderr)\n    sys.stderr.write('x')\n",
 "matplotlib_guard": "try:\n    import matplotlib.pyplot as plt\nexcept ImportError:\n    plt = None\n",
 "main_guard": "import torch\nif __name__ == '__main__':\n    import os\n    print(eval('1'), torch._C, getattr(torch, 'x' + 'y'))\n",
 "optim": "import torch\ndef vjp(f,x,v):\n    opt = torch.optim.SGD([x], lr=0.1)\n",
 "os_path": "import os\ndef vjp(f,x,v):\n    return os.path.join('a', 'b')\n",
 "logging": "import logging\nlog = logging.getLogger(__name__)\ndef vjp(f,x,v):\n    log.info('x')\n",
 "contextlib": "import contextlib\ndef vjp(f,x,v):\n    with contextlib.suppress(Exception):\n        pass\n",
 "typing_dc": "from typing import Callable\nfrom dataclasses import dataclass, field\n@dataclass\nclass P:\n    a: int = 0\n    b: list = field(default_factory=list)\n",
 "partial_lambda": "import functools\nf2 = functools.partial(lambda a, b: a + b, 1)\n",
 "no_grad": "import torch\ndef vjp(f,x,v):\n    with torch.no_grad():\n        return x * 2\n",
 "numpy": "import numpy as np\nimport torch\ndef vjp(f,x,v):\n    return torch.from_numpy(np.asarray(x.numpy()))\n",
 "math_alias": "import math as m\nC = m.pi\n",
 "fstring": "def vjp(f,x,v):\n    print(f'{x.shape} {x!r:>10}')\n",
 "annotations": "from __future__ import annotations\nimport torch\ndef vjp(f: callable, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:\n    return x\n",
 "constant": "import torch\nEYE = torch.eye(2)\n",
 "collections": "import collections\nc = collections.OrderedDict()\nd = collections.defaultdict(list)\n",
 "getattr_const": "def vjp(f,x,v):\n    return getattr(x, 'shape')\n",
 "format_plain": "import torch\ndef vjp(f,x,v):\n    print('{} {}'.format(torch, x.shape), '{0.shape}'.format(x), '%s' % torch)\n",
 "self_private": "class A:\n    def __init__(self):\n        self._x = 1\n    def g(self):\n        return self._x\n",
 "super_init": "import torch\nclass M(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n",
 "match_keyword_on_a_tensor": "import torch\ndef g(x):\n    match x:\n        case torch.Tensor(dtype=torch.float64, shape=s):\n"
                              "            return s\n        case _:\n            return None\n",
 # Settings and documented hooks students copy from tutorials, by attribute: only the
 # modules the sandbox runs on are closed to stores, and not for these.
 "module_settings_by_attribute": "import sys, warnings, logging\nimport torch\n"
                                  "warnings.showwarning = lambda *a, **k: None\nwarnings.formatwarning = str\n"
                                  "sys.argv = sys.argv[:1]\nsys.path += ['.']\nsys.dont_write_bytecode = True\n"
                                  "logging.raiseExceptions = False\nlogging.root.level = logging.INFO\n"
                                  "logging.Formatter.default_msec_format = '%s.%03d'\n"
                                  "torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True\n",
 "third_party_options": "try:\n    import pandas as pd\n    pd.options.display.max_rows = 10\nexcept ImportError:\n    pd = None\n"
                        "from IPython.core.interactiveshell import InteractiveShell\n"
                        "InteractiveShell.ast_node_interactivity = 'all'\n",
 "logging_dict_config_imported_by_name": "from logging.config import dictConfig\nLOGGING: dict = {'version': 1, "
                                         "'handlers': {'h': {'class': 'logging.StreamHandler', 'stream': 'ext://sys.stdout'}},"
                                         " 'root': {'handlers': ['h']}}\ndictConfig(LOGGING)\ndictConfig({'version': 1})\n",
 "prints_redirected_and_settings_by_item": "import os, sys, io\nimport matplotlib.pyplot as plt\n"
                                            "os.environ['KMP_DUPLICATE_LIB_OK'] = 'TRUE'\nplt.rcParams['figure.figsize'] = (6, 4)\n"
                                            "def quiet():\n    sys.stdout = io.StringIO()\n",
 "logging_dict_config_variable": "import logging\nimport logging.config\nLOGGING = {'version': 1, "
                                 "'handlers': {'h': {'class': 'logging.StreamHandler', 'level': logging.INFO}}, "
                                 "'root': {'handlers': ['h']}}\ndef setup():\n    logging.config.dictConfig(LOGGING)\n"
                                 "logging.config.dictConfig(LOGGING)\n",
 "constant_set_on_another_exercise_module": "import ex01_backward\nex01_backward.VERBOSE = False\n"
                                            "ex01_backward.EPS, ex01_backward.STEPS = -1e-6, 3\n",
 "optional_packages_probed": "import sys, importlib.util\nfrom importlib.util import find_spec\n"
                             "from importlib.metadata import version, PackageNotFoundError\n"
                             "IN_COLAB = 'google.colab' in sys.modules\nHAS_PLT = importlib.util.find_spec('matplotlib') is not None\n"
                             "if find_spec('tqdm'):\n    pass\nok = not find_spec('x') and bool(find_spec('y'))\n"
                             "try:\n    V = version('torch')\nexcept PackageNotFoundError:\n    V = None\n",
 "logging_dict_config_by_dict_call": "import logging, logging.config\nLEVEL = logging.INFO\nFMT: str = '%(message)s'\n"
                                     "LOGGING = dict(version=1, formatters=dict(plain=dict(format=FMT)), handlers=dict("
                                     "h={'class': 'logging.StreamHandler', 'level': LEVEL, 'formatter': 'plain'}), "
                                     "root=dict(handlers=['h'], level='DEBUG'))\nlogging.config.dictConfig(LOGGING)\n"
                                     "logging.config.dictConfig(dict(version=1, root=dict(level=LEVEL)))\nprint(LEVEL)\n",
 "logging_dict_config": "import logging\nimport logging.config\nlogging.config.dictConfig({'version': 1, "
                        "'disable_existing_loggers': False, 'handlers': {'h': {'class': 'logging.StreamHandler', "
                        "'level': logging.INFO}}, 'root': {'handlers': ['h']}})\nlog = logging.getLogger(__name__)\n",
 "d2l_add_to_class": "def add_to_class(Class):\n    def wrapper(obj):\n        setattr(Class, obj.__name__, obj)\n"
                     "    return wrapper\nclass Solver:\n    pass\n@add_to_class(Solver)\ndef vjp(self, f, x, v):\n    return x\n",
 "frozen_dataclass_post_init": "import dataclasses\n@dataclasses.dataclass(frozen=True)\nclass C:\n    eps: float = 1e-6\n"
                               "    def __post_init__(self):\n        object.__setattr__(self, 'eps', float(self.eps))\n",
 "match_own": "class P:\n    __match_args__ = ('a',)\n    def __init__(self): self.a = 1\ndef g(p):\n    match p:\n        case P(a=1):\n            return 1\n",
 "np_linalg": "import numpy as np\nx = np.linalg.norm(np.ones(2))\nr = np.random.default_rng(0)\n",
 "torch_fn": "import torch\nimport torch.nn.functional as F\ny = F.relu(torch.ones(2))\nz = torch.nn.functional.softplus(torch.ones(1))\n",
 "func_grad": "import torch\nfrom torch.func import grad\ng = grad(lambda t: t.sin().sum())\n",
 "type_name": "def g(x):\n    return type(x).__name__\n",
 "exit": "import sys\ndef g():\n    sys.exit(0)\n",
 "local_getattr_name": "def g(getattr):\n    return getattr\n",
 "timeit_a_function": "import timeit\ndef vjp(f,x,v):\n    return timeit.timeit(lambda: f(x), number=1)\n",
 "doctest_in_the_main_guard": "import doctest\nif __name__ == '__main__':\n    doctest.testmod()\n",
 "format_field_of_a_tensor": "import torch\ndef vjp(f,x,v):\n    return '{0.shape}'.format(torch.ones(2))\n",
 "class_name_in_a_repr": "class Run:\n    def __repr__(self):\n        return f'{self.__class__.__name__}()'\n",
 "honest_torch_idioms": ("import torch\n@torch.no_grad()\ndef g(x):\n    torch.manual_seed(0)\n"
                         "    return x.data.T + x.grad.data.zero_() + torch.Tensor.add(x, 1)\n"),
 "star_import_of_math": "from math import *\nC = pi\n",
 "own_private_attributes": ("import torch\nclass Buf:\n    def __init__(self):\n        self._tensor = torch.zeros(2)\n"
                            "        self._functions = []\n        self._utils = None\n"
                            "    @property\n    def t(self):\n        return self._tensor\n"),
 "reinitialised_by_itself": ("class SGD:\n    def __init__(self, lr):\n        self.lr = lr\n"
                             "    def reset(self):\n        self.__init__(self.lr)\n"),
 "a_parameter_named_like_a_module": ("import string, types\ndef log(string):\n    if len(string) > 0:\n"
                                     "        print([string])\ndef g(types=None):\n    return [types]\n"),
 "base_class_initialised_by_name": ("import torch\nclass M(torch.nn.Module):\n    def __init__(self):\n"
                                    "        torch.nn.Module.__init__(self)\n"),
 "settings_class_filled_from_keywords": ("class Config:\n    def __init__(self, **kwargs):\n        self.__dict__.update(kwargs)\n"
                                         "        self.__dict__['ready'] = True\n"),
 # A module printed, compared or tested, or given a shorter name, stays in plain view.
 "libraries_as_values": ("import numpy as np, torch\nfrom torch import nn\ntry:\n    import matplotlib.pyplot as plt\n"
                         "except ImportError:\n    plt = None\nfor _lib in (np, torch):\n    print(_lib.__name__)\n"
                         "CAN_PLOT = plt if plt is not None else False\nF, init = nn.functional, nn.init\n"
                         "BACKENDS = {'np': np, 'torch': torch}\n"
                         "def f(x, lib=np):\n    return lib.asarray(x)\n"
                         "class K:\n    def __init__(self):\n        self.np = np\n"),
 "module_shown_and_tested": ("import torch\ntry:\n    import matplotlib.pyplot as plt\nexcept ImportError:\n    plt = None\n"
                             "import numpy as np\nxp = np\nprint(torch, repr(np), f'{torch}')\n"
                             "if plt is not None and not isinstance(plt, str):\n    HAVE_PLOTS = True\n"
                             "OK = bool(plt) or hasattr(torch, 'func')\n"),
 # A star import is judged by what it binds and what of that is used, not by itself.
 "star_import_of_torch": "from torch import *\ndef vjp(f,x,v):\n    return ones(2) + zeros(2)\n",
 "star_import_of_typing": "from typing import *\ndef vjp(f: Callable, x, v) -> Optional[List[int]]:\n    return None\n",
 "star_import_of_torch_nn": "from torch.nn import *\nfrom torch.nn.functional import *\nloss = MSELoss()\n",
 "submodules_by_attribute": ("import torch, numpy as np, os\nimport matplotlib\n"
                             "a = torch.nn.functional.relu, torch.linalg.norm, torch.autograd.functional.jacobian\n"
                             "b = np.random.default_rng, np.linalg.inv, np.fft.fft, os.path.join\n"
                             "c = torch.distributions.normal.Normal, torch.nn.init.zeros_\n"
                             "d = torch.optim.lr_scheduler\n"),
 "dunders_on_torch_classes": "import torch\nn = torch.Tensor.__name__\nd = torch.nn.Module.__doc__\n",
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_code_is_not_evasion(name):
    scan = scan_module("ex03_vjp", HONEST[name])
    assert scan.syntax_error is None and scan.escapes == [], scan.escapes


def test_ordinary_student_code_passes():
    source = ("from __future__ import annotations\nimport math\nimport numpy as np\nimport torch\n"
              "import torch.nn.functional as F\nfrom typing import Callable\n"
              "from ex05_control_flow import f\n"
              "def helper(x):\n    return F.softplus(x) + math.pi * np.float64(1.0)\n"
              "print(__name__)\n")
    scan = scan_module("ex07_higher_order", source)
    assert scan.escapes == []


def test_a_long_expression_is_read_and_one_too_deep_for_python_is_a_syntax_error():
    long = "import torch\ndef vjp(f, x, v):\n    return " + " + ".join(["x"] * 2000) + "\n"
    scan = scan_module("ex03_vjp", long)
    assert scan.syntax_error is None and scan.escapes_for(BY_ID["ex03_vjp.vjp"]) == []
    deep = "def vjp(f, x, v):\n    return " + " + ".join(["x"] * 100_000) + "\n"
    assert scan_module("ex03_vjp", deep).syntax_error is not None


def test_a_syntax_error_is_reported_with_its_line():
    scan = scan_module("ex01_backward", "x = 1\ndef f(:\n")
    assert scan.syntax_error is not None and scan.syntax_error.line == 2


def test_evasion_inside_one_task_costs_that_task_only():
    source = ("import random\nimport torch\n"
              "def helper():\n    random._os._exit(0)\n"
              "def vjp(f, x, v):\n    helper()\n"
              "def multitask_grads(task_losses, params, task_weights):\n    return params\n")
    scan = scan_module("ex03_vjp", source)
    assert [f.detail for f in scan.escapes_for(BY_ID["ex03_vjp.vjp"])] == ["random._os"]
    assert scan.escapes_for(BY_ID["ex03_vjp.multitask_grads"]) == []
    assert scan.module_level_escapes == []


@pytest.mark.parametrize("source", [
    "import random\nrandom._os._exit(0)\n",         # runs at import
    "from solutions.ex03_vjp import vjp\n",          # the grader's code
    "import torch\ntorch.allclose = lambda *a, **k: True\n",  # patches torch for every task
])
def test_evasion_at_module_level_costs_every_task(source):
    scan = scan_module("ex03_vjp", source + "def multitask_grads(a, b, c):\n    return b\n")
    assert scan.module_level_escapes
    assert scan.escapes_for(BY_ID["ex03_vjp.multitask_grads"])


@pytest.mark.parametrize("source", [
    "import torch\n@(lambda f: setattr(torch, 'allclose', f))\ndef unused():\n    pass\n",   # a decorator
    "import torch\ndef unused(a=eval('1')):\n    pass\n",                                   # a default
    "import torch\ndef unused(a: eval('1')):\n    pass\n",                                  # an annotation
    "import torch\nclass Unused:\n    x = torch._C\n",                                     # a class body
    "import torch\nclass Unused:\n    @staticmethod\n    def m(a=torch._C):\n        pass\n",  # a method's default
])
def test_what_a_definition_runs_at_import_is_module_level(source):
    scan = scan_module("ex03_vjp", source + "def multitask_grads(a, b, c):\n    return b\n")
    assert scan.module_level_escapes
    assert scan.escapes_for(BY_ID["ex03_vjp.multitask_grads"])


def test_a_method_body_runs_only_when_called():
    source = "import torch\nclass Helper:\n    def m(self):\n        return eval('1')\n"
    assert scan_module("ex03_vjp", source).module_level_escapes == []


def test_the_main_guard_is_never_read():
    """A student's own experiments under the main guard: neither evasion nor not-allowed."""
    source = ("import torch\ndef jacobian_by_hand(x):\n    return torch.stack([x, x])\n"
              "if __name__ == '__main__':\n    from torch.autograd.functional import jacobian\n"
              "    print(jacobian(lambda t: t, torch.ones(2)), eval('1'))\n")
    scan = scan_module("ex02_jacobian", source)
    assert scan.forbidden_uses(BY_ID["ex02_jacobian.jacobian_by_hand"]) == []
    assert scan.escapes == [] and scan.module_level_escapes == []


def test_a_not_allowed_api_reached_by_a_constant_getattr_is_found():
    source = "import torch\ndef vjp(f, x, v):\n    return getattr(torch.autograd, 'functional').vjp(f, x, v)[1]\n"
    uses = scan_module("ex03_vjp", source).forbidden_uses(BY_ID["ex03_vjp.vjp"])
    assert uses and uses[0].detail.startswith("torch.autograd.functional")


def test_not_allowed_apis_count_in_what_the_task_runs_not_in_module_level_code() -> None:
    # ex08's class SmoothReLU(torch.autograd.Function) runs at import; numerical_grad
    # ("no autograd") never calls it.
    source = ("import torch\nclass SmoothReLU(torch.autograd.Function):\n    pass\n"
              "def numerical_grad(f, x, eps=1e-6):\n    return x\n")
    assert scan_module("ex08_custom_function", source).forbidden_uses(BY_ID["ex08_custom_function.numerical_grad"]) == []


def test_a_module_level_lambda_the_task_calls_is_part_of_the_task() -> None:
    source = ("import torch\njac = lambda f, x: torch.autograd.functional.jacobian(f, x)\n"
              "def jacobian_by_hand(x):\n    return jac(lambda t: t, x)\n")
    found = scan_module("ex02_jacobian", source).forbidden_uses(BY_ID["ex02_jacobian.jacobian_by_hand"])
    assert [f.line for f in found] == [2]


# A name given two dotted paths, as guarded code does. Reading aliases once went
# round for ever on these, and the grader never answered.
TWO_PATHS = {
    "fallback": "import torch\ntry:\n    act = torch.special.expit\nexcept AttributeError:\n    act = torch.sigmoid\n",
    "rebound": "import torch\nf = torch.sin\nf = torch.cos\n",
    "each_other": "import torch as a, numpy as b\na = b.ndarray\nb = a.Tensor\n",
}


@contextlib.contextmanager
def _within(seconds: int):
    def stop(signum, frame):
        raise TimeoutError(f"the scan took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name", sorted(TWO_PATHS))
def test_a_name_given_two_paths_is_read_and_honest(name):
    source = (SOLUTIONS / "ex03_vjp.py").read_text() + "\n" + TWO_PATHS[name]
    with _within(20):
        scan = scan_module("ex03_vjp", source)
        assert scan.escapes == [] and scan.module_level_escapes == []
        for task in TASKS:
            if task.module == "ex03_vjp":
                assert scan.escapes_for(task) == [] and scan.forbidden_uses(task) == []


def test_a_name_given_two_paths_keeps_full_marks(grade, submission):
    folder = submission(append={"ex03_vjp": TWO_PATHS["fallback"] + TWO_PATHS["rebound"]})
    with _within(300):
        report = grade(folder, patterns=("ex03",))
    assert lost_tasks(report) == set()


# Each answer of a scan is worked out once and kept: the order of the questions
# must not change any answer.
ORDERED = {**{f"solution {m}": (m, (SOLUTIONS / f"{m}.py").read_text()) for m in MODULES},
           **{f"evasion {n}": ("ex03_vjp", (SOLUTIONS / "ex03_vjp.py").read_text() + "\n" + EVASION[n])
              for n in ("getattr_alias", "eval_param", "random_os", "patch_torch", "global_eval", "format_module")},
           "helpers": ("ex03_vjp", "import random, torch\nJ = torch.autograd.functional.jacobian\n"
                       "def helper():\n    random._os._exit(0)\n    return J\n"
                       "def vjp(f, x, v):\n    return helper()(f, x)\n"
                       "def multitask_grads(a, b, c):\n    return getattr(b, 'grad')\n")}


def _answers(module: str, source: str, reverse: bool) -> dict:
    scan = scan_module(module, source)
    tasks = [t for t in TASKS if t.module == module]
    answers = {}
    if reverse:
        answers["module"] = scan.module_level_escapes
        answers["all"] = scan.escapes
        tasks.reverse()
    for task in tasks:
        if reverse:
            forbidden = scan.forbidden_uses(task)
            answers[task.name] = (scan.escapes_for(task), forbidden)
        else:
            answers[task.name] = (scan.escapes_for(task), scan.forbidden_uses(task))
    if not reverse:
        answers["all"] = scan.escapes
        answers["module"] = scan.module_level_escapes
    return answers


@pytest.mark.parametrize("name", sorted(ORDERED))
def test_the_answers_do_not_depend_on_the_order_of_the_questions(name):
    module, source = ORDERED[name]
    assert _answers(module, source, reverse=False) == _answers(module, source, reverse=True)


def test_a_submission_is_walked_once(monkeypatch):
    """Every task and rule is answered from one walk of each module: no node's
    children are read twice, and ast.walk is never used."""
    calls = {"walk": 0, "children": 0}
    child_nodes, iter_child_nodes = pyast.child_nodes, ast.iter_child_nodes

    def counted_children(node):
        calls["children"] += 1
        return child_nodes(node)

    def counted_walk(node):
        calls["walk"] += 1
        return iter_child_nodes(node)

    monkeypatch.setattr(pyast, "child_nodes", counted_children)
    monkeypatch.setattr(ast, "iter_child_nodes", counted_walk)
    nodes = 0
    for module in MODULES:
        scan = scan_module(module, (SOLUTIONS / f"{module}.py").read_text())
        for task in TASKS:
            if task.module == module:
                assert scan.escapes_for(task) == [] and scan.forbidden_uses(task) == []
        assert scan.module_level_escapes == [] and scan.escapes == [] and scan.identifiers
        nodes += len(scan.index.nodes)
    assert calls == {"walk": 0, "children": nodes}


def test_text_too_slow_to_read_costs_its_module_only(tmp_path, monkeypatch):
    """An alias chain thousands of links long once kept a worker reading for minutes:
    past its reading time a module is "too complex", and never reaches the sandbox."""
    import shutil
    import time

    from grader import api, static, submission
    from grader.options import Options
    from grader.status import Status

    shutil.copytree(SOLUTIONS, tmp_path / "sub")
    chain = "import torch\na0 = torch.autograd\n" + "".join(f"a{i + 1} = a{i}.grad\n" for i in range(3000))
    with open(tmp_path / "sub" / "ex01_backward.py", "a", encoding="utf-8") as f:
        f.write("\n" + chain)
    monkeypatch.setattr(submission, "SCAN_SECONDS", 0.5)
    started = time.monotonic()
    prepared = api.prepare(tmp_path / "sub", Options(seed=1, patterns=("ex01", "ex02")))
    assert time.monotonic() - started < 30  # unbounded, this submission reads for an hour
    for task in prepared.tasks:
        verdict = prepared.verdicts[task.id]
        if task.module == "ex01_backward":
            assert verdict is not None and (verdict.status, verdict.code) == (Status.ERROR, "too_complex")
            assert verdict.params == {"module": "ex01_backward", "seconds": 0.5}
        else:
            assert verdict is None
    assert set(static.runnable_sources(prepared.submission)) == set(MODULES) - {"ex01_backward"}


def test_source_python_runs_out_of_memory_on_is_a_syntax_error():
    scan = scan_module("ex03_vjp", "def helper(x):\n    return " + "-" * 100_000 + "x\n")
    assert scan.syntax_error is not None and scan.syntax_error.code == "syntax_error"


# What honest settings objects and debug output may do, and the near variants that
# turn the same forms on torch or on another object.
_SETTINGS = "import json\nimport pprint\nimport torch\n\nclass Config:\n    def __init__(self):\n        self.eps = 1e-6\n\nCFG = Config()\n"


@pytest.mark.parametrize("line", [
    "print(vars(CFG))", "pprint.pprint(vars(CFG))", "print(json.dumps(vars(CFG), indent=2))",
    "for k, v in vars(CFG).items():\n        print(k, v)", "x = CFG.__dict__['eps']",
    "print('{a} {b}'.format(**locals()))", "print(pprint.pformat(locals(), width=60))",
])
def test_namespaces_of_ones_own_or_only_shown_are_honest(line):
    source = _SETTINGS + f"def jacobian_by_hand(x):\n    a = b = 1\n    {line}\n    return x\n"
    assert scan_module("ex02_jacobian", source).escapes == [], line


@pytest.mark.parametrize("line", [
    "vars(torch)['autograd']", "json.dumps(vars(torch), default=lambda m: m.grad)",
    "pprint.pprint(vars(torch), stream=S)", "for k, v in vars(Plain).items():\n        print(k, v)",
    "print(Odd.__dict__['autograd'])", "'{a}'.format(**vars(torch)).autograd", "print(vars(ODD)['t'])",
])
def test_namespaces_of_other_objects_stay_introspection(line):
    source = _SETTINGS + ("class Odd:\n    @property\n    def __dict__(self):\n        return torch.__dict__\n\n"
                          "ODD = Odd()\nPlain = Config\nS = None\n")
    source += f"def jacobian_by_hand(x):\n    {line}\n    return x\n"
    assert scan_module("ex02_jacobian", source).escapes, line


@pytest.mark.parametrize("rebinding", [
    "def Tools(obj=None):\n    return obj\n", "Tools = lambda obj=None: obj\n",
    "import torch as Tools\n",
])
def test_a_settings_class_whose_name_is_bound_again_makes_no_settings_object(rebinding):
    source = ("import torch\n\nclass Tools:\n    def __init__(self, x=None):\n        self.x = x\n\n" + rebinding
              + "\nCFG = Tools(torch)\n\ndef jacobian_by_hand(x):\n    print(1, vars(CFG)['autograd'])\n    return x\n")
    assert scan_module("ex02_jacobian", source).escapes


def test_a_decorated_settings_class_is_one_only_as_a_dataclass():
    base = "import dataclasses\nimport torch\n\n{deco}\nclass Tools:\n    x: int = 1\n\nCFG = Tools()\n"
    use = "\ndef jacobian_by_hand(x):\n    n = len(vars(CFG))\n    return x\n"
    assert scan_module("ex02_jacobian", base.format(deco="@dataclasses.dataclass(frozen=True)") + use).escapes == []
    assert scan_module("ex02_jacobian", base.format(deco="@functools.cache") + use).escapes


def test_a_settings_class_that_sets_attributes_by_computed_names_is_no_plain_namespace():
    """setattr(self, k, v) could set __class__: the instance would then have another
    class's namespace (a __dict__ property handing out torch's)."""
    source = ("import torch\n\nclass Evil:\n    @property\n    def __dict__(self):\n        return torch.__dict__\n\n"
              "class Config:\n    def __init__(self, **kw):\n        for k, v in kw.items():\n            setattr(self, k, v)\n\n"
              "CFG = Config(**{'__class__': Evil})\n\n"
              "def jacobian_by_hand(x):\n    for k, v in vars(CFG).items():\n        x = x\n    return x\n")
    assert "vars" in {f.detail for f in scan_module("ex02_jacobian", source).escapes}
    # printing it stays honest: text reaches nothing (the class that hands out torch's
    # namespace is evasion of its own)
    printed = source.replace("    for k, v in vars(CFG).items():\n        x = x\n", "    print(vars(CFG))\n")
    assert "vars" not in {f.detail for f in scan_module("ex02_jacobian", printed).escapes}


# Honest settings and plotting code, in the forms students write them.
_HONEST_SETTINGS = {
    "activations_by_name": ("import torch.nn.functional as F\n"
                            "ACTS = {name: getattr(F, name) for name in ('relu', 'softplus', 'gelu', 'silu')}\n"
                            "def plot(name):\n    return ACTS[name]\n"),
    "enumerated_names": "import torch\nfor i, name in enumerate(['sin', 'cos', 'tanh']):\n    f = getattr(torch, name)\n",
    "hasattr_in_init": ("class C:\n    def __init__(self, **kw):\n        for k, v in kw.items():\n"
                        "            if not hasattr(self, k):\n                setattr(self, k, v)\n"),
    "frozen_post_init": ("import dataclasses\n@dataclasses.dataclass(frozen=True)\nclass C:\n    lr: float = 1\n"
                         "    def __post_init__(self):\n        for f in dataclasses.fields(self):\n"
                         "            object.__setattr__(self, f.name, float(getattr(self, f.name)))\n"),
    "annotated_settings": ("import logging\nclass TrainConfig:\n    def __init__(self):\n        self.lr = 0.1\n"
                           "CFG: TrainConfig = TrainConfig()\n"
                           "def jacobian_by_hand(x):\n    logging.getLogger('lab').debug('%s', vars(CFG))\n    return x\n"),
    "fields_printed": ("import dataclasses\n@dataclasses.dataclass\nclass C:\n    lr: float = 1\nCFG = C()\n"
                       "def jacobian_by_hand(x):\n    for f in dataclasses.fields(CFG):\n"
                       "        print(f.name, getattr(CFG, f.name))\n    return x\n"),
    "class_attributes": ("class Config:\n    lr = 0.1\n    steps = 3\n"
                         "SETTINGS = {k: v for k, v in vars(Config).items() if not k.startswith('_')}\n"),
    "simple_namespace": ("from types import SimpleNamespace\nCFG = SimpleNamespace(lr=0.1)\n"
                         "def jacobian_by_hand(x):\n"
                         "    print(', '.join(f'{k}={v}' for k, v in sorted(vars(CFG).items())))\n    return x\n"),
    "rebound_under_the_main_guard": ("class C:\n    def __init__(self, v=False):\n        self.v = v\nCFG = C()\n"
                                     "def jacobian_by_hand(x):\n    n = len(vars(CFG))\n    return x\n"
                                     "if __name__ == '__main__':\n    CFG = C(v=True)\n"),
}


@pytest.mark.parametrize("name", sorted(_HONEST_SETTINGS))
def test_honest_settings_and_names_by_loop_are_not_evasion(name):
    source = "import torch\n" + _HONEST_SETTINGS[name]
    assert scan_module("ex02_jacobian", source).escapes == [], name


@pytest.mark.parametrize("header, rebinding", [
    ("from dataclasses import dataclass\n", "def dataclass(cls):\n    return torch\n"),
    ("from dataclasses import dataclass\n", "dataclass = lambda cls: torch\n"),
    ("import dataclasses\n", "dataclasses.dataclass = lambda cls: torch\n"),
])
def test_a_dataclass_decorator_that_means_something_else_makes_no_settings_class(header, rebinding):
    deco = "@dataclass" if "from" in header else "@dataclasses.dataclass"
    source = (f"import torch\n{header}{rebinding}\n{deco}\nclass Config:\n    lr: float = 0.1\n\n"
              "def jacobian_by_hand(x):\n    n = len(vars(Config))\n    return x\n")
    assert "vars" in {f.detail for f in scan_module("ex02_jacobian", source).escapes}


@pytest.mark.parametrize("source", [
    # fields of the student's own, feeding getattr on an object __init__ was run on
    ("class N:\n    def __init__(self, name):\n        self.name = name\n"
     "def fields(names):\n    return [N(n) for n in names]\n"
     "class Grab:\n    def __init__(self, *names):\n        for f in fields(names):\n"
     "            self.out = getattr(self, f.name)\n"
     "def jacobian_by_hand(x):\n    self = torch\n    g = Grab.__new__(Grab)\n    Grab.__init__(self, 'autograd')\n    return x\n"),
    # __init__ taken as a value, run on a module
    ("class Put:\n    def __init__(self, k, v):\n        setattr(self, k, v)\n"
     "def jacobian_by_hand(x):\n    Put.__init__.__call__(torch, 'sin', torch.cos)\n    return x\n"),
    # enumerate shadowed in the function
    ("def jacobian_by_hand(x, enumerate=lambda names: [(0, 'autograd')]):\n"
     "    for i, name in enumerate(('mean',)):\n        a = getattr(torch, name)\n    return x\n"),
    # a power module kept as a class attribute
    ("import inspect\nclass Lib:\n    m = inspect\ndef jacobian_by_hand(x):\n    Lib.m.stack()\n    return x\n"),
], ids=["own_fields", "init_as_a_value", "shadowed_enumerate", "module_as_a_class_attribute"])
def test_the_honest_forms_turned_on_other_objects_stay_evasion(source):
    assert scan_module("ex02_jacobian", "import torch\n" + source).escapes
