"""What a check can use: the ``check`` decorator, failures, and tensor comparisons.

A check is a pytest test in ``grader/checks``. It builds its own inputs, computes
the expected answer itself (``torch.autograd.functional`` or a closed form), calls
the student's function through ``task(...)`` (which runs it in the sandbox), and
compares. It fails by raising ``Fail`` with a reason code from ``grader.messages``;
it never puts an expected value of a hidden check into its feedback.
"""
from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import pytest
import torch

from .messages import Phrase, phrase  # noqa: F401 - the checks' phrases
from .sandbox import wire
from .sandbox.client import CallResult
from .tasks import BY_ID


@dataclass(frozen=True)
class CheckSpec:
    task: str
    name: str
    points: float
    visibility: str
    title: str


# The grader's own manifest: every check that exists, keyed by test function.
MANIFEST: dict[str, CheckSpec] = {}
_ORIGIN: dict[str, str] = {}


def check(task: str, points: float, title: str, *, visibility: str = "hidden") -> Callable:
    """Register a test function as a scored check of ``task``."""
    if task not in BY_ID:
        raise ValueError(f"unknown task {task!r}")
    if visibility not in ("visible", "hidden"):
        raise ValueError(f"bad visibility {visibility!r}")

    def register(fn: Callable) -> Callable:
        name = fn.__name__.removeprefix("test_")
        key = f"{task}::{name}"
        where = f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}:{fn.__qualname__}"
        known = _ORIGIN.setdefault(key, where)
        if known != where:
            raise ValueError(f"check {key} is defined twice: {known} and {where}")
        MANIFEST[key] = CheckSpec(task, name, points, visibility, title)
        fn.autograd_lab_check = key
        return pytest.mark.autograd_lab(key)(fn)

    return register


def load_manifest() -> dict[str, CheckSpec]:
    """Import every check module so that MANIFEST lists every check there is."""
    import importlib
    from pathlib import Path

    for path in sorted((Path(__file__).parent / "checks").glob("check_*.py")):
        importlib.import_module(f"grader.checks.{path.stem}")
    return MANIFEST


def hint_with(code: str, **params: Any) -> Phrase:
    """A hint code that fills its text with ``params`` (a factor, the entries it names)."""
    return phrase(code, **params)


class Fail(AssertionError):
    """The student's answer is wrong; ``code`` names why, ``params`` fill the message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class StudentFailed(Exception):
    """The call did not return (raised, timed out, crashed...): carries the CallResult.

    ``hints`` lets a check that knows its input re-read a hint drawn from the error
    text (for a constant f, "no grad_fn" means the output ignores x).
    """

    def __init__(self, result: CallResult, hints: dict[str, str] | None = None) -> None:
        super().__init__(result.kind)
        self.result = result
        self.hints = hints or {}

    def hinting(self, hints: dict[str, str]) -> "StudentFailed":
        """The same failure, with the hints of its error re-read: {drawn hint: better hint}
        (a check that learnt more about the cause after the call)."""
        return StudentFailed(self.result, {**self.hints, **hints})


def seeded(seed: int, key: str) -> torch.Generator:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def _shape(shape: tuple) -> tuple[int, ...]:
    """Accept randn(2, 3), randn((2, 3)) and randn(()) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        return tuple(shape[0])
    return tuple(shape)


class Inputs:
    """Random inputs for one check, reproducible from the run's seed."""

    def __init__(self, generator: torch.Generator) -> None:
        self.g = generator

    def randn(self, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        return torch.randn(_shape(shape), generator=self.g, dtype=dtype)

    def uniform(self, low: float, high: float, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        return low + (high - low) * torch.rand(_shape(shape), generator=self.g, dtype=dtype)

    def away_from_zero(self, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        sign = torch.where(torch.rand(_shape(shape), generator=self.g) < 0.5, -1.0, 1.0).to(dtype)
        return sign * self.uniform(0.3, 2.0, *shape, dtype=dtype)

    def integer(self, low: int, high: int) -> int:
        return int(torch.randint(low, high + 1, (1,), generator=self.g))


# Reading answers ----------------------------------------------------------------


@dataclass
class Answer:
    """A returned value, as the trusted side sees it."""

    value: Any
    evidence: dict[str, Any]

    def tensor(self, shape: tuple[int, ...] | torch.Size, dtype: torch.dtype, what: str = "result") -> torch.Tensor:
        return expect_tensor(self.value, shape, dtype, what)

    def sequence(self, length: int, kinds: tuple[type, ...] = (tuple, list), what: str = "result") -> list[Any]:
        value = self.value
        if type(value) not in kinds:
            raise Fail("wrong_type", what=what, expected=_kind_names(kinds), got=describe(value))
        if len(value) != length:
            raise Fail("wrong_length", what=what, expected=length, got=len(value))
        return list(value)


def _kind_names(kinds: tuple[type, ...]) -> str:
    return "/".join(k.__name__ for k in kinds)


def describe(value: Any) -> str:
    if isinstance(value, wire.Received):
        return f"Tensor{list(value.tensor.shape)} {str(value.tensor.dtype).removeprefix('torch.')}"
    if isinstance(value, wire.Opaque):
        return value.type_name
    if value is None:
        return "None"
    return type(value).__name__


def expect_tensor(value: Any, shape: tuple[int, ...] | torch.Size, dtype: torch.dtype, what: str = "result") -> torch.Tensor:
    """A plain tensor of exactly this shape and dtype, with finite values."""
    if not isinstance(value, wire.Received):
        raise Fail("not_a_tensor", what=what, got=describe(value))
    t = value.tensor
    if tuple(t.shape) != tuple(shape):
        raise Fail("wrong_shape", what=what, expected=list(shape), got=list(t.shape),
                   hint=shape_hint(what, tuple(shape), tuple(t.shape)))
    if t.dtype != dtype:
        raise Fail("wrong_dtype", what=what, expected=_dtype(dtype), got=_dtype(t.dtype))
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise Fail("not_finite", what=what)
    return t


# Why a value has the shape it has, for the values whose shape follows a rule.
SHAPE_RULES = {"J": "shape_jacobian", "Jᵀv": "shape_like_input", "vjp(f, x, v)": "shape_like_input",
               "H·v": "shape_like_input", "f″(x)": "shape_like_input", "J·u": "shape_like_output"}


def shape_hint(what: str, expected: tuple[int, ...], got: tuple[int, ...]) -> str:
    """Say why the shape is wrong: the rule it follows, or what kind of slip it looks like."""
    if math.prod(expected) == math.prod(got) and len(expected) != len(got):
        return "shape_reshaped" if what not in SHAPE_RULES else SHAPE_RULES[what]
    if what in SHAPE_RULES:
        return SHAPE_RULES[what]
    return "shape_dims" if len(expected) != len(got) else "shape_exact"


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def tolerance(dtype: torch.dtype) -> tuple[float, float]:
    return (1e-4, 1e-5) if dtype in (torch.float32, torch.float16, torch.bfloat16) else (1e-7, 1e-9)


def expect_close(got: torch.Tensor, want: torch.Tensor, what: str = "result", *,
                 visible: bool = False, diagnose: Callable[[torch.Tensor, torch.Tensor], str | None] | None = None,
                 entry: Callable[[tuple[int, ...]], str] | None = None,
                 tol: tuple[float, float] | None = None) -> None:
    """Compare values (shapes and dtypes were checked already).

    A hidden check's failure names the kind of mistake but never an expected value;
    a visible check also says where the worst entry is and what it should be
    (``entry`` names an index by its meaning, e.g. "∂g₁/∂θ"). ``tol`` (rtol, atol)
    replaces the dtype's tolerance where a task needs another.
    """
    rtol, atol = tol or tolerance(got.dtype)
    want = want.to(got.dtype)
    if torch.allclose(got, want, rtol=rtol, atol=atol):
        return
    hint = diagnose(got, want) if diagnose else None
    params: dict[str, Any] = {"what": what, "hint": hint or "", "rtol": rtol, "atol": atol,
                              **getattr(hint, "params", {})}
    if visible:
        err = (got - want).abs() - atol - rtol * want.abs()
        index = int(torch.argmax(err.reshape(-1)))
        idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(index), got.shape)) if got.dim() else ()
        params.update(index=list(idx), expected=float(want.reshape(-1)[index]), got=float(got.reshape(-1)[index]))
        if entry is not None:
            raise Fail("wrong_entry_visible", entry=entry(idx), **params)
        raise Fail("wrong_values_visible", **params)
    raise Fail("wrong_values", **params)


def on_every_input(cases: Iterable[Any], run: Callable[[Any], Any]) -> list[Any]:
    """Run ``run`` on every case, then fail with the first failure.

    A hint names a cause; one input can show a pattern by chance (an answer of the
    wrong sign that happens to be the negative there). So the first failure keeps
    its hint only when every failing input gave the same one; results are returned
    when all passed.
    """
    results, failures, raised = [], [], []
    for case in cases:
        try:
            results.append(run(case))
        except Fail as failure:
            failures.append(failure)
        except StudentFailed as failure:
            if failure.result.kind in ("timeout", "crashed"):
                raise  # the child is gone: the other inputs cannot run
            raised.append(failure)
    if not failures:
        if raised:
            raise raised[0]
        return results
    first = failures[0]
    agreed = {(str(f.params.get("hint") or ""), repr(sorted(getattr(f.params.get("hint"), "params", {}).items())))
              for f in failures}
    if len(agreed) > 1:
        first.params["hint"] = ""
    raise first


def expect_clean(answer: Answer, what: str = "result", *, own_storage: bool = False) -> None:
    """The contract's rules: plain detached tensors, no two sharing memory, arguments
    left untouched. ``own_storage``: the contract asks for entries that share no
    storage at all (not even as views of disjoint parts of one tensor)."""
    values = answer.value if type(answer.value) in (list, tuple) else [answer.value]
    memory: list[tuple[int, list[int] | None]] = []
    for item in values:
        if isinstance(item, wire.Received):
            if item.info.get("class"):
                raise Fail("tensor_subclass", what=what, got=str(item.info["class"]))
            if item.info.get("requires_grad") or item.info.get("grad_fn"):
                raise Fail("requires_grad", what=what)
            if item.info.get("storage"):
                memory.append((item.info["storage"], item.info.get("span")))
    if any(a[0] == b[0] if own_storage else _overlap(a, b) for i, a in enumerate(memory) for b in memory[i + 1:]):
        raise Fail("shared_memory", what=what)
    for arg in answer.evidence.get("arguments", []):
        if type(arg) is not dict:
            continue
        if arg.get("changed"):
            raise Fail("argument_modified", position=arg.get("index"))
        if arg.get("requires_grad") or arg.get("grad"):
            raise Fail("argument_left_grad", position=arg.get("index"))


def shares_memory(a: Any, b: Any) -> bool:
    """Whether two returned items are tensors with bytes in common (one ``.grad``
    returned twice)."""
    memory = [(item.info["storage"], item.info.get("span")) for item in (a, b)
              if isinstance(item, wire.Received) and item.info.get("storage")]
    return len(memory) == 2 and _overlap(*memory)


def _overlap(a: tuple[int, list[int] | None], b: tuple[int, list[int] | None]) -> bool:
    """Whether two returned tensors share memory: the same storage, and bytes in common
    (views of disjoint parts, ``g[:-1], g[-1]``, share none); without spans, the storage."""
    if a[0] != b[0]:
        return False
    if a[1] is None or b[1] is None:
        return True
    return a[1][0] < b[1][1] and b[1][0] < a[1][1]


def changed_by_rounding(answer: Answer, dtype: torch.dtype) -> bool:
    """Whether every argument the call changed moved by rounding only (a perturbation
    put back: ``x[i] += eps`` ... ``x[i] -= 2 * eps`` ... ``x[i] += eps``), at most a
    few units in the last place of ``dtype``."""
    limit = 16 * torch.finfo(dtype).eps
    changed = [a for a in answer.evidence.get("arguments", []) if type(a) is dict and a.get("changed")]
    return bool(changed) and all(type(a.get("drift")) is float and a["drift"] <= limit for a in changed)


# Diagnoses shared by several checks ----------------------------------------------


def resembles(got: torch.Tensor, candidate: torch.Tensor) -> bool:
    """Whether ``got`` equals a known (often wrong) answer, loosely and whatever its dtype."""
    candidate = candidate.to(got.dtype)
    if candidate.shape != got.shape:
        return False
    scale = float(candidate.abs().max()) if candidate.numel() else 0.0
    return bool(torch.allclose(got, candidate, rtol=1e-4, atol=1e-6 * max(scale, 1.0)))


FACTORS = (2.0, 3.0, 4.0, 0.5, 1 / 3, 0.25, -2.0, -0.5)


def factor_of(got: torch.Tensor, want: torch.Tensor) -> float | None:
    """k when ``got`` is k times ``want`` for a small whole k or 1/k, else None."""
    want = want.to(got.dtype)
    scale = float(want.abs().max()) if want.numel() else 0.0
    if scale == 0:
        return None
    for k in FACTORS:
        if torch.allclose(got, k * want, rtol=1e-4, atol=1e-6 * scale):
            return k
    return None


def factor_hint(got: torch.Tensor, want: torch.Tensor) -> str | None:
    """A constant factor off (a lost 2 of a square, a factor the chain rule brings in):
    a hint only when every failing input of the check shows the same factor."""
    k = factor_of(got, want)
    if k is None:
        return None
    return hint_with("factor", factor=f"{k:.3g}" if k == int(k) else f"1/{1 / k:.3g}")


def ratio_hint(got: torch.Tensor, want: torch.Tensor) -> str | None:
    """For tasks that run several backward passes on one leaf: a whole multiple of the
    right answer is what an uncleared .grad gives; any other factor is just a factor."""
    k = factor_of(got, want)
    if k in (2.0, 3.0, 4.0):
        return "accumulated"
    return factor_hint(got, want)


def transpose_hint(got: torch.Tensor, want: torch.Tensor) -> str | None:
    if got.dim() == 2 and got.shape[0] == got.shape[1] and torch.allclose(got, want.T, rtol=1e-4, atol=1e-6):
        return "transposed"
    return None


def sign_hint(got: torch.Tensor, want: torch.Tensor) -> str | None:
    if bool((want != 0).any()) and torch.allclose(got, -want, rtol=1e-4, atol=1e-6):
        return "sign"
    if bool((got == 0).all()) and bool((want != 0).any()):
        return "zeros"
    return None


Diagnose = Callable[[torch.Tensor, torch.Tensor], "str | None"]


def deferred(factory: Callable[..., Diagnose]) -> Callable[..., Diagnose]:
    """Make a diagnosis factory lazy: the reference values its hints compare against
    (a Jacobian, a second oracle, a replayed wrong method) are computed only when an
    answer is wrong and a hint is wanted, not for every right answer."""

    @functools.wraps(factory)
    def make(*args: Any, **kwargs: Any) -> Diagnose:
        made: list[Diagnose] = []

        def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
            if not made:
                made.append(factory(*args, **kwargs))
            return made[0](got, want)

        return diagnose

    return make


def first_hint(*hints: Callable[[torch.Tensor, torch.Tensor], str | None]) -> Callable[[torch.Tensor, torch.Tensor], str | None]:
    def diagnose(got: torch.Tensor, want: torch.Tensor) -> str | None:
        for h in hints:
            found = h(got, want)
            if found:
                return found
        return None

    return diagnose
