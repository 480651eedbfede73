"""The grader's side of the sandbox: start the server, open children, call them.

Everything that comes back from a child is untrusted bytes: it is size-capped,
decoded without running code, and the caller validates it further.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import GraderError
from ..options import DEFAULTS
from ..messages import phrase
from ..untrusted import escape
from . import channel

MAX_REPLY_BYTES = 64 * 1024 * 1024
MAX_OUTPUT = 4096  # characters of printed output kept per call, whatever the child claims
SERVER_START_SECONDS = 120.0
SERVER_REPLY_BYTES = 1024 * 1024  # the server's replies are a few fields; its isolation record the largest


class SandboxError(GraderError):
    """The sandbox itself (not the student's code) failed."""


@dataclass
class Limits:
    """Per-task limits: wall clock (enforced by the grader) and memory (by the kernel)."""

    timeout: float = DEFAULTS.timeout
    memory_mb: int = DEFAULTS.memory_mb


@dataclass
class CallResult:
    """What happened to one call into student code.

    ``kind`` is one of: returned, not_implemented, raised, missing, import_error,
    unencodable, timeout, crashed, garbled. ``value`` and ``exception`` come from
    the child and are untrusted.
    """

    kind: str
    value: Any = None
    exception: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    # English text (a gettext id); a ``messages.Phrase`` is a template filled from
    # its own parameters. Never text from the child: that is only ever a parameter.
    detail: str = ""
    seconds: float = 0.0
    output: str = ""  # what the call printed (untrusted text, capped in the child)
    output_truncated: bool = False


def _garbled(exc: Exception) -> CallResult:
    # The reason may quote the reply: plain text is a value, never a template.
    return CallResult("garbled", detail=escape(str(exc), 300))


# The server's whole environment: nothing of the grader's (CI tokens). A fresh
# server is started with it; a forked one erases what it inherited and sets it.
SERVER_ENVIRONMENT = {"OMP_NUM_THREADS": "1"}


class _Forked:
    """The little of ``subprocess.Popen`` that Server needs, for a forked server."""

    stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("sandbox server", timeout or 0)
            time.sleep(0.005)
        return self.returncode or 0


class Server:
    """One sandbox server process; start it early, it prepares torch in parallel.

    Made by ``spawn.start`` only, which picks it or the portable server for the platform.

    ``fork=True`` forks it from this process, which must have imported torch
    and done no torch work yet (the grading process, right at its start): one
    import of torch serves both, and the server erases the environment it
    inherited before anything else. Otherwise it is a fresh interpreter started
    with an empty environment.
    """

    def __init__(self, warm: tuple[str, ...] = (), fork: bool = False) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.jail = tempfile.mkdtemp(prefix="autograd-lab-jail-")
        os.chmod(self.jail, 0o555)
        if fork:
            self.process: Any = self._fork(ours, theirs, warm)
        else:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-m", "grader.sandbox.server", str(theirs.fileno()), self.jail, *warm],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                cwd=self.jail,
                env=SERVER_ENVIRONMENT,
                start_new_session=True,
            )
        theirs.close()
        self.sock = ours
        self.ready = False
        self.isolation: dict[str, Any] = {}
        self.warmed: set[str] = set(warm)

    def _fork(self, ours: socket.socket, theirs: socket.socket, warm: tuple[str, ...]) -> _Forked:
        from ..preload import load

        load()  # torch and sympy imported once, here, for both processes; a no-op if done
        from . import server

        pid = os.fork()
        if pid == 0:
            try:
                from . import jail

                jail.scrub_environment(SERVER_ENVIRONMENT)
                ours.close()
                os.setsid()
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.chdir(self.jail)
                server.run(theirs, self.jail, list(warm))
            finally:
                os._exit(70)
        return _Forked(pid)

    def _request(self, request: dict[str, Any] | None, timeout: float, fds: tuple[int, ...] = ()) -> dict[str, Any]:
        """Send ``request`` (None: only read) and read the server's reply."""
        try:
            if request is not None:
                payload = json.dumps(request).encode()
                if fds:
                    channel.send_with_fds(self.sock, payload, fds)
                else:
                    channel.send(self.sock, payload)
            reply = channel.recv(self.sock, deadline=time.monotonic() + timeout, max_bytes=SERVER_REPLY_BYTES)
        except (channel.ChannelClosed, channel.ChannelTimeout, channel.MessageTooLarge, OSError):
            raise SandboxError(self._failure("the sandbox server stopped answering")) from None
        return json.loads(reply)

    def _failure(self, what: str) -> str:
        if self.process.poll() is not None and self.process.stderr is not None:
            tail = self.process.stderr.read().decode(errors="replace").strip().splitlines()[-1:]
            return f"{what}: {' '.join(tail) or 'exit status ' + str(self.process.returncode)}"
        return what

    def wait_ready(self) -> None:
        if not self.ready:
            reply = self._request(None, SERVER_START_SECONDS)
            self.isolation = reply.get("isolation") if type(reply.get("isolation")) is dict else {}
            self.ready = True

    def open(self, config: dict[str, Any], limits: Limits) -> "Child":
        """Fork a child that serves the modules in ``config['sources']``."""
        self.wait_ready()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = int(self._request({"op": "spawn"}, 30.0, (theirs.fileno(),))["pid"])
        finally:
            theirs.close()
        key = secrets.token_bytes(32)
        setup = dict(config, memory_mb=limits.memory_mb, cpu_seconds=limits.timeout + 1, workdir=self.jail,
                     key=key.hex())
        child = Child(self, pid, ours, limits, key)
        try:
            channel.send(ours, json.dumps(setup).encode())
        except OSError:
            pass  # the child died at once; the first call reports it
        return child

    def warm(self, extras: tuple[str, ...]) -> None:
        """Load what these submissions need before forking for them (once per server)."""
        todo = [e for e in extras if e not in self.warmed]
        for what in todo:
            self.wait_ready()
            self._request({"op": "warm", "what": what}, SERVER_START_SECONDS)
            self.warmed.add(what)

    def reap(self, pid: int) -> int:
        return int(self._request({"op": "reap", "pid": pid}, 30.0)["status"])

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            if self.process.stderr is not None:
                self.process.stderr.close()
            os.rmdir(self.jail)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Child:
    """A sandboxed child holding one student module; calls share its state."""

    def __init__(self, server: Server, pid: int, sock: socket.socket, limits: Limits, key: bytes) -> None:
        self.server = server
        self.pid = pid
        self.sock = sock
        self.key = key  # every reply is sealed with it (``channel.seal``)
        self.replies = 0
        self.budget = limits.timeout
        self.limit = limits.timeout
        self.dead: CallResult | None = None

    def call(self, module: str, function: str, *args: Any, seconds: float | None = None,
             given: str = "") -> CallResult:
        """Call ``module.function(*args)`` in the child; no answer within ``seconds`` is a timeout.

        ``seconds`` defaults to what is left of the child's own budget. ``given``: the
        exercise's own code of a given function, run in the module instead of the
        submission's function of that name.
        """
        from . import wire  # imports torch: kept out of the server's start-up path

        if self.dead is not None:
            return self.dead
        allowed = self.budget if seconds is None else seconds
        started = time.monotonic()
        deadline = started + max(allowed, 0.0)
        try:
            request = {"module": module, "function": function, "args": list(args)}
            if given:
                request["given"] = given  # the exercise's own code for it, run in the module
            channel.send(self.sock, wire.encode(request))
            payload = channel.recv(self.sock, deadline=deadline, max_bytes=MAX_REPLY_BYTES)
        except channel.ChannelTimeout:
            return self._end(CallResult("timeout", detail=phrase("time limit {seconds:g} s", seconds=self.limit)), started)
        except (channel.ChannelClosed, OSError):
            return self._end(self._crash(), started)
        except channel.MessageTooLarge as exc:
            return self._end(_garbled(exc), started)
        finally:
            self.budget -= time.monotonic() - started
        try:
            payload = channel.unseal(self.key, self.replies, payload)
        except channel.Forged:
            return self._end(CallResult("garbled", detail=phrase(
                "a reply the sandbox did not write: the submission wrote to the grader's channel")), started)
        self.replies += 1
        try:
            reply = wire.decode(payload, max_bytes=MAX_REPLY_BYTES)
            result = _result_from_reply(reply)
        # Whatever the reply holds, reading it ends as data: a malformed one is garbled.
        except (wire.WireError, ValueError, TypeError, RecursionError) as exc:
            return self._end(_garbled(exc), started)
        result.seconds = time.monotonic() - started
        return result

    def _crash(self) -> CallResult:
        status = self._kill()
        if status >= 0 and os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            if sig == signal.SIGXCPU:
                return CallResult("timeout", detail="CPU time limit reached")
            return CallResult("crashed", detail=phrase("killed by {signal}", signal=name))
        code = os.WEXITSTATUS(status) if status >= 0 else -1
        return CallResult("crashed", detail=phrase("exited with status {code}", code=code))

    def _end(self, result: CallResult, started: float) -> CallResult:
        if self.dead is None:
            if result.kind != "crashed":
                self._kill()
            result.seconds = time.monotonic() - started
            self.dead = result
        return result

    def _kill(self) -> int:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        return self.server.reap(self.pid)

    def close(self) -> None:
        if self.dead is None:
            self.dead = CallResult("garbled", detail="closed")
            self._kill()


def _result_from_reply(reply: Any) -> CallResult:
    """The one place where a child's reply becomes the grader's data.

    Every text in it (exception type, message and frames, warnings, recorded API
    names, type names of returned values) passes through ``untrusted.escape``
    here, so the report and every view built from it start from safe text; any
    field of an unexpected type is dropped or shown as text, never trusted.
    """
    from . import wire

    if type(reply) is not dict or type(reply.get("status")) is not str:
        raise wire.WireError("reply is not a status record")
    kind = reply["status"]
    if kind not in {"returned", "not_implemented", "raised", "missing", "import_error", "unencodable"}:
        raise wire.WireError("unknown status " + escape(kind, 40))
    printed = reply.get("output") if type(reply.get("output")) is dict else {}
    text = printed.get("text") if type(printed.get("text")) is str else ""
    return CallResult(kind, value=_safe_value(reply.get("value"), 0), exception=_safe_exception(reply.get("exception")),
                      evidence=_safe_evidence(reply.get("evidence")),
                      output=escape(text, MAX_OUTPUT, multiline=True),
                      output_truncated=printed.get("truncated") is True or len(text) > MAX_OUTPUT)


def _safe_exception(raw: Any) -> dict[str, Any]:
    if type(raw) is not dict:
        return {}
    frames = []
    for frame in raw.get("frames") if type(raw.get("frames")) is list else []:
        if type(frame) is list and len(frame) >= 2 and type(frame[1]) is int:
            rest = [escape(part, 200) for part in frame[2:4]]
            frames.append([escape(frame[0], 200), max(0, min(frame[1], 10**9)), *rest])
    return {"type": escape(raw.get("type", ""), 80), "message": escape(raw.get("message", ""), 2000),
            "frames": frames[-8:]}


def _safe_evidence(raw: Any) -> dict[str, Any]:
    if type(raw) is not dict:
        return {}
    def items(key: str) -> list[Any]:
        return raw.get(key)[:100] if type(raw.get(key)) is list else []

    arguments = [{"index": a.get("index") if type(a.get("index")) is int else -1,
                  **{k: a.get(k) is True for k in ("changed", "requires_grad", "grad")},
                  "drift": a.get("drift") if type(a.get("drift")) is float and 0.0 <= a.get("drift") < 1e300 else None}
                 for a in items("arguments") if type(a) is dict]
    places = raw.get("places") if type(raw.get("places")) is dict else {}
    return {"used": [escape(name, 200) for name in items("used") if type(name) is str],
            "autograd": raw.get("autograd") if type(raw.get("autograd")) is bool else None,
            "unseen": raw.get("unseen") if raw.get("unseen") in ("hook", "torchscript") else None,
            "passes": raw.get("passes") if type(raw.get("passes")) is int and 0 <= raw.get("passes") < 10**9 else None,
            "default_dtype": raw.get("default_dtype") if raw.get("default_dtype") in ("float16", "bfloat16", "float32",
                                                                                    "float64") else None,
            "places": {escape(api, 200): [escape(p, 200) for p in where[:50] if type(p) is str]
                       for api, where in list(places.items())[:100] if type(api) is str and type(where) is list},
            "arguments": arguments,
            "warnings": [escape(w, 300) for w in items("warnings")[:5]]}


def _safe_value(value: Any, depth: int) -> Any:
    """The decoded value with the child's type names made safe (the wire bounds its depth)."""
    from . import wire

    if isinstance(value, wire.Opaque):
        return wire.Opaque(escape(value.type_name, 200))
    if isinstance(value, wire.Received):
        if value.info.get("class") is not None:
            value.info["class"] = escape(value.info["class"], 200)
        return value
    if isinstance(value, wire.FnSpec):
        return wire.Opaque("callable")
    if type(value) in (list, tuple) and depth < 64:
        return type(value)(_safe_value(v, depth + 1) for v in value)
    if type(value) is dict and depth < 64:
        return {escape(k, 200): _safe_value(v, depth + 1) for k, v in value.items()}
    return value
