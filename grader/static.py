"""What is decided about a submission before any of it runs: from its text alone."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .status import Status
from .submission import MAX_MODULE_BYTES, Submission
from .tasks import Task
from .untrusted import escape

# Code using these needs torch.func / vmap machinery (about a second to load) in
# the sandbox; other submissions start without it.
NEEDS_FUNC_WARM_UP = {"func", "vmap", "jacrev", "jacfwd", "forward_ad", "functional_call", "linearize",
                      "is_grads_batched", "vectorize", "make_dual", "dual_level"}


@dataclass
class Verdict:
    """A task's fate decided without running it."""

    status: Status  # missing, error or forbidden
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def static_verdict(sub: Submission, task: Task) -> Verdict | None:
    scan = sub.scans[task.module]
    if not scan.present:
        return Verdict(Status.MISSING, "missing_module", {"module": task.module})
    if task.module in sub.oversized:
        return Verdict(Status.ERROR, "too_large", {"module": task.module, "limit": MAX_MODULE_BYTES})
    if scan.syntax_error is not None:
        f = scan.syntax_error
        return Verdict(Status.ERROR, "syntax_error", {"module": task.module, "line": f.line, "detail": escape(f.detail, 200)})
    escapes = scan.escapes_for(task)
    if escapes:
        f = escapes[0]
        return Verdict(Status.FORBIDDEN, "escape", {"module": task.module, "line": f.line, "detail": escape(f.detail, 200),
                                                "kind": f.code, "count": len(escapes)})
    if task.name not in scan.defined:
        return Verdict(Status.MISSING, "missing_function", {"function": task.name})
    uses = scan.forbidden_uses(task)
    if uses:
        return Verdict(Status.FORBIDDEN, "forbidden_api", {"line": uses[0].line, "detail": escape(uses[0].detail, 200)})
    return None


def not_a_submission(problem: str, tasks: list[Task]) -> dict[str, Verdict]:
    """Every task missing: what was given is not a submission at all."""
    return {t.id: Verdict(Status.MISSING, "not_a_submission", {"problem": problem}) for t in tasks}


def warm_up_for(sub: Submission) -> tuple[str, ...]:
    return ("func",) if any(scan.identifiers & NEEDS_FUNC_WARM_UP for scan in sub.scans.values()) else ()


def runnable_sources(sub: Submission) -> dict[str, str]:
    """The modules that may reach the sandbox, even as imports of another module:
    those that parse and escape nothing at module level."""
    return {m: text for m, text in sub.sources.items()
            if sub.scans[m].syntax_error is None and not sub.scans[m].module_level_escapes}
