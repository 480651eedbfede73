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

from dataclasses import dataclass, field
from typing import Mapping

# "Not allowed" rules for the static scan: dotted torch prefixes, ".attribute" and
# "keyword=" patterns, looked for in the code the task reaches.
ANY_AUTOGRAD = (
    "torch.autograd", "torch.func", "torch.vmap", "functorch", "torch.Tensor.backward",
    ".backward", ".grad", ".requires_grad", ".requires_grad_", "requires_grad=",
    "torch.enable_grad",
    # The graph itself: a node called directly computes a local derivative, and a
    # Parameter is a tensor that requires grad under another name.
    ".grad_fn", "._grad_fn", "._grad", ".next_functions", "torch.nn.Parameter", "torch.nn.parameter",
    # Tracers that write what autograd computes into a graph of plain operations,
    # run ahead of the call (a registry filled at import) and replayed in it.
    "torch.fx", "torch.jit.trace", "torch.export", "torch.compile",
)
# functorch: torch.func under its older name, shipped inside torch.
FUNCTIONAL = ("torch.autograd.functional", "torch.func", "torch.vmap", "functorch",
              # the legacy vmap, public under gradcheck's name, and gradcheck's own
              # whole Jacobian (one backward pass per output, done for the caller)
              "torch.autograd.gradcheck.vmap", "torch._vmap_internals",
              "torch.autograd.gradcheck.get_analytical_jacobian")
BATCHED = FUNCTIONAL + ("is_grads_batched=", "torch.autograd.grad(is_grads_batched=True)")
FORWARD_AD = FUNCTIONAL + ("torch.autograd.forward_ad",)

# The same rules at run time: the rules that name recorded APIs (or prefixes of
# their names); the sandbox records them when the submission's own code calls them.
# Recorded besides when the submission switches the recorder's profile hook off or
# replaces it during a call: what it called after that went unseen, so it breaks
# every task's run-time rules.
TAMPERED = "sys.setprofile"
# Recorded from torch's own record of the operations a call ran (C++), for the tasks
# that allow no autograd: the engine ran, or a forward-mode dual was made (in a task
# scoped to methods, only the engine run again inside one of its steps, i.e. inside
# a backward), or that record was stopped during the call. Neither needs a place:
# the child reports them only where they are the submission's.
ENGINE_RAN = ("torch.autograd.engine (the autograd engine ran during the call, or forward-mode AD: seen in torch's "
              "own record of its operations)")
ENGINE_STOPPED = ("torch.autograd.profiler (a profiler of the submission's own was on, or the grader's record of "
                  "torch's operations was stopped during the call: profile only under if __name__ == \"__main__\":)")


# What the names of recorded APIs start with.
RECORDED = ("torch.", "functorch")


def runtime(rules: tuple[str, ...]) -> tuple[str, ...]:
    """The rules that name recorded APIs (the others are only visible in the source)."""
    return tuple(rule for rule in rules if rule.startswith(RECORDED))


ANY_AUTOGRAD_RUNTIME = runtime(ANY_AUTOGRAD)
FUNCTIONAL_RUNTIME = runtime(FUNCTIONAL)
BATCHED_RUNTIME = runtime(BATCHED)
FORWARD_AD_RUNTIME = runtime(FORWARD_AD)


@dataclass(frozen=True)
class Hint:
    """A hint only this task's checks give, in both languages.

    Hints that many tasks share (a wrong sign, all zeros, an uncleared .grad) stay
    in the shared catalogue, ``grader.messages.SHARED_HINTS``; a task's own hint
    lives here, beside the record, so that adding the task touches no shared file.
    ``en`` may hold ``{name}`` fields that the check fills (``hint_with``); ``zh``
    must hold the same ones.
    """

    code: str
    en: str
    zh: str

    def __post_init__(self) -> None:
        if not (self.code.isidentifier() and self.en.strip() and self.zh.strip()):
            raise ValueError(f"a hint needs a code, its English and its Chinese: {self.code!r}")

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Task:
    """One exercise function, as the contract fixes it.

    ``scope``: where ``forbidden_scan`` applies: empty for the task's function (and all
    it reaches), else methods as ``"Class.method"`` (and all they reach).
    ``catalogue``: the named callables (``grader/sandbox/catalogue.py``) its checks pass.
    ``hints``: the hints its checks can give: a code of the shared catalogue
    (``grader.messages.SHARED_HINTS``) or a ``Hint`` of its own, in both languages.
    ``exception_hints``: where one torch error has several causes, the hint this
    task's errors mean, as (hint drawn from the error, hint for this task) pairs.
    ``zh``: the Simplified Chinese of the other texts the task shows (its summary,
    seed, its checks' titles and phrases), English -> Chinese; texts shared with
    other tasks stay in the gettext catalogue.
    ``fix_the_bug``: the stub ships working code with a bug in it. ``given``: the
    stub ships this function complete; the student writes a part it calls.
    ``by_autograd``: the contract asks for the result computed with autograd (see
    ``needs_autograd``); False for a task that only computes values.
    """

    module: str
    name: str
    points: int
    signature: str
    summary: str
    seed: str = ""
    forbidden_scan: tuple[str, ...] = ()
    forbidden_runtime: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()
    catalogue: tuple[str, ...] = ()
    hints: tuple[str | Hint, ...] = ()
    exception_hints: tuple[tuple[str, str], ...] = ()
    fix_the_bug: bool = False
    # A function the exercise gives whole (not a stub): its code. The checks run this
    # code, in the student's module (with the student's classes), not whatever the
    # submission holds under the name: what is graded is what the task asks to write.
    given: str = ""
    by_autograd: bool = True
    zh: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def needs_autograd(self) -> bool:
        """Whether a nonzero answer must come from autograd having run during the call:
        every task that neither forbids autograd (a Jacobian by hand, finite
        differences) nor is given whole (its checks run autograd themselves) asks for
        a gradient computed "with autograd", "by backward" or "by double backward"."""
        return self.by_autograd and not self.given and ANY_AUTOGRAD[0] not in self.forbidden_scan

    @property
    def hint_codes(self) -> tuple[str, ...]:
        """Every hint code its checks can give, its own and the shared ones."""
        return tuple(h.code if isinstance(h, Hint) else h for h in self.hints)

    @property
    def own_hints(self) -> tuple[Hint, ...]:
        return tuple(h for h in self.hints if isinstance(h, Hint))

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"

    def exception_hint(self, drawn: str) -> str | None:
        """This task's meaning of a hint drawn from an error message, if it has one."""
        return dict(self.exception_hints).get(drawn)
