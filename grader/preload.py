"""What the grading process loads before it forks the sandbox server.

torch, and the part of it that the first gradient with explicit ``grad_outputs``
imports (``torch.fx.experimental.symbolic_shapes``, with sympy: about a quarter of
a second). Every check's reference computation and the server's own warm-up need
it; imported once here, before the fork, it serves both processes, where each
would otherwise import it in turn.

Then what exists is frozen: torch leaves about a million objects that live as long
as the process, and every later full collection would walk them all.

It also keeps the one fact a fork needs: a process may fork the sandbox server
only while torch is loaded and has done no work (no thread pool started, no
operator run). ``fork_safe()`` is true between ``load()`` and the first checks run.
"""
from __future__ import annotations

import gc


_state = {"loaded": False, "worked": False}


def load() -> None:
    import torch  # noqa: F401
    import torch.autograd.functional  # noqa: F401
    import torch.fx.experimental.symbolic_shapes  # noqa: F401

    gc.freeze()
    _state["loaded"] = True


def note_torch_work() -> None:
    """This process has run torch (its checks did): forking it is no longer safe."""
    _state["worked"] = True


def fork_safe() -> bool:
    return _state["loaded"] and not _state["worked"]
