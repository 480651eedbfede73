"""The sandbox server: a process with torch loaded that forks sandbox children.

It is forked from the grading process right after torch is imported, or started
as a fresh interpreter, in either case before any torch work is done (forking a
process whose thread pools have run is unsafe). It never runs student code
itself, and keeps every descendant of its children: it is their subreaper, so a
child that double-forks cannot leave a process behind once the grader reaps it.

Protocol (JSON in ``channel`` messages over a Unix socket; ``spawn`` carries one
file descriptor, the child's end of its own channel):
  {"op": "spawn"} + fd          -> {"pid": N}
  {"op": "warm", "what": "func"} -> {"ok": true}   (load torch.func, once)
  {"op": "reap", "pid": N}       -> {"status": waitstatus, "orphans": K}
The server exits, killing what is left, when the grader closes the socket.
"""
from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import socket
import sys

from . import channel, jail

# Modules a student may reasonably import, loaded now because a jailed child
# cannot read them from disk later.
PRELOAD = (
    "torch", "torch.nn", "torch.nn.functional", "torch.autograd.functional", "torch.func",
    "torch.autograd.forward_ad", "numpy", "math", "cmath", "typing", "functools", "itertools",
    "collections", "collections.abc", "dataclasses", "operator", "numbers", "fractions",
    "decimal", "random", "statistics", "copy", "abc", "enum", "warnings", "traceback",
    "linecache", "time", "string", "re", "textwrap", "__future__", "logging", "logging.config", "logging.handlers",
)

PR_SET_CHILD_SUBREAPER = 36


_WARMED: set[str] = set()
# The isolation every child of this server applies; set up by ``run``.
JAIL: jail.Backend = jail.Limits("not prepared")


def _preload() -> None:
    import tempfile

    for name in PRELOAD:
        __import__(name)
    from .. import shapes

    # The children hold the grading process's stand-in for torch's symbolic shapes
    # (``shapes``), or the real module where the grading process loaded it (a batch
    # worker): a child that asks for any other name of it loads the real module from
    # disk, inside its jail. Loading it here would keep the server from answering
    # for a third of a second, which the first check of a ``grade run`` waited for.
    shapes.install()
    # What exists now (torch and the imports; in a forked server, the grader's memory,
    # already frozen by ``preload.load``) lives as long as the server: out of the
    # collector's reach at once, so that the collection after the warm-up walks only
    # what the warm-up made, not the million objects of a fresh interpreter's torch.
    gc.freeze()
    # torch._dynamo asks for the temporary directory when imported; found here once,
    # the answer is inherited, so a child (which may create no file) need not probe.
    tempfile.gettempdir()
    _warm_up()
    from . import child  # noqa: F401


def _warm(what: str) -> None:
    """Load an optional part (only "func" exists), once, and freeze the heap again."""
    if what == "func" and what not in _WARMED:
        _warm_up_func()
        _WARMED.add(what)
    # Children share the server's memory copy-on-write; a collection in a child
    # would touch (and so copy) every object. Freezing moves what exists now out
    # of the collector's reach.
    gc.collect()
    gc.freeze()


def _warm_up() -> None:
    """Run the autograd APIs a student may use once, in a single thread.

    Several of them import more of torch on first use (``backward(gradient=...)``
    pulls in sympy, ``torch.func`` pulls in dynamo); a jailed child cannot read
    those files, so they must already be in memory when it is forked.
    """
    import torch
    import torch.autograd.functional as F

    torch.set_num_threads(1)
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    ones = torch.ones(3, dtype=torch.float64)
    y = torch.stack([x[0] ** 2, x[1] ** 3, x[2]])
    y.backward(ones, retain_graph=True)
    y.backward(gradient=ones)
    (g,) = torch.autograd.grad(torch.sin(x), x, ones, create_graph=True, allow_unused=True)
    g.sum().backward()
    h = torch.eye(3, dtype=torch.float64) @ x
    h.retain_grad()
    torch.tanh(h).sum().backward()
    torch.nn.MSELoss(reduction="none")(x, x.detach()).mean().backward()
    cube = lambda t: (t**3).sum()  # noqa: E731
    F.jacobian(torch.sin, x.detach())
    F.hessian(cube, x.detach())
    F.vjp(torch.sin, x.detach(), ones)
    F.jvp(torch.sin, x.detach(), ones)
    F.hvp(cube, x.detach(), ones)
    torch.linalg.norm(x.detach())
    x.detach().numpy()
    repr(x)
    x.grad = None


def _warm_up_func() -> None:
    """torch.func and vmap import torch._dynamo on first use: about a second, so
    only done when the submission's text mentions them."""
    import torch
    import torch.autograd.forward_ad as fwd
    import torch.autograd.functional as F

    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    ones = torch.ones(3, dtype=torch.float64)
    cube = lambda t: (t**3).sum()  # noqa: E731
    F.jacobian(torch.sin, x.detach(), vectorize=True)
    torch.func.jacrev(torch.sin)(x.detach())
    torch.func.jacfwd(torch.sin)(x.detach())
    torch.func.hessian(cube)(x.detach())
    torch.func.grad(cube)(x.detach())
    torch.vmap(torch.sin)(x.detach())
    with fwd.dual_level():
        fwd.unpack_dual(torch.sin(fwd.make_dual(x.detach(), ones)))
    torch.autograd.grad(torch.sin(x), x, torch.eye(3, dtype=torch.float64), is_grads_batched=True)


def _children() -> list[int] | None:
    """This process's children from the kernel's own lists (orphans it reaps included),
    or None where the kernel keeps none (CONFIG_PROC_CHILDREN unset)."""
    found: list[int] = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as children:
                found += [int(pid) for pid in children.read().split()]
    except FileNotFoundError:
        return None
    return found


def _descendants_to_kill(active: set[int]) -> list[int]:
    """The server's children other than the live sandbox children: what they left behind."""
    children = _children()
    if children is not None:  # one small read instead of one per process on the machine
        return [pid for pid in children if pid not in active]
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in active:
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found.append(int(entry))
    return found


def _kill_orphans(active: set[int]) -> int:
    killed = 0
    for _ in range(100):
        orphans = _descendants_to_kill(active)
        if not orphans:
            break
        for pid in orphans:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                killed += 1
            except (ProcessLookupError, ChildProcessError):
                pass
    return killed


MAX_REQUEST_BYTES = 64 * 1024


def _handle(request: dict, fds: list[int], active: set[int], sock: socket.socket) -> dict:
    op = request.get("op")
    if op == "spawn":
        if len(fds) != 1:
            return {"error": "spawn needs one socket"}
        pid = os.fork()
        if pid == 0:
            sock.close()
            from . import child

            child.run(fds[0], JAIL)
        active.add(pid)
        return {"pid": pid}
    if op == "warm":
        _warm(str(request.get("what", "")))
        return {"ok": True}
    if op == "reap":
        pid = int(request["pid"])
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = -1
        active.discard(pid)
        return {"status": status, "orphans": _kill_orphans(active)}
    return {"error": "unknown op"}


def serve(sock: socket.socket) -> None:
    """Answer the grader's requests (``channel`` messages) until it closes the socket."""
    active: set[int] = set()
    while True:
        try:
            payload, fds = channel.recv_with_fds(sock, max_bytes=MAX_REQUEST_BYTES, max_fds=1)
        except channel.ChannelClosed:
            break
        try:
            reply = _handle(json.loads(payload), fds, active, sock)
        finally:
            for fd in fds:
                os.close(fd)
        channel.send(sock, json.dumps(reply).encode())
    for pid in list(active):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _kill_orphans(set())


def run(sock: socket.socket, jail_dir: str, extras: list[str]) -> None:
    """Serve until the grader closes ``sock``; never returns."""
    global JAIL
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # torch._dynamo creates its cache folder when imported (torch.optim imports it):
    # name one that exists, empty and read-only, in the child's view too.
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = jail_dir
    # Namespaces need a process with one thread: before torch is imported.
    JAIL = jail.choose(jail_dir)
    try:
        isolation = JAIL.prepare()
    except OSError as exc:
        JAIL = jail.Limits(f"the kernel refused the jail: {exc}")
        isolation = JAIL.prepare()
    _preload()
    for what in extras or [""]:
        _warm(what)
    channel.send(sock, json.dumps({"ready": True, "isolation": isolation}).encode())
    serve(sock)
    # Interpreter teardown with torch loaded takes a noticeable fraction of a
    # second; every child is reaped by now, so leave at once.
    os._exit(0)


def main() -> None:
    run(socket.socket(fileno=int(sys.argv[1])), sys.argv[2], sys.argv[3:])


if __name__ == "__main__":
    main()
