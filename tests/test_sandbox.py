"""The sandbox on its own, with hostile code the static scan would have refused.

These prove the second line of defence: even code that reaches the child gets
an honest verdict, within bounded time, and leaves no process behind.
"""
from __future__ import annotations

import os
import time

import pytest
import torch

from grader.sandbox import client, spawn, wire

HOSTILE = '''
import os, sys, time, signal, ctypes, torch

def ok(x):
    return x * 2

def spin():
    while True:
        pass

def ignore_signals():
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(s, signal.SIG_IGN)
    while True:
        time.sleep(0.01)

def exit_hard():
    os._exit(0)

def exit_soft():
    sys.exit(0)

def segfault():
    ctypes.string_at(0)

def memory_bomb():
    return torch.ones(1 << 34)

def list_bomb():
    return [0] * (1 << 34)

def shout():
    sys.stdout.write("x" * (100 * 1024 * 1024))
    sys.stdout.flush()
    return torch.ones(2)

def double_fork():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(600)
        os._exit(0)
    return torch.ones(1)

def read_file(path):
    with open(path) as f:
        return f.read()

def write_file(path):
    with open(path, "w") as f:
        f.write("{}")
    return 1

def frames():
    found = []
    f = sys._getframe(0)
    while f is not None:
        found.extend(k for k in f.f_locals if k in ("expected", "want"))
        f = f.f_back
    return found

def mutate(x):
    x.add_(1)
    x.requires_grad_(True)
    return x.detach()

class Liar(torch.Tensor):
    def __eq__(self, other):
        return True

def lie():
    return torch.zeros(3).as_subclass(Liar)

def nan():
    return torch.full((3,), float("nan"))

def graders_modules():
    return sorted(name for name in sys.modules if name.startswith("grader"))
'''


@pytest.fixture
def open_child(server):
    children = []

    def make(timeout: float = 2.0, memory_mb: int = 512):
        child = server.open({"sources": {"hostile": HOSTILE}},
                            client.Limits(timeout=timeout, memory_mb=memory_mb))
        children.append(child)
        return child

    yield make
    for child in children:
        child.close()


def test_the_graders_modules_cannot_be_looked_up_from_the_sandbox(open_child):
    """sys.modules["grader.sandbox.child"] would lead to the recorder and its evidence."""
    result = open_child().call("hostile", "graders_modules")
    assert result.kind == "returned" and result.value == [], result.value


def test_a_plain_call_returns_a_plain_tensor(open_child):
    result = open_child().call("hostile", "ok", torch.arange(3.0))
    assert result.kind == "returned"
    assert torch.equal(result.value.tensor, torch.tensor([0.0, 2.0, 4.0]))


@pytest.mark.parametrize("function", ["spin", "ignore_signals"])
def test_endless_code_times_out_within_the_limit(open_child, function):
    started = time.monotonic()
    result = open_child(timeout=1.0).call("hostile", function)
    assert result.kind == "timeout"
    assert time.monotonic() - started < 5


def test_os_exit_is_a_crash(open_child):
    assert open_child().call("hostile", "exit_hard").kind == "crashed"


def test_sys_exit_is_reported_as_raised(open_child):
    result = open_child().call("hostile", "exit_soft")
    assert result.kind == "raised" and result.exception["type"] == "SystemExit"


def test_segfault_is_a_crash(open_child):
    result = open_child().call("hostile", "segfault")
    assert result.kind == "crashed" and result.detail.params["signal"] == "SIGSEGV"


@pytest.mark.parametrize("function", ["memory_bomb", "list_bomb"])
def test_memory_bomb_is_stopped_by_the_limit(open_child, function):
    result = open_child(memory_mb=256).call("hostile", function)
    assert result.kind in ("raised", "crashed")


def test_a_flood_of_output_goes_nowhere(open_child):
    result = open_child(timeout=10).call("hostile", "shout")
    assert result.kind == "returned"


def test_a_child_cannot_fork(open_child):
    result = open_child().call("hostile", "double_fork")
    assert result.kind == "raised" and result.exception["type"] == "BlockingIOError"


@pytest.mark.parametrize("target", ["solutions", "checks", "parent_cmdline"])
def test_the_child_sees_no_files(open_child, target):
    here = os.path.dirname(os.path.abspath(__file__))
    path = {
        "solutions": os.path.join(here, "..", "solutions", "ex03_vjp.py"),
        "checks": os.path.join(here, "..", "grader", "checks", "check_ex03_vjp.py"),
        "parent_cmdline": f"/proc/{os.getpid()}/cmdline",  # where a fake report would be aimed
    }[target]
    result = open_child().call("hostile", "read_file", os.path.abspath(path))
    assert result.kind == "raised" and result.exception["type"] in ("FileNotFoundError", "PermissionError")


def test_the_child_cannot_write_files(open_child, tmp_path):
    target = tmp_path / "fake-report.json"
    result = open_child().call("hostile", "write_file", str(target))
    assert result.kind in ("raised", "crashed")
    assert not target.exists() or target.read_text() == ""


def test_no_expected_value_lives_in_the_child(open_child):
    want = torch.ones(3)  # noqa: F841 - a caller's local that the child must not see
    result = open_child().call("hostile", "frames")
    assert result.kind == "returned" and result.value == []


def test_inputs_are_copies_and_mutation_is_reported(open_child):
    x = torch.arange(3.0)
    result = open_child().call("hostile", "mutate", x)
    assert torch.equal(x, torch.arange(3.0)) and not x.requires_grad
    arg = result.evidence["arguments"][0]
    assert arg["changed"] and arg["requires_grad"]


def test_a_lying_subclass_arrives_as_plain_data(open_child):
    result = open_child().call("hostile", "lie")
    assert type(result.value.tensor) is torch.Tensor
    assert result.value.info["class"].endswith("Liar")
    assert not torch.equal(result.value.tensor, torch.ones(3))


def test_decoding_rejects_garbage():
    for blob in (b"", b"AGL1", b"AGL1\xff\xff\xff\xff", b"not a message", wire.MAGIC + b"\x02\x00\x00\x00{}"):
        with pytest.raises(wire.WireError):
            wire.decode(blob)


def test_decoding_rejects_a_buffer_that_does_not_match_its_shape():
    good = wire.encode(torch.ones(4))
    with pytest.raises(wire.WireError):
        wire.decode(good[:-4])


def test_no_sandbox_process_outlives_its_server():
    before = set(_sandbox_processes())
    with spawn.start() as srv:
        child = srv.open({"sources": {"hostile": HOSTILE}}, client.Limits(timeout=2))
        child.call("hostile", "ignore_signals")
        pid = child.pid
        server_pid = srv.process.pid
    time.sleep(0.2)
    assert not _alive(pid)
    assert not _alive(server_pid)
    assert _sandbox_processes(exclude=before) == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _sandbox_processes(exclude: set[int] = frozenset()) -> list[int]:
    """Live processes started by this test session (its descendants; conftest makes it
    the subreaper of every orphan), other than pytest's own helpers."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    children.setdefault(int(stat.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    found, todo = [], list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        if pid not in exclude and _alive(pid):
            found.append(pid)
    return found


def test_only_tasks_with_run_time_rules_are_watched():
    """The profile hook costs every call while it is on: the child turns it on only
    for the tasks the grader lists as having run-time rules."""
    import sys

    import torch

    from grader.sandbox.child import _Child

    source = ("import torch\n"
              "def watched(x):\n    x = x.clone().requires_grad_()\n    return torch.autograd.grad((x * x).sum(), x)[0]\n"
              "def unwatched(x):\n    return watched(x)\n")
    child = _Child(None, {"sources": {"ex99_probe": source}, "record": ["ex99_probe.watched"]})
    before = list(sys.meta_path)
    try:
        child.load()
        x = torch.ones(3)
        assert "torch.autograd.grad" in child.call({"module": "ex99_probe", "function": "watched", "args": [x]})["evidence"]["used"]
        assert child.call({"module": "ex99_probe", "function": "unwatched", "args": [x]})["evidence"]["used"] == []
    finally:
        sys.meta_path[:] = before
        sys.modules.pop("ex99_probe", None)


def test_the_recorder_says_whether_autograd_ran_during_a_watched_call():
    """Any run of autograd counts, whoever called it (a transform built at import
    calls torch.autograd.grad from torch's own code); printing a tensor does not; an
    unwatched call says nothing; what the worker reads of it is a bool or nothing."""
    import sys

    import torch

    from grader.sandbox.child import _Child
    from grader.sandbox.client import _safe_evidence

    source = ("import torch\n"
              "_G = torch.func.grad(lambda t: (t * t).sum())\n"
              "def by_backward(x):\n    x = x.clone().requires_grad_()\n    (x * x).sum().backward()\n    return x.grad\n"
              "def by_transform(x):\n    return _G(x)\n"
              "def by_formula(x):\n    print(x)\n    return 2 * x\n"
              "def profiled(x):\n    import cProfile\n    p = cProfile.Profile()\n    p.enable()\n"
              "    x = x.clone().requires_grad_()\n    (x * x).sum().backward()\n    p.disable()\n    return x.grad\n"
              "def profiled_formula(x):\n    import cProfile\n    p = cProfile.Profile()\n    p.enable()\n"
              "    p.disable()\n    return 2 * x\n")
    names = ("by_backward", "by_transform", "by_formula", "profiled", "profiled_formula")
    child = _Child(None, {"sources": {"ex99_probe": source}, "record": [f"ex99_probe.{n}" for n in names]})
    before = list(sys.meta_path)
    try:
        child.load()
        x = torch.ones(3)
        seen = {n: child.call({"module": "ex99_probe", "function": n, "args": [x]})["evidence"]["autograd"]
                for n in names}
        # a profiler of the student's own replaces the hook: passes are still counted, but
        # no pass is unknown, not "no autograd"
        assert seen == {"by_backward": True, "by_transform": True, "by_formula": False, "profiled": True,
                        "profiled_formula": None}
        # counted without the hook: the passes alone tell
        child.record = frozenset()
        child.counted = frozenset({"ex99_probe.by_backward", "ex99_probe.by_formula", "ex99_probe.by_transform"})
        assert {n: child.call({"module": "ex99_probe", "function": n, "args": [x]})["evidence"]["autograd"]
                for n in ("by_backward", "by_transform", "by_formula")} == {
            "by_backward": True, "by_transform": True, "by_formula": False}
        child.counted = frozenset()
        assert child.call({"module": "ex99_probe", "function": "by_backward", "args": [x]})["evidence"]["autograd"] is None
    finally:
        sys.meta_path[:] = before
        sys.modules.pop("ex99_probe", None)
    assert _safe_evidence({"autograd": "yes"})["autograd"] is None
    assert _safe_evidence({"autograd": False})["autograd"] is False


def test_the_recorder_sees_an_api_bound_to_the_task_or_handed_to_torch():
    """No submission frame on the stack (the task's name is the API itself), an
    nn.Module whose forward is a partial of the API (or a batched grad through it), an
    optimizer given it as its closure: each call is the submission's."""
    source = ("import functools, torch\nimport torch.autograd.functional as AF\n"
              "class Box(torch.nn.Module):\n    pass\n"
              "box = Box()\nbox.forward = functools.partial(AF.jacobian)\n"
              "batched = Box()\nbatched.forward = functools.partial(torch.autograd.grad)\n"
              "direct = functools.partial(AF.jacobian, torch.sin)\n"
              "def through_module(x):\n    return box(torch.sin, x)\n"
              "def through_batched(x):\n    x = x.clone().requires_grad_()\n"
              "    return batched(torch.sin(x), x, torch.eye(3), None, False, False, False, True)[0]\n"
              "def printed(x):\n    print(x)\n    return x\n"
              "def through_functorch(x):\n    import functorch\n    return functorch.jacrev(torch.sin)(x)\n"
              "def through_optimizer(x):\n    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)\n"
              "    return opt.step(functools.partial(list, map(AF.jacobian, [torch.sin], [x])))\n"
              "class J(torch.autograd.Function):\n    forward = staticmethod(AF.jacobian)\n"
              "    @staticmethod\n    def setup_context(ctx, inputs, output):\n        pass\n"
              "def through_function_apply(x):\n    return J.apply(torch.sin, x)\n"
              "class P(functools.partial):\n    pass\n"
              "def through_a_partial_subclass(x):\n    return torch.autocast('cpu', enabled=False)(P(AF.jacobian, torch.sin))(x)\n"
              "_JAC = torch.func.jacrev(torch.sin)\n"
              "def a_transform_built_at_import(x):\n    return _JAC(x)\n"
              "_WRAPPED = torch.autocast('cpu', enabled=False)(torch.func.jacrev(torch.sin))\n"
              "def a_transform_handed_to_autocast(x):\n    return _WRAPPED(x)\n"
              "class Meta(type(torch.Tensor)):\n    def __eq__(cls, other):\n        raise RuntimeError('ran in the hook')\n"
              "    __hash__ = type.__hash__\n"
              "class T(torch.Tensor, metaclass=Meta):\n    pass\n"
              "def prints_a_subclass(x):\n    print(x.as_subclass(T))\n    return AF.jacobian(torch.sin, x)\n")
    names = ("direct", "through_module", "through_batched", "printed", "through_functorch", "through_optimizer",
             "through_function_apply", "through_a_partial_subclass", "a_transform_built_at_import", "prints_a_subclass",
             "a_transform_handed_to_autocast")
    used = {n: e["used"] for n, e in _evidence({"ex99_probe": source}, "ex99_probe", names).items()}
    assert used["direct"] == used["through_module"] == ["torch.autograd.functional.jacobian"]
    assert "torch.autograd.grad(is_grads_batched=True)" in used["through_batched"]
    assert used["printed"] == []
    assert "functorch.jacrev" in used["through_functorch"]
    # handed to the optimizer as its closure (inside a map), a Function as its forward,
    # torch.autocast as a partial of a subclass
    for name in ("through_optimizer", "through_function_apply", "through_a_partial_subclass", "prints_a_subclass"):
        assert "torch.autograd.functional.jacobian" in used[name], name  # (no student == ran in the hook)
    assert "torch.func.jacrev" in used["a_transform_built_at_import"]
    assert "torch.func.jacrev" in used["a_transform_handed_to_autocast"]  # autocast holds what jacrev made



def test_the_recorder_sees_the_legacy_vmap_and_autograd_torch_runs_for_the_submission():
    """The legacy vmap (public as torch.autograd.gradcheck.vmap), called or built at
    import; and torch's own frames running autograd on what the submission gave them
    (a distribution's generic entropy). Torch's own use of the engine inside an API
    (jacobian calling grad) is that API's, and adds nothing."""
    source = ("import sys, torch\nimport torch.autograd.functional as AF\n"
              "_legacy = sys.modules['torch.autograd.gradcheck'].vmap\n"
              "_BUILT = _legacy(torch.sin)\n"
              "def legacy_called(x):\n    return _legacy(torch.sin)(x)\n"
              "def legacy_built_at_import(x):\n    return _BUILT(x)\n"
              "class _P(torch.distributions.ExponentialFamily):\n    arg_constraints = {}\n"
              "    def __init__(self, s):\n        self.s = s\n        super().__init__(validate_args=False)\n"
              "    @property\n    def _natural_params(self):\n        return (self.s,)\n"
              "    def _log_normalizer(self, s):\n        return (s ** 3).sum()\n"
              "    @property\n    def _mean_carrier_measure(self):\n        return 0\n"
              "def entropy_of_own_family(x):\n    return _P(x[:1].clone()).entropy()\n"
              "def jacobian_only(x):\n    return AF.jacobian(torch.sin, x)\n"
              "def normal_entropy(x):\n    return torch.distributions.Normal(x, 1.0).entropy()\n")
    names = ("legacy_called", "legacy_built_at_import", "entropy_of_own_family", "jacobian_only", "normal_entropy")
    used = {n: e["used"] for n, e in _evidence({"ex99_probe": source}, "ex99_probe", names).items()}
    assert used["legacy_called"] == used["legacy_built_at_import"] == ["torch.autograd.gradcheck.vmap"]
    assert used["entropy_of_own_family"] == ["torch.autograd.grad"]
    assert used["jacobian_only"] == ["torch.autograd.functional.jacobian"]
    assert used["normal_entropy"] == []


def test_the_recorder_counts_a_call_made_in_another_module():
    """A watched call made in another module of the submission is the submission's."""
    lender = "import torch\ndef lent(x):\n    x = x.clone().requires_grad_()\n    (x * x).sum().backward()\n    return x.grad\n"
    borrower = "import ex98_lender as m\ndef borrows(x):\n    return m.lent(x)\n"
    evidence = _evidence({"ex98_lender": lender, "ex99_borrower": borrower}, "ex99_borrower", ["borrows"])
    assert "torch.Tensor.backward" in evidence["borrows"]["used"]


def _evidence(sources: dict[str, str], module: str, names) -> dict[str, dict]:
    """The evidence an in-process sandbox child gives for each of ``module``'s functions
    ``names``, watched, called on torch.ones(3); the child's import hooks undone after."""
    import sys

    import torch

    from grader.sandbox.child import _Child

    child = _Child(None, {"sources": sources, "record": [f"{module}.{n}" for n in names]})
    before = list(sys.meta_path)
    try:
        child.load()
        x = torch.ones(3)
        return {n: child.call({"module": module, "function": n, "args": [x]})["evidence"] for n in names}
    finally:
        sys.meta_path[:] = before
        for name in sources:
            sys.modules.pop(name, None)

# One framing: the channel, with and without descriptors -------------------------------

def _open_fds() -> set[int]:
    """This process's open descriptors (not counting the one that listed them)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(fd))
            found.add(int(fd))
        except OSError:
            pass
    return found


def test_a_message_carries_a_descriptor_that_works_on_the_other_side():
    import socket

    from grader.sandbox import channel

    a, b = socket.socketpair()
    mine, passed = socket.socketpair()
    try:
        channel.send_with_fds(a, b'{"op": "spawn"}', [passed.fileno()])
        payload, fds = channel.recv_with_fds(b, deadline=time.monotonic() + 5, max_bytes=100, max_fds=1)
        assert payload == b'{"op": "spawn"}' and len(fds) == 1
        received = socket.socket(fileno=fds[0])
        received.sendall(b"through the passed socket")
        assert mine.recv(100) == b"through the passed socket"
        received.close()
        channel.send(a, b"plain")  # a message without descriptors reads the same way
        assert channel.recv_with_fds(b, max_bytes=100, max_fds=1) == (b"plain", [])
    finally:
        for s in (a, b, mine, passed):
            s.close()


def test_descriptors_beyond_the_cap_or_with_a_refused_message_are_closed():
    import socket

    from grader.sandbox import channel

    a, b = socket.socketpair()
    extra = [socket.socketpair() for _ in range(3)]
    try:
        before = _open_fds()
        channel.send_with_fds(a, b"x", [s.fileno() for s, _ in extra])
        payload, fds = channel.recv_with_fds(b, max_bytes=10, max_fds=1)
        assert payload == b"x" and len(fds) == 1
        assert _open_fds() - before == {fds[0]}  # the two beyond the cap are closed
        os.close(fds[0])
        channel.send_with_fds(a, b"y" * 100, [extra[0][0].fileno()])
        with pytest.raises(channel.MessageTooLarge):
            channel.recv_with_fds(b, max_bytes=10, max_fds=1)
        assert _open_fds() == before
    finally:
        for s in (a, b, *(x for pair in extra for x in pair)):
            s.close()


def test_a_message_sent_in_pieces_arrives_whole_and_a_late_one_times_out():
    import socket
    import threading

    from grader.sandbox import channel

    a, b = socket.socketpair()
    frame = (5).to_bytes(8, "little") + b"hello"
    sender = threading.Thread(target=lambda: [a.send(frame[i:i + 3]) or time.sleep(0.01)
                                              for i in range(0, len(frame), 3)])
    sender.start()
    assert channel.recv(b, deadline=time.monotonic() + 5, max_bytes=10) == b"hello"
    sender.join()
    with pytest.raises(channel.ChannelTimeout):
        channel.recv(b, deadline=time.monotonic() + 0.1, max_bytes=10)
    a.close()
    with pytest.raises(channel.ChannelClosed):
        channel.recv(b, max_bytes=10)
    b.close()


def test_the_server_refuses_a_spawn_without_a_socket_and_keeps_serving():
    with spawn.start() as srv:
        srv.wait_ready()
        assert srv._request({"op": "spawn"}, 30.0) == {"error": "spawn needs one socket"}
        assert srv._request({"op": "no such op"}, 30.0) == {"error": "unknown op"}
        child = srv.open({"sources": {"hostile": HOSTILE}}, client.Limits(timeout=20))
        assert torch.equal(child.call("hostile", "ok", torch.ones(2)).value.tensor, torch.full((2,), 2.0))
        child.close()


def test_every_caller_starts_the_sandbox_through_spawn_start():
    """One way to start the server: nothing outside the sandbox package builds one itself."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    builders = re.compile(r"\b(?:client\.)?Server\(|SpawnServer\(")
    found = []
    for path in [*root.glob("grader/**/*.py"), *root.glob("tests/*.py"), *root.glob("benchmarks/*.py")]:
        if path.parent.name == "sandbox" and path.name in ("spawn.py", "client.py") or path.name == "test_sandbox.py":
            continue
        found += [f"{path.name}:{n}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                  if builders.search(line) and "HTTPServer(" not in line]
    assert found == []


def test_the_server_finds_what_its_children_left_with_or_without_the_kernels_child_lists(monkeypatch):
    """The kernel's per-task child lists and a scan of /proc name the same processes."""
    import subprocess

    from grader.sandbox import server

    sleepers = [subprocess.Popen(["sleep", "60"]) for _ in range(3)]
    try:
        keep = {sleepers[0].pid}
        listed = set(server._descendants_to_kill(keep))
        monkeypatch.setattr(server, "_children", lambda: None)
        scanned = set(server._descendants_to_kill(keep))
        assert {p.pid for p in sleepers[1:]} <= listed and sleepers[0].pid not in listed
        assert listed == scanned
    finally:
        for p in sleepers:
            p.kill()
            p.wait()


def test_torchscript_hides_autograd_only_where_its_code_can_run_it(tmp_path, monkeypatch):
    """TorchScript runs its autograd in C++, where the recorder cannot see it: a module
    holding some that can (a backward, a grad, a call the inlining left) leaves the
    evidence unknown; TorchScript that cannot leaves it as the recorder saw it."""
    import importlib

    from grader.sandbox.child import _hides_autograd

    (tmp_path / "agl_scripted_probe.py").write_text(
        "import torch\n"
        "@torch.jit.script\n"
        "def identity(t: torch.Tensor) -> torch.Tensor:\n    return t\n"
        "@torch.jit.script\n"
        "def by_backward(x: torch.Tensor) -> torch.Tensor:\n"
        "    x = x.detach().requires_grad_(True)\n    (x * x).sum().backward()\n"
        "    g = x.grad\n    assert g is not None\n    return g\n"
        "@torch.jit.script\n"
        "def calls_by_backward(x: torch.Tensor) -> torch.Tensor:\n    return by_backward(x) + 1\n"
        "class M(torch.nn.Module):\n"
        "    def forward(self, x):\n        return x\n"
        "    @torch.jit.export\n"
        "    def other(self, x):\n"
        "        x = x.detach().requires_grad_(True)\n"
        "        g = torch.autograd.grad([(x * x).sum()], [x])[0]\n        assert g is not None\n        return g\n"
        "with_grad = torch.jit.script(M())\n"
        "plain = torch.jit.script(torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(2, 2)))\n"
        "traced = torch.jit.trace(torch.nn.Identity(), torch.ones(2))\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    probe = importlib.import_module("agl_scripted_probe")
    seen = {name: _hides_autograd(getattr(probe, name))
            for name in ("identity", "by_backward", "calls_by_backward", "with_grad", "plain", "traced")}
    assert seen == {"identity": False, "by_backward": True, "calls_by_backward": True, "with_grad": True,
                    "plain": False, "traced": False}
    assert _hides_autograd(probe.torch) is False and _hides_autograd(3) is False


def test_a_pass_counts_only_through_torchs_own_engine_and_a_replaced_record_is_tampering():
    """Code that reached past the scan (the scan is the first line): a fake engine swapped
    in for torch's returns at once and is no pass; a record of the recorder's replaced
    by containers that drop what is added is tampering, and the next call starts afresh."""
    import sys

    import torch

    from grader.sandbox.child import _Child
    from grader.taskrecord import TAMPERED

    source = (
        "import gc\nimport torch\nimport torch.autograd.graph as g\n"
        "class _Fake:\n    _execution_engine = type('E', (), {'run_backward': staticmethod(lambda *a, **k: ())})()\n"
        "def swapped(x):\n    real = g.Variable\n    g.Variable = _Fake\n"
        "    try:\n        torch.autograd.backward(torch.zeros((), requires_grad=True))\n"
        "        torch.autograd.backward(torch.zeros((), requires_grad=True))\n"
        "    finally:\n        g.Variable = real\n    return 4 * x\n"
        "class Deaf(set):\n    def add(self, item):\n        pass\n"
        "def blinded(x):\n    for o in gc.get_objects():\n        if type(o).__name__ == '_Recorder':\n"
        "            o.used = Deaf()\n    t = x.clone().requires_grad_()\n"
        "    return torch.autograd.grad((t * t).sum(), t)[0]\n"
        "def honest(x):\n    t = x.clone().requires_grad_()\n    return torch.autograd.grad((t * t).sum(), t)[0]\n")
    names = ("swapped", "blinded", "honest")
    child = _Child(None, {"sources": {"ex99_probe": source}, "record": ["ex99_probe.blinded", "ex99_probe.honest"],
                          "counted": ["ex99_probe.swapped"]})
    before = list(sys.meta_path)
    try:
        child.load()
        x = torch.ones(3)
        evidence = {n: child.call({"module": "ex99_probe", "function": n, "args": [x]})["evidence"] for n in names}
        assert (evidence["swapped"]["passes"], evidence["swapped"]["autograd"]) == (0, False)
        assert TAMPERED in evidence["blinded"]["used"]
        assert evidence["honest"]["used"] == ["torch.autograd.grad"] and evidence["honest"]["passes"] == 1
    finally:
        sys.meta_path[:] = before
        sys.modules.pop("ex99_probe", None)
