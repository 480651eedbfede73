"""The portable sandbox child: ``python -I -m grader.sandbox.spawned PORT``.

Where the grader cannot fork a child from a server that has torch loaded (Windows has
no ``os.fork``; on macOS forking after system frameworks are loaded is unsafe) each
submission gets a fresh interpreter instead. It reads a one-time token on stdin,
connects back to the grader on 127.0.0.1:PORT (sockets are what every platform can
wait on with a deadline), imports torch and what students may import, sends
``{"ready": true}``, receives its setup, applies the limits the platform has, and
then serves calls with ``child._Child``: the same request handling, recorder and
replies (JSON header + raw tensor bytes, never pickle) as the forked child.

Nothing here needs ``os.fork``, ``resource`` or ``socket.send_fds``.
"""
from __future__ import annotations

import json
import math
import os
import socket
import sys

MAX_SETUP_BYTES = 256 * 1024 * 1024


def _simulate_platform() -> None:
    """Tests run the Windows-like path on Linux: without fork, resource and fd passing."""
    if os.environ.get("AUTOGRAD_LAB_SIMULATE") == "windows":
        for name in ("fork", "forkpty", "setsid", "killpg"):
            if hasattr(os, name):
                delattr(os, name)
        for name in ("send_fds", "recv_fds"):
            if hasattr(socket, name):
                delattr(socket, name)
        sys.modules["resource"] = None  # type: ignore[assignment]  # import resource -> ImportError


def _lock_down(config: dict, sock: socket.socket) -> list[str]:
    """The limits this platform offers; which ones were set."""
    import torch

    applied = []
    try:
        import resource
    except ImportError:  # Windows: the grader's wall clock is the only limit
        resource = None
    if resource is not None:
        cpu = int(math.ceil(config["cpu_seconds"]))
        for name, value, label in (("RLIMIT_CPU", (cpu, cpu + 1), "cpu"), ("RLIMIT_FSIZE", (0, 0), "files"),
                                   ("RLIMIT_CORE", (0, 0), "core")):
            try:
                resource.setrlimit(getattr(resource, name), value)
                applied.append(label)
            except (ValueError, OSError, AttributeError):
                pass
        try:
            from .child import _vm_size

            memory = _vm_size() + int(config["memory_mb"]) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            applied.append("memory")
        except (ValueError, OSError, AttributeError):
            pass  # macOS: no /proc and no enforced RLIMIT_AS
    if config.get("workdir"):
        os.chdir(config["workdir"])
    sys.path[:] = []
    torch.set_num_threads(1)
    return applied


def main() -> None:
    _simulate_platform()
    token = sys.stdin.buffer.readline().strip()
    port = int(sys.argv[1])
    code = 0
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.settimeout(None)
        sock.sendall(token + b"\n")
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)  # student prints go nowhere; the channel is the socket
        from . import channel, server

        server._preload()
        channel.send(sock, json.dumps({"ready": True}).encode())
        config = json.loads(channel.recv(sock, max_bytes=MAX_SETUP_BYTES))
        for what in config.get("warm", []):
            server._warm(str(what))
        applied = _lock_down(config, sock)
        # Said before any student code is loaded: after that, only sealed replies.
        channel.send(sock, json.dumps({"locked": applied}).encode())
        from .child import _Child, _refuse_signal_handlers, _unlist_the_grader

        _refuse_signal_handlers()
        child = _Child(sock, config)
        child.load()
        _unlist_the_grader()
        child.serve()
    except BaseException:  # noqa: B036 - the child must end through os._exit only
        code = 70
    os._exit(code)


if __name__ == "__main__":
    main()
