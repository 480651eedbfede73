"""What the grading process loads before it forks the sandbox server.

torch, with a light stand-in for the part of it that the first gradient with explicit
``grad_outputs`` imports (``torch.fx.experimental.symbolic_shapes``, with sympy: about
a third of a second; see ``shapes``). The checks' reference computations only ask it
whether two plain shapes match, and so do the solutions; the sandbox server, forked
from here, and its children keep the stand-in, and whatever asks for more loads the
real module. A batch worker imports the real one itself, before the fork: one import
then serves both processes and every child.

Then what exists is frozen: torch leaves about a million objects that live as long
as the process, and every later full collection would walk them all.

It also keeps the one fact a fork needs: a process may fork the sandbox server
only while torch is loaded and has done no work (no thread pool started, no
operator run). ``fork_safe()`` is true between ``load()`` and the first checks run.
"""
from __future__ import annotations

import gc


_state = {"loaded": False, "worked": False}


def load(*, serving: bool = False) -> None:
    """``serving``: the process grades submission after submission (a batch worker):
    the real symbolic shapes are imported here, once, before the fork, and shared
    with its sandbox server, which would otherwise import them again."""
    import torch  # noqa: F401
    import torch.autograd.functional  # noqa: F401

    from . import shapes

    if serving:
        shapes.real()
    else:
        shapes.install()

    gc.freeze()
    _state["loaded"] = True


def note_torch_work() -> None:
    """This process has run torch (its checks did): forking it is no longer safe."""
    _state["worked"] = True


def fork_safe() -> bool:
    return _state["loaded"] and not _state["worked"]
