"""Which sandbox runs student code here, and the portable one (a spawned interpreter).

``start()`` gives the forked server of ``client.Server`` where it is safe (Linux), and
``SpawnServer`` elsewhere: Windows (no ``os.fork``, no ``resource``), macOS (forking a
process that loaded system frameworks is unsafe), or when ``AUTOGRAD_LAB_SANDBOX=spawn``
asks for it. ``SpawnServer`` has the same interface (``open``, ``warm``, ``close``) and
its children are ``client.Child`` objects: the same calls, deadlines, size caps and
reply checks; only starting, killing and reaping differ. Each child is a fresh
``python -I -m grader.sandbox.spawned`` (see there) with a minimal environment, in an
empty working folder, started as soon as the server is made so that its torch import
overlaps the grader's own work.
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

from ..messages import phrase
from . import channel, client, jail

ENV_KEEP = ("PATH", "SYSTEMROOT", "WINDIR", "TEMP", "TMP", "TMPDIR", "LANG", "LC_ALL",
            "AUTOGRAD_LAB_SIMULATE", "AUTOGRAD_LAB_TEST_SESSION")


def choose(env: Any = None, platform: str | None = None, has_fork: bool | None = None,
           has_resource: bool | None = None) -> tuple[str, str]:
    """("fork" or "spawn", why) for this platform and environment."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    has_fork = hasattr(os, "fork") if has_fork is None else has_fork
    if has_resource is None:
        try:
            import resource  # noqa: F401
            has_resource = True
        except ImportError:
            has_resource = False
    forced = env.get("AUTOGRAD_LAB_SANDBOX", "")
    if forced == "spawn":
        return "spawn", "AUTOGRAD_LAB_SANDBOX=spawn"
    if not has_fork or not has_resource:
        return "spawn", "this platform has no os.fork or resource limits"
    if platform == "darwin" and forced != "fork":
        return "spawn", "forking after torch is loaded is not safe on macOS"
    return "fork", ""


def start(warm: tuple[str, ...] = (), fork: bool = False) -> client.Server | SpawnServer:
    """The sandbox server for this platform (see ``choose``): the one way to start one.

    ``fork=True`` is for a process that has imported torch and done no torch work yet
    (``grade run`` and a batch worker, right at their start): the server is
    forked from it, so one import of torch serves both. A process whose torch may have
    run already (thread pools started, which a fork cannot copy safely: a test session,
    a notebook) leaves it False and gets a server in a fresh interpreter. Where forking
    is unsafe or impossible (``choose``), either gets the portable ``SpawnServer``.
    """
    kind, _why = choose()
    return SpawnServer(warm) if kind == "spawn" else client.Server(warm=warm, fork=fork)


def describe() -> str | None:
    """One line saying which isolation is in force, when it is the portable one; else None
    (the forked sandbox reports its own)."""
    kind, why = choose()
    if kind != "spawn":
        return None
    try:
        import resource  # noqa: F401
        limits = ("CPU time and file-size limits set by the kernel (macOS enforces no memory limit)"
                  if sys.platform == "darwin" else "CPU time, memory and file-size limits set by the kernel")
    except ImportError:
        limits = "no kernel limits on this platform: only the grader's wall-clock limit holds"
    return f"isolation: a fresh Python process for each submission ({why}); {limits}"


class _Spawned:
    """One spawned child process, connected back over 127.0.0.1 with a one-time token."""

    def __init__(self, workdir: str) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.token = secrets.token_hex(16).encode()
        env = {k: v for k, v in os.environ.items() if k in ENV_KEEP}
        env["OMP_NUM_THREADS"] = "1"
        kwargs: dict[str, Any] = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt"
                                  else {"start_new_session": True})
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "grader.sandbox.spawned", str(self.listener.getsockname()[1])],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir, env=env,
            **kwargs)
        assert self.process.stdin is not None
        self.process.stdin.write(self.token + b"\n")
        self.process.stdin.close()
        self.sock: socket.socket | None = None

    def connect(self, timeout: float) -> socket.socket:
        """The child's socket once it has proved its token (strangers are turned away)."""
        deadline = time.monotonic() + timeout
        try:
            while self.sock is None:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise client.SandboxError("the sandbox process did not start "
                                              f"(exit status {self.process.poll()})")
                self.listener.settimeout(min(left, 0.5))
                try:
                    conn, _addr = self.listener.accept()
                except socket.timeout:
                    continue
                conn.settimeout(max(0.1, min(5.0, deadline - time.monotonic())))
                try:
                    line = conn.recv(len(self.token) + 1)
                except OSError:
                    line = b""
                if hmac.compare_digest(line.strip(), self.token):
                    conn.settimeout(None)
                    self.sock = conn
                else:
                    conn.close()
        finally:
            self.listener.close()
        return self.sock

    def kill(self) -> int:
        killpg = getattr(os, "killpg", None)
        try:
            if killpg is not None and os.name != "nt":
                import signal

                killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
        return self.process.wait()


class SpawnChild(client.Child):
    """``client.Child`` over a spawned process: only killing and reaping differ."""

    def __init__(self, server: "SpawnServer", spawned: _Spawned, sock: socket.socket, limits: client.Limits,
                 key: bytes) -> None:
        super().__init__(server, spawned.process.pid, sock, limits, key)  # type: ignore[arg-type]
        self.spawned = spawned

    def _kill(self) -> int:
        try:
            self.sock.close()
        except OSError:
            pass
        return self.spawned.kill()

    def _crash(self) -> client.CallResult:
        code = self._kill()
        if code < 0:  # POSIX: killed by a signal
            import signal

            if code == -getattr(signal, "SIGXCPU", -1000):
                return client.CallResult("timeout", detail="CPU time limit reached")
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            return client.CallResult("crashed", detail=phrase("killed by {signal}", signal=name))
        return client.CallResult("crashed", detail=phrase("exited with status {code}", code=code))

    def close(self) -> None:
        if self.dead is None:
            self.dead = client.CallResult("garbled", detail="closed")
            try:
                self.sock.close()  # the child's serve() ends on the closed channel
            except OSError:
                pass
            try:
                self.spawned.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.spawned.kill()


class SpawnServer:
    """The portable sandbox: a fresh interpreter per child, one kept starting ahead."""

    kind = "spawn"

    def __init__(self, warm: tuple[str, ...] = ()) -> None:
        self.warmed: set[str] = set(warm)
        self.workdir = tempfile.mkdtemp(prefix="autograd-lab-spawn-")
        os.chmod(self.workdir, 0o555)
        self.spare: _Spawned | None = _Spawned(self.workdir)
        self.locked: list[str] = []
        # What the report records: resource limits in a fresh process, no kernel jail.
        self.isolation = jail.describe("limits", kernel=False, why="a fresh Python process: " + choose()[1],
                                       environment="minimal")

    def wait_ready(self) -> None:
        return None

    def warm(self, extras: tuple[str, ...]) -> None:
        self.warmed |= set(extras)

    def open(self, config: dict[str, Any], limits: client.Limits) -> client.Child:
        spawned, self.spare = self.spare or _Spawned(self.workdir), None
        try:
            sock = spawned.connect(client.SERVER_START_SECONDS)
            deadline = time.monotonic() + client.SERVER_START_SECONDS
            json.loads(channel.recv(sock, deadline=deadline, max_bytes=4096))  # {"ready": true}
            key = secrets.token_bytes(32)
            setup = dict(config, memory_mb=limits.memory_mb, cpu_seconds=limits.timeout + 1,
                         workdir=self.workdir, warm=sorted(self.warmed), key=key.hex())
            channel.send(sock, json.dumps(setup).encode())
            self.locked = json.loads(channel.recv(sock, deadline=deadline, max_bytes=4096)).get("locked", [])
        except (channel.ChannelClosed, channel.ChannelTimeout, channel.MessageTooLarge, OSError, ValueError) as exc:
            spawned.kill()
            raise client.SandboxError(f"the sandbox process did not start: {type(exc).__name__}") from None
        except client.SandboxError:
            spawned.kill()
            raise
        return SpawnChild(self, spawned, sock, limits, key)

    def close(self) -> None:
        if self.spare is not None:
            self.spare.listener.close()
            self.spare.kill()
            self.spare = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "SpawnServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
