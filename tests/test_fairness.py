"""Honest code never costs points: correct submissions in varied, ordinary styles.

Each style is the reference solution with one function or module restyled the
way students write (printing, logging, helpers, numpy round trips, their own
experiments under the main guard...). Every task of the restyled module keeps
full marks. Beside them, near variants that evade the rules stay ``forbidden``.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import SOLUTIONS, by_task


def _solution(module: str) -> str:
    return (SOLUTIONS / f"{module}.py").read_text(encoding="utf-8")


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def restyle(module: str, function: str | None = None, *, first: str = "", replace: str = "",
            top: str = "", bottom: str = "", also: dict[str, str] | None = None) -> dict[str, str]:
    """The solution module with ``first`` lines opening ``function``'s body (after
    its docstring), or the function replaced whole, ``top`` after the imports'
    ``from __future__`` line and ``bottom`` at the end; ``also`` is one more
    text edit, ``{"<function>": old line, "": new line}``."""
    lines = _solution(module).splitlines(keepends=True)
    tree = ast.parse("".join(lines))
    if function:
        node = _function(tree, function)
        if replace:
            lines[node.lineno - 1 - len(node.decorator_list): node.end_lineno] = [textwrap.dedent(replace).lstrip("\n")]
        elif first:
            body = node.body[1] if isinstance(node.body[0], ast.Expr) and isinstance(
                getattr(node.body[0], "value", None), ast.Constant) else node.body[0]
            indent = " " * body.col_offset
            lines.insert(body.lineno - 1, textwrap.indent(textwrap.dedent(first).strip("\n") + "\n", indent))
    text = "".join(lines)
    if also:
        (old,) = (v for k, v in also.items() if k)
        assert old in text
        text = text.replace(old, also[""])
    if top:
        future = "from __future__ import annotations\n"
        text = text.replace(future, future + textwrap.dedent(top).lstrip("\n"), 1)
    if bottom:
        text += "\n\n" + textwrap.dedent(bottom).lstrip("\n")
    return {module: text}


SHARED_HELPER = """
def _fresh_leaf(t):
    return t.detach().clone().requires_grad_(True)
"""

# The central difference, for the styles whose helper classes compute it.
CENTRAL_DIFFERENCE = """
import torch


def central_difference(f, x, eps):
    flat = x.detach().reshape(-1)
    out = torch.zeros_like(flat)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = eps
        out[i] = (f((flat + step).reshape(x.shape)) - f((flat - step).reshape(x.shape))) / (2 * eps)
    return out.reshape(x.shape)
"""

# name: (module, restyled text); every task of the module must keep full marks.
STYLES = {
    "print_tensor_where_autograd_is_not_allowed": restyle(
        "ex02_jacobian", "jacobian_by_hand", first="print('x is', x)\nprint(repr(x), str(x))"),
    "print_tensor_where_forward_ad_is_not_allowed": restyle(
        "ex07_higher_order", "jvp_by_double_backward", first="print(x, u)"),
    "print_tensor_that_requires_grad": restyle(
        "ex03_vjp", "vjp", first="print(x.detach().clone().requires_grad_(True) * 2)"),
    "locals_named_like_builtins": restyle("ex02_jacobian", "jacobian_polar", replace="""
        def jacobian_polar(p):
            input = p
            vars = (input[0], input[1])
            sum, id = vars
            c, s = torch.cos(id), torch.sin(id)
            return torch.stack([torch.stack([c, -sum * s]), torch.stack([s, sum * c])])
        """),
    "open_as_a_variable_name": restyle("ex04_detach", "semi_gradient", first="open = 1\nlist = [open]"),
    "torch_version_printed": restyle("ex03_vjp", top="import torch\nprint(torch.__version__)\n"),
    "stderr_through_sys": restyle("ex03_vjp", "vjp", top="import sys\n",
                                  first="print('computing vjp', file=sys.stderr)\nsys.stderr.flush()"),
    "optional_plotting_import": restyle("ex05_control_flow", top="""
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            plt = None
        """),
    "main_guard_checks_with_the_not_allowed_api": restyle("ex02_jacobian", bottom="""
        if __name__ == "__main__":
            import os
            from torch.autograd.functional import jacobian

            x = torch.tensor([1.0, 2.0])
            f = lambda t: torch.stack([t[0] ** 2 + t[1], t[0] + t[1] ** 3])
            print(os.getcwd(), torch.allclose(jacobian(f, x), jacobian_by_hand(x)))
            print(torch.func.jacrev(f)(x), eval("1 + 1"))
        """),
    "logging": restyle("ex04_detach", "detach_grads", top="import logging\nlog = logging.getLogger(__name__)\n",
                       first="log.debug('detach_grads %s', x.shape)\nlogging.info('called')"),
    "typing_and_a_dataclass": restyle("ex06_losses", top="""
        from dataclasses import dataclass, field
        from typing import Callable, Optional

        @dataclass
        class Run:
            name: str
            losses: list = field(default_factory=list)
            note: Optional[str] = None

        LOG: Callable[[str], None] = lambda s: None
        """, bottom="RUNS = [Run('mse')]\n"),
    "functools_partial_and_lambdas": restyle("ex07_higher_order", "hvp", top="import functools\n", first="""
        square = lambda t: t * t
        scale = functools.partial(torch.mul, 1.0)
        _ = scale(square(v))
        """),
    "a_helper_shared_by_two_tasks": restyle("ex03_vjp", top=SHARED_HELPER, replace="""
        def vjp(f, x, v):
            x = _fresh_leaf(x)
            y = f(x)
            if not y.requires_grad:
                return torch.zeros_like(x)
            y.backward(gradient=v.detach().to(y.dtype))
            return torch.zeros_like(x) if x.grad is None else x.grad.detach().clone()
        """, also={"multitask_grads": "leaves = tuple(p.detach().clone().requires_grad_(True) for p in params)",
                   "": "leaves = tuple(_fresh_leaf(p) for p in params)"}),
    "no_grad_block": restyle("ex04_detach", "semi_gradient", replace="""
        def semi_gradient(w, s, s_next, r, gamma):
            w = w.detach().clone().requires_grad_(True)
            s, s_next = s.detach().to(w.dtype), s_next.detach().to(w.dtype)
            with torch.no_grad():
                target = r + gamma * (w * s_next).sum()
            loss = ((w * s).sum() - target) ** 2
            loss.backward()
            return w.grad.detach().clone()
        """),
    "numpy_round_trip": restyle("ex02_jacobian", "jacobian_polar", top="import numpy as np\n", replace="""
        def jacobian_polar(p):
            r, theta = p.detach().numpy().astype(np.float64)
            J = np.array([[np.cos(theta), -r * np.sin(theta)], [np.sin(theta), r * np.cos(theta)]])
            return torch.from_numpy(J).to(p.dtype)
        """),
    "torch_func_where_allowed": restyle("ex05_control_flow", "derivative_curve", replace="""
        def derivative_curve(f, x):
            x = x.detach().clone()
            if not f(x.clone().requires_grad_(True)).requires_grad:
                return torch.zeros_like(x)
            return torch.func.vmap(torch.func.grad(lambda t: f(t).sum()))(x).detach()
        """),
    "autograd_grad_where_allowed": restyle("ex01_backward", "grad_of_2xtx", replace="""
        def grad_of_2xtx(x):
            x = (x.detach().clone() if x.is_floating_point() else x.detach().to(torch.get_default_dtype()))
            x.requires_grad_(True)
            (g,) = torch.autograd.grad(2 * torch.dot(x, x), x)
            return g.detach()
        """),
    "os_path_and_a_constant_path": restyle("ex06_losses", top="import os\nHERE = os.path.join('results', 'plots')\n",
                                           bottom="OUT = os.path.join(HERE, 'loss.png')\n"),
    "math_as_m_and_fstrings": restyle("ex02_jacobian", "jacobian_by_hand", top="import math as m\n",
                                      first="label = f'{x.shape} at {m.pi:.2f} {x!r}'\n_ = len(label)"),
    "annotations_and_a_constant_tensor": restyle("ex07_higher_order", top="""
        import torch
        EYE: torch.Tensor = torch.eye(2)
        HALF: float = 0.5
        """, bottom="def helper(t: torch.Tensor, k: int = 2) -> torch.Tensor:\n    return t * k\n"),
    "collections_and_contextlib": restyle("ex06_losses", "loss_grads", top="import collections\nimport contextlib\n",
                                          first="""
        seen = collections.Counter([1, 1, 2])
        with contextlib.suppress(KeyError):
            seen.pop(3)
        """),
    "warnings_and_asserts": restyle("ex04_detach", "nonleaf_grads", top="import warnings\n", first="""
        assert x.dim() == 1, "x is a vector"
        warnings.warn("nonleaf_grads: a reminder to myself")
        """),
    "constant_getattr_and_timing": restyle("ex01_backward", "sequential_grads", top="import time\n", first="""
        started = time.perf_counter()
        shape = getattr(x, "shape")
        _ = hasattr(x, "grad"), started, shape
        """),
    "a_small_class_with_init_and_call": restyle("ex03_vjp", bottom="""
        class Scaled:
            def __init__(self, k):
                self.k = k
                self._cache = {}

            def __call__(self, t):
                return self.k * t

            def __repr__(self):
                return f"Scaled({self.k})"
        """),
    "environment_variable_read": restyle("ex05_control_flow", "control_flow_grad", top="import os\n",
                                         first="verbose = os.environ.get('DEBUG', '') == '1'"),
    # A hand-written backward in the styles of PyTorch's own "Extending torch.autograd".
    "once_differentiable_backward": restyle("ex08_custom_function", also={
        "x": "    @staticmethod\n    def backward(ctx, grad_output",
        "": "    @staticmethod\n    @torch.autograd.function.once_differentiable\n    def backward(ctx, grad_output"}),
    "once_differentiable_imported": restyle("ex08_custom_function",
                                            top="from torch.autograd.function import once_differentiable\n", also={
        "x": "    @staticmethod\n    def backward(ctx, grad_output",
        "": "    @staticmethod\n    @once_differentiable\n    def backward(ctx, grad_output"}),
    "backward_bound_in_the_class_body": restyle("ex08_custom_function", top="""
        def _backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * torch.sigmoid(x)
        """, also={"x": "    @staticmethod\n    def backward(ctx, grad_output",
                   "": "    backward = staticmethod(_backward)\n\n    @staticmethod\n    def unused(ctx, grad_output"}),
    "softplus_grad_through_autograd_grad": restyle("ex08_custom_function", also={
        "x": "    y.backward(gradient=grad_output.detach().to(y.dtype))\n    return x.grad.detach().clone()",
        "": "    (g,) = torch.autograd.grad(y, x, grad_outputs=grad_output.detach().to(y.dtype))\n    return g.detach()"}),
    "numerical_grad_with_itertools_under_no_grad": restyle("ex08_custom_function", "numerical_grad",
                                                           top="import itertools\n", replace="""
        @torch.no_grad()
        def numerical_grad(f, x, eps=1e-6):
            out = torch.empty_like(x)
            for idx in itertools.product(*(range(n) for n in x.shape)):
                step = torch.zeros_like(x)
                step[idx] = eps
                out[idx] = (f(x + step) - f(x - step)) / (2 * eps)
            return out
        """),
    "a_named_tuple_returned_with_a_doctest": restyle("ex04_detach", bottom="""
        from typing import NamedTuple


        class Grads(NamedTuple):
            gz: torch.Tensor
            gy: torch.Tensor


        _detach_grads = detach_grads


        def detach_grads(x: torch.Tensor) -> Grads:
            \"\"\">>> detach_grads(torch.arange(3.0))  # doctest: +SKIP\"\"\"
            return Grads(*_detach_grads(x))
        """),
    "match_on_a_shape_and_unicode_names": restyle("ex02_jacobian", "jacobian_polar", replace="""
        def jacobian_polar(p: "torch.Tensor | None") -> torch.Tensor:
            match tuple(p.shape):
                case (2,):
                    r, θ = p[0], p[1]
                case _:
                    raise ValueError(f"{p.shape=}")
            cosθ, sinθ = torch.cos(θ), torch.sin(θ)
            return torch.stack([torch.stack([cosθ, -r * sinθ]), torch.stack([sinθ, r * cosθ])])
        """),
    "module_getattr_and_all": restyle("ex03_vjp", bottom="""
        __all__ = ["vjp", "vjps_on_one_graph", "multitask_grads"]


        def __getattr__(name: str):
            raise AttributeError(name)
        """),
    "a_module_importing_another_of_the_submission": restyle("ex02_jacobian", top="from ex01_backward import grad_of_2xtx\n",
                                                            bottom="""
        def _cross_check():
            return grad_of_2xtx(torch.ones(2))
        """),
    "enable_grad_and_lambda_defaults_where_autograd_is_allowed": restyle("ex01_backward", "grad_of_2xtx", replace="""
        @torch.enable_grad()
        def grad_of_2xtx(x, _twice=lambda t, k=2: k * t):
            dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
            x = x.detach().clone().to(dtype).requires_grad_(True)
            (g,) = torch.autograd.grad(_twice(torch.dot(x, x)), x, retain_graph=True)
            return g.detach()
        """),
    "seed_boilerplate_with_cudnn_switches": restyle("ex01_backward", "train_linear_regression", top="""
        import random

        import numpy as np
        import torch


        def set_seed(seed: int = 0, deterministic: bool = True) -> None:
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
            torch.backends.cudnn.deterministic = deterministic
            torch.backends.cudnn.benchmark = not deterministic
            torch.backends.cuda.matmul.allow_tf32 = False


        set_seed(42)
        """, first="set_seed(0)"),
    "no_grad_by_its_autograd_name": restyle("ex02_jacobian", "jacobian_by_hand", replace="""
        @torch.autograd.no_grad()
        def jacobian_by_hand(x):
            a, b = x[0], x[1]
            with torch.autograd.grad_mode.inference_mode():
                one = torch.ones((), dtype=x.dtype)
            return torch.stack([torch.stack([2 * a, one]), torch.stack([one.clone(), 3 * b ** 2])])
        """),
    "a_helper_class_with_a_method_the_task_does_not_call": restyle("ex08_custom_function", "numerical_grad", top=CENTRAL_DIFFERENCE + textwrap.dedent("""
        import torch



        class GradChecker:
            def __init__(self, eps=1e-6):
                self.eps = eps
                self.grad = None

            def numerical(self, f, x):
                self.grad = central_difference(f, x, self.eps)
                return self.grad

            def analytical(self, f, x):
                x = x.detach().clone().requires_grad_(True)
                f(x).backward()
                return x.grad
        """), replace="""
        def numerical_grad(f, x, eps=1e-6):
            return GradChecker(eps).numerical(f, x)
        """),
    # Two results as views of disjoint parts of one tensor share no memory.
    "two_results_as_views_of_one_tensor": restyle("ex06_losses", "loss_grads", replace="""
        def loss_grads(w, X, y):
            w = w.detach().clone().requires_grad_(True)
            losses = torch.nn.MSELoss(reduction="none")(X @ w, y.to(w.dtype))
            (g_sum,) = torch.autograd.grad(losses.sum(), w)
            both = torch.stack([g_sum / X.shape[0], g_sum]).detach()
            return both[0], both[1]
        """),
    "a_shared_logger_called_in_every_function": restyle("ex08_custom_function", "numerical_grad", top="""
        import logging

        import torch

        log = logging.getLogger(__name__)
        log.info("loaded")


        def _autograd_check(f, x):
            log.debug("checking against autograd")
            x = x.detach().clone().requires_grad_(True)
            f(x).backward()
            return x.grad
        """, first="log.debug('numerical_grad %s', tuple(x.shape))"),
    "helper_classes_of_its_own_with_a_method_named_grad": restyle("ex08_custom_function", "numerical_grad", top=CENTRAL_DIFFERENCE + textwrap.dedent("""
        import torch



        class _Base:
            def __init__(self, eps):
                self.eps = eps

            def check(self, f, x):
                x = x.detach().clone().requires_grad_(True)
                f(x).backward()
                return x.grad


        class FiniteDifference(_Base):
            def grad(self, f, x):
                return central_difference(f, x, self.eps)


        checker = FiniteDifference(1e-6)
        checker.check(lambda t: (t * t).sum(), torch.ones(2))
        """), replace="""
        def numerical_grad(f, x, eps=1e-6):
            return FiniteDifference(eps).grad(f, x) if eps != checker.eps else checker.grad(f, x)
        """),
    # TorchScript in the module: autograd still runs in plain Python, where it is seen.
    "a_torchscript_helper_beside_autograd": restyle("ex01_backward", "grad_of_2xtx", replace="""
        @torch.jit.script
        def _square_sum(t: torch.Tensor) -> torch.Tensor:
            return (t * t).sum()


        def grad_of_2xtx(x):
            x = (x.detach().clone() if x.is_floating_point() else x.to(torch.get_default_dtype())).requires_grad_()
            (2 * _square_sum(x)).backward()
            return x.grad
        """),
    # A custom Function organised as students do: a helper on the class and a class
    # constant used by backward, ctx typed, a self-check method nothing calls.
    "a_function_class_with_helpers_types_and_a_self_check": restyle("ex08_custom_function", bottom="""


        class SmoothReLU(torch.autograd.Function):
            LIMIT = 30.0

            @staticmethod
            def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
                ctx.save_for_backward(x)
                return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

            @staticmethod
            def sigmoid(x):
                return torch.sigmoid(x.clamp(-SmoothReLU.LIMIT * 100, SmoothReLU.LIMIT * 100))

            @staticmethod
            def backward(ctx: torch.autograd.function.FunctionCtx, grad_output: torch.Tensor) -> torch.Tensor:
                (x,) = ctx.saved_tensors
                return grad_output * SmoothReLU.sigmoid(x)

            @staticmethod
            def selftest():
                x = torch.randn(6, dtype=torch.float64, requires_grad=True)
                assert torch.autograd.gradcheck(SmoothReLU.apply, (x,))
                (g,) = torch.autograd.grad(SmoothReLU.apply(x).sum(), x)
                return g
        """),
    # Logging set up as tutorials do, in any style: a helper with the level as a
    # parameter, a stream object, an f-string format, a level from the environment,
    # the config as a keyword, a base dict spread into it.
    "logging_configured_in_many_styles": restyle("ex04_detach", top="""
        import logging
        import logging.config
        import os
        import sys

        BASE = {"version": 1, "disable_existing_loggers": False}


        def setup_logging(level="INFO"):
            name = "lab"
            logging.config.dictConfig(config={
                **BASE,
                "formatters": {"plain": {"format": f"%(asctime)s {name} %(message)s"}},
                "handlers": {"out": {"class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "plain"}},
                "root": {"handlers": ["out"], "level": os.environ.get("LAB_LOG_LEVEL", level)},
            })


        setup_logging("DEBUG" if os.environ.get("LAB_DEBUG") else "INFO")


        class Short(logging.Formatter):
            def format(self, record):
                return record.getMessage()[:80]


        logging.config.dictConfig({"version": 1, "incremental": False, "disable_existing_loggers": False,
                                   "formatters": {"short": {"()": "ex04_detach.Short"}},
                                   "handlers": {"out": {"class": "logging.StreamHandler", "formatter": "short",
                                                        "stream": "ext://sys.stderr"}},
                                   "loggers": {"lab": {"handlers": ["out"]}}})
        """),
    # float64 as the default, set as numerical code often does: an integer input's
    # gradient in that default is right.
    "float64_as_the_default_dtype": restyle("ex01_backward", top="""
        import torch

        torch.set_default_dtype(torch.float64)
        """),
    # Where the contract asks only for the value, the formula is honest.
    "formulas_where_the_contract_asks_for_values": restyle("ex06_losses", "loss_grads", replace="""
        def loss_grads(w, X, y):
            g_sum = 2 * X.T @ (X @ w - y.to(w.dtype))
            return g_sum / X.shape[0], g_sum
        """),
    "the_broadcast_gradient_as_a_formula": restyle("ex06_losses", "broadcast_grad", replace="""
        def broadcast_grad(X, W, b, Y):
            residual = 2 * (X @ W + b - Y) / Y.numel()
            return X.T @ residual, residual.sum(dim=0)
        """),
    "gradient_descent_with_the_gradient_written_out": restyle("ex01_backward", "train_linear_regression", replace="""
        def train_linear_regression(X, y, lr, steps):
            w = torch.zeros(X.shape[1], dtype=X.dtype)
            for _ in range(steps):
                w = w - lr * 2 * X.T @ (X @ w - y.to(X.dtype)) / X.shape[0]
            return w
        """),
    "d2l_check_d_over_a_as_the_answer": restyle("ex05_control_flow", "control_flow_grad", replace="""
        def control_flow_grad(a):
            a = a.detach()
            return (f(a) / a).to(a.dtype)
        """),
    "the_docstring_formula_for_the_semi_gradient": restyle("ex04_detach", "semi_gradient", replace="""
        def semi_gradient(w, s, s_next, r, gamma):
            s, s_next = s.to(w.dtype), s_next.to(w.dtype)
            target = r + gamma * torch.dot(w, s_next)
            return (2 * (torch.dot(w, s) - target) * s).detach()
        """),
    # Autograd that the submission's own frames never call: a transform built at
    # import runs torch.autograd.grad from torch's code when the task calls it.
    "a_torch_func_transform_built_at_import": restyle("ex01_backward", "grad_of_2xtx", top="""
        import torch

        _GRAD = torch.func.grad(lambda t: 2 * torch.dot(t, t))
        """, replace="""
        def grad_of_2xtx(x):
            dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
            return _GRAD(x.detach().to(dtype))
        """),
    "functional_jacobian_where_allowed": restyle("ex05_control_flow", "derivative_curve", replace="""
        def derivative_curve(f, x):
            return torch.autograd.functional.jacobian(lambda t: f(t).sum(), x.detach().clone())
        """),
    "forward_mode_where_allowed": restyle("ex04_detach", "semi_gradient", top="""
        import torch.autograd.forward_ad as fwAD
        """, replace="""
        def semi_gradient(w, s, s_next, r, gamma):
            w, s, s_next = w.detach(), s.detach().to(w.dtype), s_next.detach().to(w.dtype)
            target = r + gamma * (w * s_next).sum()
            columns = []
            for i in range(w.numel()):
                with fwAD.dual_level():
                    dual = fwAD.make_dual(w, torch.eye(w.numel(), dtype=w.dtype)[i].reshape(w.shape))
                    loss = ((dual * s).sum() - target) ** 2
                    columns.append(fwAD.unpack_dual(loss).tangent)
            return torch.stack(columns).reshape(w.shape)
        """),
    # A settings object filled the usual ways, built at import: setattr of each keyword
    # in __init__, and a dataclass whose __post_init__ converts its fields by name (its
    # annotations are the classes the module wrote, not postponed text).
    "settings_filled_by_setattr_in_init": restyle("ex06_losses", top="""
        class Hparams:
            def __init__(self, **kwargs):
                for k, v in kwargs.items():
                    setattr(self, k, v)


        HP = Hparams(scale=1.0, verbose=False)
        """),
    # (without ``from __future__ import annotations``: the grader's own must not leak
    # into the student's module)
    "dataclass_fields_converted_in_post_init": (lambda module: {module: _solution(module).replace(
        "from __future__ import annotations\n", "").replace("import torch\n", textwrap.dedent("""
        import torch
        from dataclasses import dataclass, fields


        @dataclass
        class TDConfig:
            gamma_default: float = 0.9
            verbose: bool = False

            def __post_init__(self):
                for f in fields(self):
                    setattr(self, f.name, f.type(getattr(self, f.name)))


        CFG = TDConfig(gamma_default=1)
        """).lstrip("\n"), 1)})("ex04_detach"),
    "getattr_over_a_literal_list_of_names": restyle("ex06_losses", "loss_grads", replace="""
        def loss_grads(w, X, y):
            w = w.detach().clone().requires_grad_(True)
            loss = (X @ w - y.to(w.dtype)) ** 2
            grads = []
            for red in ["mean", "sum"]:
                (g,) = torch.autograd.grad(getattr(loss, red)(), w, retain_graph=True)
                grads.append(g.detach())
            return tuple(grads)
        """),
    "getattr_over_a_module_constant_of_names": restyle("ex06_losses", "loss_grads", top="""
        REDUCTIONS = ("mean", "sum")
        """, replace="""
        def loss_grads(w, X, y):
            w = w.detach().clone().requires_grad_(True)
            loss = (X.to(w.dtype) @ w - y.to(w.dtype)) ** 2
            grads = []
            for red in REDUCTIONS:
                (g,) = torch.autograd.grad(getattr(loss, red)(), w, retain_graph=True)
                grads.append(g.detach())
            return tuple(grads)
        """),
    "a_table_of_torchs_functions_by_name": restyle("ex05_control_flow", bottom="""
        CURVES = {name: getattr(torch, name) for name in ("sin", "cos", "tanh")}
        """),
    # Autograd in TorchScript is seen by its graph; a comment naming torch.func's vmap
    # changes nothing.
    "torchscript_autograd_beside_a_comment_naming_vmap": restyle("ex03_vjp", "vjp", top="""
        from typing import List, Optional

        import torch


        # (torch.func.vmap could batch this, but the exercise wants one pass)
        @torch.jit.script
        def _vjp(y: torch.Tensor, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            gos: List[Optional[torch.Tensor]] = [v]
            g = torch.autograd.grad([y], [x], gos, allow_unused=True)[0]
            if g is None:
                return torch.zeros_like(x)
            return g
        """, replace="""
        def vjp(f, x, v):
            x = x.detach().clone().requires_grad_(True)
            y = f(x)
            if not y.requires_grad:
                return torch.zeros_like(x)
            return _vjp(y, x, v.to(y.dtype)).detach()
        """),
    # Debug prints of one's own namespaces and settings.
    "printing_vars_dict_and_locals": restyle("ex03_vjp", "vjp", top="""
        class Config:
            def __init__(self):
                self.eps = 1e-6


        CFG = Config()
        """, first="""
        print(vars(CFG), CFG.__dict__, f"{locals()}")
        print(repr(globals())[:0], end="")
        """),
}


@pytest.mark.parametrize("name", sorted(STYLES))
def test_honest_styles_keep_full_marks(name, grade, submission):
    replaced = STYLES[name]
    (module,) = replaced
    report = grade(submission(replace=replaced), patterns=(module,))
    lost = {t["id"]: (t["status"], [c["feedback"] for c in t["checks"] if c["score"] < c["max_score"]][:1])
            for t in report["tasks"] if t["score"] < t["max_score"]}
    assert report["score"] == report["max_score"], lost


@pytest.mark.parametrize("decorators, body", [
    ("    @staticmethod\n    @torch.autograd.function.once_differentiable\n    @torch.no_grad()\n",
     "return grad_output * torch.sigmoid(x)"),
    ("    @staticmethod\n", "with torch.set_grad_enabled(False):\n            return grad_output * torch.sigmoid(x)"),
    # torch's distributions compute .probs under their own enable_grad: a graph torch
    # builds itself, not the submission's autograd
    ("    @staticmethod\n", "return grad_output * torch.distributions.Bernoulli(logits=x).probs"),
    ("    @staticmethod\n    @torch.no_grad()\n", "return grad_output * torch.distributions.Bernoulli(logits=x).probs"),
])
def test_a_decorated_backward_or_one_with_grad_mode_off_keeps_full_marks(decorators, body, grade, submission):
    source = _solution("ex08_custom_function")
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SmoothReLU")
    backward = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "backward")
    lines = source.splitlines(keepends=True)
    start = min(d.lineno for d in backward.decorator_list) - 1
    new = (decorators + "    def backward(ctx, grad_output):\n        (x,) = ctx.saved_tensors\n        " + body + "\n")
    text = "".join(lines[:start]) + new + "".join(lines[backward.end_lineno:])
    report = grade(submission(replace={"ex08_custom_function": text}), patterns=("softplus_grad",))
    (task,) = report["tasks"]
    assert task["score"] == task["max_score"], [c["feedback"] for c in task["checks"]][:1]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_an_argument_perturbed_and_put_back_up_to_rounding_costs_the_contract_check_only(seed, grade, submission):
    """x perturbed in place and restored by adding back: x may end one ulp off. The
    values are right, so only the check of the contract's rules may cost a point;
    a perturbation left in x (the mutant numgrad_perturbation_left) still fails."""
    replaced = restyle("ex08_custom_function", "numerical_grad", replace="""
        def numerical_grad(f, x, eps=1e-6):
            flat = x.detach().view(-1)
            grad = torch.zeros_like(x)
            out = grad.view(-1)
            for i in range(x.numel()):
                flat[i] += eps
                plus = f(x)
                flat[i] -= 2 * eps
                minus = f(x)
                flat[i] += eps
                out[i] = (plus - minus) / (2 * eps)
            return grad
        """)
    (task,) = grade(submission(replace=replaced), patterns=("numerical_grad",), seed=seed)["tasks"]
    lost = [c["id"] for c in task["checks"] if c["score"] < c["max_score"]]
    assert lost in ([], ["numerical_contract"]), lost


def test_torch_optim_in_a_task_keeps_full_marks(submission, tmp_path):
    """Through ``grade run`` and its own sandbox server: the shared test server may
    have loaded torch._dynamo for another submission already."""
    replaced = restyle("ex01_backward", "train_linear_regression", replace="""
        def train_linear_regression(X, y, lr, steps):
            X, y = X.detach(), y.detach().to(X.dtype)
            w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
            opt = torch.optim.SGD([w], lr=lr)
            for _ in range(steps):
                opt.zero_grad()
                ((X @ w - y) ** 2).mean().backward()
                opt.step()
            return w.detach().clone()
        """)
    out = tmp_path / "r.json"
    subprocess.run([str(Path(sys.executable).parent / "grade"), "run", str(submission(replace=replaced)),
                    "-k", "train_linear_regression", "-o", str(out)], capture_output=True, timeout=300)
    task = by_task(json.loads(out.read_text()))["ex01_backward.train_linear_regression"]
    assert task["status"] == "passed", task["checks"][0]["feedback"]


# Near variants of honest styles that evade the rules: (module, text, task that is forbidden).
EVASIVE_VARIANTS = {
    "not_allowed_api_outside_the_main_guard": ("ex02_jacobian.jacobian_by_hand", restyle(
        "ex02_jacobian", "jacobian_by_hand", first="from torch.autograd.functional import jacobian\n"
        "_ = jacobian(lambda t: t, x)")),
    "a_guard_that_is_not_the_main_guard": ("ex02_jacobian.jacobian_by_hand", restyle(
        "ex02_jacobian", "jacobian_by_hand", first="if __name__ != '__main__':\n"
        "    _ = torch.autograd.functional.jacobian(lambda t: t, x)")),
    "a_builtin_name_used_as_the_builtin": ("ex02_jacobian.jacobian_polar", restyle(
        "ex02_jacobian", "jacobian_polar", first="input = vars(torch)['autograd']")),
    "print_of_an_evaluated_string": ("ex02_jacobian.jacobian_by_hand", restyle(
        "ex02_jacobian", "jacobian_by_hand", first="print(eval('torch.autograd'))")),
    "guarded_import_of_the_not_allowed_api": ("ex03_vjp.vjp", restyle("ex03_vjp", "vjp", top="""
        try:
            from torch.autograd.functional import vjp as _vjp
        except ImportError:
            _vjp = None
        """, first="_ = _vjp(lambda t: t, x, v)")),
    "a_module_reached_through_logging": ("ex04_detach.detach_grads", restyle(
        "ex04_detach", "detach_grads", top="import logging\n", first="_ = logging.sys.modules")),
    "partial_of_getattr": ("ex03_vjp.vjp", restyle("ex03_vjp", "vjp", top="import functools\n",
                                                  first="_ = functools.partial(getattr, torch)('autograd')")),
    "lambda_through_attrgetter": ("ex03_vjp.vjp", restyle("ex03_vjp", "vjp", top="import operator\n",
                                                         first="_ = (lambda m: operator.attrgetter('func')(m))(torch)")),
    "dataclass_field_through_a_format_field": ("ex06_losses.loss_grads", restyle(
        "ex06_losses", "loss_grads", first="_ = '{0.autograd.functional}'.format(torch)")),
    "a_helper_class_method_the_task_does_call": ("ex08_custom_function.numerical_grad", restyle(
        "ex08_custom_function", "numerical_grad", top="""
        import torch


        class Checker:
            def analytical(self, f, x):
                x = x.detach().clone().requires_grad_(True)
                f(x).backward()
                return x.grad
        """, replace="""
        def numerical_grad(f, x, eps=1e-6):
            return Checker().analytical(f, x)
        """)),
    "a_torch_switch_set_to_an_api": ("ex02_jacobian.jacobian_by_hand", restyle(
        "ex02_jacobian", "jacobian_by_hand", first="torch.backends.cudnn.helper = torch.autograd.functional.jacobian")),
    "a_name_stored_where_torch_has_no_switch": ("ex02_jacobian.jacobian_by_hand", restyle(
        "ex02_jacobian", "jacobian_by_hand", first="J = torch.nn.functional.relu\ntorch.backends.cudnn.helper = J")),
    "numpy_patched_for_a_comparison": ("ex06_losses.loss_grads", restyle(
        "ex06_losses", "loss_grads", top="import numpy as np\n", first="np.allclose = lambda *a, **k: True")),
    # What honest settings objects and debug prints may do, turned on torch.
    "an_init_run_on_a_module_by_keyword": ("ex02_jacobian.jacobian_by_hand", restyle(
        "ex02_jacobian", "jacobian_by_hand", top="""
        class Settings:
            def __init__(self, **kwargs):
                for k, v in kwargs.items():
                    setattr(self, k, v)
        """, first="Settings.__init__(self=torch.autograd.functional, jacobian=None)")),
    "a_post_init_run_on_a_module": ("ex02_jacobian.jacobian_by_hand", restyle(
        "ex02_jacobian", "jacobian_by_hand", top="""
        class Settings:
            def __post_init__(self, key="jacobian", value=None):
                setattr(self, key, value)
        """, first="Settings.__post_init__(torch.autograd.functional)")),
    "getattr_over_a_literal_list_on_a_module": ("ex03_vjp.vjp", restyle(
        "ex03_vjp", "vjp", first="for part in ['autograd']:\n    _ = getattr(torch, part)")),
    "a_looped_name_rebound_before_getattr": ("ex03_vjp.vjp", restyle(
        "ex03_vjp", "vjp", first="for part in ['real']:\n    part = '__class__'\n    _ = getattr(x, part)")),
    "a_namespace_read_not_only_printed": ("ex03_vjp.vjp", restyle(
        "ex03_vjp", "vjp", first="print(vars(torch)['autograd'])")),
    "a_dunder_read_further_than_printed": ("ex03_vjp.vjp", restyle(
        "ex03_vjp", "vjp", first="print(torch.autograd.grad.__globals__['_engine_run_backward'])")),
}


@pytest.mark.parametrize("name", sorted(EVASIVE_VARIANTS))
def test_evasive_variants_of_honest_styles_stay_forbidden(name, grade, submission):
    task_id, replaced = EVASIVE_VARIANTS[name]
    report = grade(submission(replace=replaced), patterns=(task_id,))
    assert by_task(report)[task_id]["status"] == "forbidden"
    assert by_task(report)[task_id]["score"] == 0


# The contract asks for these gradients "with autograd": the same values written out
# as a formula (or by finite differences) lose the task, and say why.
SHORTCUTS = {
    "ex01_backward.grad_of_2xtx": restyle("ex01_backward", "grad_of_2xtx", replace="""
        def grad_of_2xtx(x):
            return 4 * (x if x.is_floating_point() else x.to(torch.get_default_dtype()))
        """),
    "ex05_control_flow.second_price_grad": restyle("ex05_control_flow", "second_price_grad", replace="""
        def second_price_grad(bids):
            out = torch.zeros_like(bids)
            out[torch.topk(bids, 2).indices[1]] = 1.0
            return out
        """),
    "ex05_control_flow.derivative_curve": restyle("ex05_control_flow", "derivative_curve", replace="""
        def derivative_curve(f, x):
            h = 1e-6
            with torch.no_grad():
                return (f(x + h) - f(x - h)) / (2 * h)
        """),
    "ex04_detach.detach_grads": restyle("ex04_detach", "detach_grads", replace="""
        def detach_grads(x):
            return x * x, 2 * x
        """),
}


@pytest.mark.parametrize("task_id", sorted(SHORTCUTS))
def test_a_gradient_written_as_a_formula_loses_a_task_that_asks_for_autograd(task_id, grade, submission):
    report = grade(submission(replace=SHORTCUTS[task_id]), patterns=(task_id,))
    task = by_task(report)[task_id]
    assert (task["status"], task["score"]) == ("failed", 0), [c["feedback"] for c in task["checks"]][:1]
    # A check that found the values right says why it failed all the same; one that
    # found them wrong (finite differences are not exact) says that.
    codes = {c["code"] for c in task["checks"]}
    assert "no_autograd" in codes and codes <= {"no_autograd", "wrong_values", "wrong_values_visible"}, codes
    assert any("without running autograd" in c["feedback"] for c in task["checks"])


def test_helpers_shared_between_the_modules_keep_full_marks(grade, submission):
    """Reusing one's own vjp for the Jacobian, and a plain helper of another module in
    a by-hand task: what the imported names run is allowed there."""
    ex01 = restyle("ex01_backward", bottom="""
        def first_two(x):
            return x[0], x[1]
        """)
    ex02 = restyle("ex02_jacobian", "jacobian_from_vjps", replace="""
        def jacobian_from_vjps(f, x):
            x = x.detach()
            y = f(x)
            rows = []
            for i in range(y.numel()):
                v = torch.zeros(y.numel(), dtype=y.dtype).reshape(y.shape)
                v.view(-1)[i] = 1
                rows.append(ex03_vjp.vjp(f, x, v))
            return torch.stack(rows).reshape(y.shape + x.shape) if rows else x.new_zeros(y.shape + x.shape)
        """, top="import ex03_vjp\nfrom ex01_backward import first_two\n",
        also={"jacobian_by_hand": "    x1, x2 = x[0], x[1]\n", "": "    x1, x2 = first_two(x)\n"})
    report = grade(submission(replace={**ex01, **ex02}), patterns=("ex01", "ex02", "ex03"))
    lost = {t["id"]: [c["feedback"] for c in t["checks"] if c["score"] < c["max_score"]][:1]
            for t in report["tasks"] if t["score"] < t["max_score"]}
    assert report["score"] == report["max_score"], lost


# backward_twice asks for the second pass through one graph: the right number made by
# doubling one pass loses the task and says why; two passes however written keep it.
TWICE_BY_ONE_PASS = restyle("ex01_backward", "backward_twice", replace="""
    def backward_twice(f, x):
        x = x.detach().clone().requires_grad_(True)
        f(x).backward()
        return 2 * x.grad
    """)
TWICE_HONEST = {
    "a_loop": """
        def backward_twice(f, x):
            x = x.detach().clone().requires_grad_(True)
            y = f(x)
            for keep in (True, False):
                y.backward(retain_graph=keep)
            return x.grad
        """,
    "two_grads_added": """
        def backward_twice(f, x):
            x = x.detach().clone().requires_grad_(True)
            y = f(x)
            (g1,) = torch.autograd.grad(y, x, retain_graph=True)
            (g2,) = torch.autograd.grad(y, x)
            return g1 + g2
        """,
    "the_functional_backward": """
        def backward_twice(f, x):
            x = x.detach().clone().requires_grad_(True)
            y = f(x)
            torch.autograd.backward(y, retain_graph=True)
            torch.autograd.backward(y)
            return x.grad.clone()
        """,
}


TWICE_BY_ONE_PASS_AND_ONE_RAISED = restyle("ex01_backward", "backward_twice", replace="""
    def backward_twice(f, x):
        x = x.detach().clone().requires_grad_(True)
        y = f(x)
        y.backward()
        try:
            y.backward()  # the graph is freed: this raises before adding anything
        except RuntimeError:
            x.grad.mul_(2)
        return x.grad.detach().clone()
    """)


@pytest.mark.parametrize("replaced", [TWICE_BY_ONE_PASS, TWICE_BY_ONE_PASS_AND_ONE_RAISED], ids=["doubled", "raised"])
def test_one_backward_pass_doubled_loses_backward_twice(replaced, grade, submission):
    """One pass doubled; or doubled after a second pass that raised and was caught,
    which is not a pass: the recorder counts passes that ran to the end."""
    task_id = "ex01_backward.backward_twice"
    task = by_task(grade(submission(replace=replaced), patterns=(task_id,)))[task_id]
    lost = [c for c in task["checks"] if c["score"] < c["max_score"]]
    if replaced is TWICE_BY_ONE_PASS:
        assert (task["status"], task["score"]) == ("failed", 0)
        assert {c["code"] for c in task["checks"]} == {"one_backward_pass"}
    else:  # (the check whose f ignores x has no graph: one pass raises there either way)
        assert task["score"] <= 1 and {c["code"] for c in lost} == {"one_backward_pass"}
    assert "only one backward pass ran" in lost[0]["feedback"]


@pytest.mark.parametrize("name", sorted(TWICE_HONEST))
def test_two_backward_passes_however_written_keep_backward_twice(name, grade, submission):
    task_id = "ex01_backward.backward_twice"
    replaced = restyle("ex01_backward", "backward_twice", replace=TWICE_HONEST[name])
    task = by_task(grade(submission(replace=replaced), patterns=(task_id,)))[task_id]
    assert task["status"] == "passed", task["checks"][0]["feedback"]


# A result squeezed: right values, a size-1 dimension lost. Each of these tasks has an
# input whose result keeps a size-1 dimension, so the squeeze costs a check.
SQUEEZED = {
    "ex05_control_flow.control_flow_grad": ("ex05_control_flow", "control_flow_grad"),
    "ex07_higher_order.hvp": ("ex07_higher_order", "hvp"),
    "ex07_higher_order.second_derivative": ("ex07_higher_order", "second_derivative"),
    "ex07_higher_order.jvp_by_double_backward": ("ex07_higher_order", "jvp_by_double_backward"),
    "ex03_vjp.vjp": ("ex03_vjp", "vjp"),
    "ex02_jacobian.jacobian_from_vjps": ("ex02_jacobian", "jacobian_from_vjps"),
    "ex04_detach.semi_gradient": ("ex04_detach", "semi_gradient"),
    "ex01_backward.backward_twice": ("ex01_backward", "backward_twice"),
}


@pytest.mark.parametrize("task_id", sorted(SQUEEZED))
def test_a_squeezed_result_loses_a_check(task_id, grade, submission):
    module, name = SQUEEZED[task_id]
    squeezed = restyle(module, bottom=f"""

        _{name}_unsqueezed = {name}


        def {name}(*args):
            return _{name}_unsqueezed(*args).squeeze()
        """)
    task = by_task(grade(submission(replace=squeezed), patterns=(task_id,)))[task_id]
    assert 0 < task["max_score"] - task["score"] < task["max_score"], task["score"]
    assert any(c["code"] in ("wrong_shape", "wrong_shape_visible") for c in task["checks"]), \
        {c["code"] for c in task["checks"]}


# TorchScript runs its autograd in C++, where no profile hook sees it: the saved
# tensors its backward pass reads back show it ran, so the task keeps full marks.
AUTOGRAD_INSIDE_TORCHSCRIPT = restyle("ex01_backward", "grad_of_2xtx", top="""
    import torch


    @torch.jit.script
    def _grad_2xtx(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().clone().requires_grad_(True)
        y = 2 * torch.dot(x, x)
        y.backward()
        g = x.grad
        assert g is not None
        return g
    """, replace="""
    def grad_of_2xtx(x):
        x = x if x.is_floating_point() else x.to(torch.get_default_dtype())
        return _grad_2xtx(x).detach().clone()
    """)


def test_autograd_inside_torchscript_is_seen_by_its_graph(grade, submission):
    task_id = "ex01_backward.grad_of_2xtx"
    task = by_task(grade(submission(replace=AUTOGRAD_INSIDE_TORCHSCRIPT), patterns=(task_id,)))[task_id]
    assert (task["status"], task["score"]) == ("passed", 4), task["checks"][0]["feedback"]


COUNTED_AND_LISTED = '''
import atexit

_CALLS = {}
_LOG = []


def _count(name):
    _CALLS[name] = _CALLS.get(name, 0) + 1


_by_hand, _polar, _from_vjps = jacobian_by_hand, jacobian_polar, jacobian_from_vjps


def jacobian_by_hand(x):
    _count("by_hand")
    return _by_hand(x)


def jacobian_polar(p):
    _count("polar")
    return _polar(p)


def jacobian_from_vjps(f, x):
    _count("from_vjps")
    return _from_vjps(f, x)


def _self_check():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    _LOG.append(torch.autograd.functional.jacobian(lambda t: t * t, x))


TASKS = dict(by_hand=jacobian_by_hand, polar=jacobian_polar, from_vjps=jacobian_from_vjps)
assert callable(jacobian_from_vjps)
atexit.register(_self_check)
'''


def test_tasks_listed_in_a_table_and_a_self_check_at_exit_keep_full_marks(grade, submission):
    """A function handed to dict() or atexit.register is kept, not run at import: the
    by-hand tasks are not charged with the autograd of the tasks beside them."""
    report = grade(submission(append={"ex02_jacobian": COUNTED_AND_LISTED}), patterns=("ex02",))
    assert report["score"] == report["max_score"], [(t["id"], t["checks"][0]["feedback"]) for t in report["tasks"]
                                                    if t["score"] < t["max_score"]]


def test_a_task_defined_again_is_judged_by_the_last_definition(grade, submission):
    """A first attempt with autograd, replaced further down by the formula: Python (and
    Run All) keeps only the last one, and so does the scan. One the later definition
    keeps alive (a default that reads it) is still read."""
    first = ("def jacobian_by_hand(x):\n"
             "    return torch.autograd.functional.jacobian(lambda t: torch.stack([t[0]**2 + t[1], t[0] + t[1]**3]), x)\n\n\n")
    last = ("def jacobian_by_hand(x{extra}):\n    x1, x2 = x[0], x[1]\n    one = torch.ones_like(x1)\n"
            "    return torch.stack([torch.stack([2 * x1, one]), torch.stack([one, 3 * x2 ** 2])])\n")
    report = grade(submission(append={"ex02_jacobian": first + last.format(extra="")}), patterns=("jacobian_by_hand",))
    assert report["score"] == report["max_score"], report["tasks"][0]["checks"][0]["feedback"]
    kept = grade(submission(append={"ex02_jacobian": first + last.format(extra=", _old=jacobian_by_hand")}),
                 patterns=("jacobian_by_hand",))
    assert kept["tasks"][0]["status"] == "forbidden"


@pytest.mark.parametrize("between, kept", [
    ("if __name__ == '__main__':\n    print(jacobian_by_hand(torch.ones(2)))\n\n\n", False),
    ("print(jacobian_by_hand(torch.ones(2)))\n\n\n", False),
    ("from ex02_jacobian import jacobian_by_hand as _first\n\n\n", True),
    ("_REGISTRY = []\n_REGISTRY.append(jacobian_by_hand)\n\n\n", True),
    ("import ex02_jacobian as _me\n\n\n", True),
], ids=["main_guard", "try_out_call", "own_import", "registered", "imports_itself"])
def test_what_keeps_an_earlier_definition_alive(between, kept, grade, submission):
    """A try-out call of the first version, or one under the main guard, keeps nothing;
    the module importing its own earlier definition, or a registry, does."""
    first = ("@torch.no_grad()\ndef jacobian_by_hand(x):\n"
             "    return torch.autograd.functional.jacobian(lambda t: torch.stack([t[0]**2 + t[1], t[0] + t[1]**3]), x)\n\n\n")
    last = ("@torch.no_grad()\ndef jacobian_by_hand(x):\n    x1, x2 = x[0], x[1]\n    one = torch.ones_like(x1)\n"
            "    return torch.stack([torch.stack([2 * x1, one]), torch.stack([one, 3 * x2 ** 2])])\n")
    report = grade(submission(append={"ex02_jacobian": first + between + last}), patterns=("jacobian_by_hand",))
    assert (report["tasks"][0]["status"] == "forbidden") is kept, report["tasks"][0]["checks"][0]["feedback"]


ATTRIBUTES_NAMED_LIKE_TORCH_PARTS = """
import dataclasses
import enum
import functools
from collections import namedtuple


@dataclasses.dataclass
class Case:
    func: object
    x: object


Example = namedtuple("Example", "func x")
Method = enum.Enum("Method", ["autograd", "numeric"])
CASES = [Case(torch.sin, torch.ones(2)), Case(torch.cos, torch.zeros(2))]
SEED = Example(torch.sin, torch.ones(2))
for case in CASES:
    assert case.func(case.x).shape == case.x.shape
print(SEED.func.__name__, Method.autograd)

_curve = derivative_curve


def derivative_curve(f, x):
    name = getattr(f, "__name__", None) or f.func.__name__ if isinstance(f, functools.partial) else "f"
    return _curve(f, x)
"""


def test_attributes_of_ones_own_objects_named_like_torchs_parts_are_honest(grade, submission):
    """A dataclass or namedtuple field called func, an Enum member called autograd, a
    partial's .func: none of them is torch."""
    report = grade(submission(append={"ex05_control_flow": ATTRIBUTES_NAMED_LIKE_TORCH_PARTS}), patterns=("ex05",))
    assert report["score"] == report["max_score"], [(t["id"], t["checks"][0]["feedback"]) for t in report["tasks"]
                                                    if t["score"] < t["max_score"]]


TORCH_HANDED_IN = '''
class _Backend:
    lib = torch


def _grad(y, x, lib=torch):
    return lib.autograd.grad(y, x)[0].detach()


def grad_of_2xtx(x):
    x = x.detach().to(torch.get_default_dtype() if not x.is_floating_point() else x.dtype).requires_grad_(True)
    y = 2 * torch.dot(x, x)
    g = _grad(y, x) if x.numel() % 2 else _Backend.lib.autograd.grad(y, x)[0]
    return (lambda t: g.detach().clone())(torch)
'''


def test_torch_handed_in_by_a_default_or_a_class_attribute_is_honest_where_autograd_is_asked(grade, submission):
    """Dependency injection (``lib=torch``, ``class Backend: lib = torch``) in a task that
    asks for autograd is torch.autograd, read as such."""
    report = grade(submission(append={"ex01_backward": TORCH_HANDED_IN}), patterns=("grad_of_2xtx",))
    (task,) = report["tasks"]
    assert task["score"] == task["max_score"], task["checks"][0]["feedback"]


def test_a_thread_pool_in_a_task_says_the_sandbox_runs_one_thread(grade, submission):
    replaced = restyle("ex01_backward", "grad_of_2xtx", top="""
        from concurrent.futures import ThreadPoolExecutor
        """, replace="""
        def grad_of_2xtx(x):
            def work(x):
                x = x.detach().clone() if x.is_floating_point() else x.detach().to(torch.get_default_dtype())
                x.requires_grad_(True)
                (2 * torch.dot(x, x)).backward()
                return x.grad.detach()

            with ThreadPoolExecutor(max_workers=1) as pool:
                return pool.submit(work, x).result()
        """)
    task = by_task(grade(submission(replace=replaced), patterns=("ex01_backward.grad_of_2xtx",)))["ex01_backward.grad_of_2xtx"]
    assert task["status"] == "error"
    assert {c["hint"] for c in task["checks"]} == {"no_threads"}
    assert "one thread" in task["checks"][0]["feedback"]
