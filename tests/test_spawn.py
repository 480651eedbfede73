"""The portable sandbox (a spawned interpreter per submission) gives the verdicts of the
forked one: "macOS-like" (fork present, not used) in this process, and "Windows-like"
(no os.fork, no resource, no fd passing, in the grader and in its children) in a
subprocess."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import api, report
from grader.sandbox import client, spawn
from grader.tasks import MAX_SCORE, MODULES

from .conftest import EXERCISES, MUTANTS, SOLUTIONS

SEED = 21
HANG = "\n\ndef vjp(f, x, v):\n    while True:\n        pass\n"
EXIT_AT_IMPORT = "\n\nraise SystemExit(3)\n"
WINDOWS_LIKE = """
import sys
from grader.sandbox.spawned import _simulate_platform
_simulate_platform()  # AUTOGRAD_LAB_SIMULATE=windows: no fork, no resource, no fd passing
import os, socket
assert not hasattr(os, "fork") and not hasattr(socket, "send_fds")
try:
    import resource
    raise SystemExit("resource is still importable")
except ImportError:
    pass
from grader.cli import entry
sys.argv = ["grade", *sys.argv[1:]]
entry()
"""


def verdicts(data: dict) -> list:
    return [(t["id"], t["status"], t["score"], [(c["id"], c["outcome"], c["score"], c.get("code", ""))
                                                 for c in t["checks"]]) for t in data["tasks"]]


def _submission(tmp_path: Path, name: str, append: dict[str, str]) -> Path:
    folder = tmp_path / name
    shutil.copytree(SOLUTIONS, folder)
    for module, text in append.items():
        with open(folder / f"{module}.py", "a", encoding="utf-8") as f:
            f.write(text)
    return folder


@pytest.fixture(scope="module")
def spawned():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOGRAD_LAB_SANDBOX", "spawn")
        server = spawn.start(fork=True)
    assert isinstance(server, spawn.SpawnServer)
    with server:
        yield server


def test_the_choice_of_sandbox_follows_the_platform():
    assert spawn.choose({}, "linux", True, True)[0] == "fork"
    assert spawn.choose({}, "win32", False, False)[0] == "spawn"
    assert spawn.choose({}, "darwin", True, True)[0] == "spawn"
    assert spawn.choose({"AUTOGRAD_LAB_SANDBOX": "fork"}, "darwin", True, True)[0] == "fork"
    assert spawn.choose({"AUTOGRAD_LAB_SANDBOX": "spawn"}, "linux", True, True) == ("spawn", "AUTOGRAD_LAB_SANDBOX=spawn")


@pytest.mark.parametrize("case", ["solutions", "stubs", "wrong", "hang", "exit_at_import"])
def test_macos_like_spawn_gives_the_forked_verdicts(case, grade, spawned, tmp_path):
    path = {
        "solutions": lambda: SOLUTIONS,
        "stubs": lambda: EXERCISES,
        "wrong": lambda: _submission(tmp_path, "wrong", {
            "ex03_vjp": (MUTANTS / "ex03_vjp" / "jv_instead_of_jtv.py").read_text(encoding="utf-8"),
            "ex04_detach": (MUTANTS / "ex04_detach" / sorted(p.name for p in (MUTANTS / "ex04_detach").glob("*.py"))[0])
            .read_text(encoding="utf-8")}),
        "hang": lambda: _submission(tmp_path, "hang", {"ex03_vjp": HANG}),
        "exit_at_import": lambda: _submission(tmp_path, "exit", {"ex01_backward": EXIT_AT_IMPORT}),
    }[case]()
    patterns = ("ex03",) if case == "hang" else ()
    forked = grade(path, seed=SEED, patterns=patterns, timeout=2.0)
    portable = api.grade(path, seed=SEED, patterns=patterns, timeout=2.0, server=spawned)
    report.validate(portable)
    assert verdicts(portable) == verdicts(forked)
    if case == "solutions":
        assert portable["score"] == portable["max_score"] == MAX_SCORE
    if case == "stubs":
        assert portable["score"] == 0
    if case == "hang":
        assert {t["id"]: t["status"] for t in portable["tasks"]}["ex03_vjp.vjp"] == "timeout"


def test_a_memory_bomb_is_stopped_by_the_kernel_limit_in_a_spawned_child(grade, spawned, tmp_path):
    path = _submission(tmp_path, "bomb", {"ex07_higher_order": "\n\ndef hvp(f, x, v):\n    return torch.ones(1 << 34)\n"})
    forked = grade(path, seed=SEED, patterns=("ex07_higher_order.hvp",))
    portable = api.grade(path, seed=SEED, patterns=("ex07_higher_order.hvp",), server=spawned)
    assert verdicts(portable) == verdicts(forked)
    assert portable["tasks"][0]["score"] == 0


def _windows_like(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRAD_LAB_SIMULATE": "windows", "NO_COLOR": "1"}
    env.pop("AUTOGRAD_LAB_SANDBOX", None)
    return subprocess.run([sys.executable, "-c", WINDOWS_LIKE, *args], capture_output=True, text=True, env=env,
                          timeout=900)


@pytest.mark.parametrize("case", ["solutions", "stubs", "hang"])
def test_windows_like_runs_give_the_forked_verdicts(case, grade, tmp_path):
    path = {"solutions": SOLUTIONS, "stubs": EXERCISES}.get(case) or _submission(tmp_path, "hang", {"ex03_vjp": HANG})
    extra = ("-k", "ex03", "--timeout", "2") if case == "hang" else ()
    done = _windows_like("run", str(path), "-o", str(tmp_path / "r.json"), "--seed", str(SEED), *extra)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "isolation: a fresh Python process for each submission (this platform has no os.fork" in done.stderr
    assert "only the grader's wall-clock limit holds" in done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    report.validate(data)
    forked = grade(path, seed=SEED, patterns=("ex03",) if case == "hang" else (), timeout=2.0 if case == "hang" else 10.0)
    assert verdicts(data) == verdicts(forked)
    assert data["score"] == {"solutions": MAX_SCORE, "stubs": 0}.get(case, data["score"])


def test_the_windows_like_child_really_has_no_fork_and_no_resource(tmp_path):
    """The child applies no kernel limit it does not have, and says so."""
    env = {"AUTOGRAD_LAB_SIMULATE": "windows", "AUTOGRAD_LAB_SANDBOX": "spawn"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with spawn.start(fork=True) as server:
            assert isinstance(server, spawn.SpawnServer)
            child = server.open({"sources": {m: (SOLUTIONS / f"{m}.py").read_text() for m in MODULES}},
                                client.Limits(timeout=10))
            assert server.locked == []
            child.close()
        del os.environ["AUTOGRAD_LAB_SIMULATE"]
        with spawn.start(fork=True) as server:
            assert isinstance(server, spawn.SpawnServer)
            child = server.open({"sources": {}}, client.Limits(timeout=10))
            assert set(server.locked) >= {"cpu", "files", "memory"}
            child.close()
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def test_a_stranger_cannot_take_a_spawned_childs_place(tmp_path):
    spawned = spawn._Spawned(str(tmp_path))
    port = spawned.listener.getsockname()[1]
    import socket

    stranger = socket.create_connection(("127.0.0.1", port))
    stranger.sendall(b"0" * 32 + b"\n")
    sock = spawned.connect(120)
    assert sock is not None and sock.getpeername() != stranger.getsockname()
    stranger.close()
    sock.close()
    spawned.kill()


@pytest.mark.parametrize("how, detail", [("os._exit(3)", "exited with status 3"),
                                         ("os.kill(os.getpid(), 9)", "killed by SIGKILL")])
def test_a_spawned_child_that_dies_in_a_call_is_crashed(spawned, how, detail):
    source = f"import os\ndef die():\n    {how}\n"
    child = spawned.open({"sources": {"m": source}}, client.Limits(timeout=20))
    result = child.call("m", "die")
    assert result.kind == "crashed"
    assert str(result.detail).format(**result.detail.params) == detail
    assert child.call("m", "die") is result  # a dead child answers nothing more
