"""What a task is: one record, kept beside the task's checks.

Each ``grader/checks/<module>.py`` holds the records of one exercise module (a
``TASKS`` tuple); ``grader.tasks`` discovers them. A record says everything the
rest of the grader needs to know about a task: what it is worth, its signature and
the example it comes from, what it does not allow (for the static scan and at run
time), which catalogue functions its checks pass, and how it hints.

The records live apart from the checks because the task list is read before the
sandbox server is forked: importing the hidden checks there would put them in
every sandbox child's memory.
"""
from __future__ import annotations

from dataclasses import dataclass

# "Not allowed" rules for the static scan: dotted torch prefixes, ".attribute" and
# "keyword=" patterns, looked for in the code the task reaches.
ANY_AUTOGRAD = (
    "torch.autograd", "torch.func", "torch.vmap", "torch.Tensor.backward",
    ".backward", ".grad", ".requires_grad", ".requires_grad_", "requires_grad=",
    "torch.enable_grad",
    # The graph itself: a node called directly computes a local derivative, and a
    # Parameter is a tensor that requires grad under another name.
    ".grad_fn", ".next_functions", "torch.nn.Parameter", "torch.nn.parameter",
)
FUNCTIONAL = ("torch.autograd.functional", "torch.func", "torch.vmap")
BATCHED = FUNCTIONAL + ("is_grads_batched=", "torch.autograd.grad(is_grads_batched=True)")
FORWARD_AD = FUNCTIONAL + ("torch.autograd.forward_ad",)

# The same rules at run time: the rules that name recorded APIs (or prefixes of
# their names); the sandbox records them when the submission's own code calls them.


def runtime(rules: tuple[str, ...]) -> tuple[str, ...]:
    """The rules that name recorded APIs (the others are only visible in the source)."""
    return tuple(rule for rule in rules if rule.startswith("torch."))


ANY_AUTOGRAD_RUNTIME = runtime(ANY_AUTOGRAD)
FUNCTIONAL_RUNTIME = runtime(FUNCTIONAL)
BATCHED_RUNTIME = runtime(BATCHED)
FORWARD_AD_RUNTIME = runtime(FORWARD_AD)


@dataclass(frozen=True)
class Task:
    """One exercise function, as the contract fixes it.

    ``scope``: where ``forbidden_scan`` applies, "" for the task's function (and all
    it reaches) or ``"Class.method"`` for one method (and all it reaches).
    ``catalogue``: the named callables (``grader/sandbox/catalogue.py``) its checks pass.
    ``hints``: the hint codes (``grader.messages.HINTS``) its checks can give.
    ``exception_hints``: where one torch error has several causes, the hint this
    task's errors mean, as (hint drawn from the error, hint for this task) pairs.
    ``fix_the_bug``: the stub ships working code with a bug in it. ``given``: the
    stub ships this function complete; the student writes a part it calls.
    """

    module: str
    name: str
    points: int
    signature: str
    summary: str
    seed: str = ""
    forbidden_scan: tuple[str, ...] = ()
    forbidden_runtime: tuple[str, ...] = ()
    scope: str = ""
    catalogue: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    exception_hints: tuple[tuple[str, str], ...] = ()
    fix_the_bug: bool = False
    given: bool = False

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"

    def exception_hint(self, drawn: str) -> str | None:
        """This task's meaning of a hint drawn from an error message, if it has one."""
        return dict(self.exception_hints).get(drawn)
