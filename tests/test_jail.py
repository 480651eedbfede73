"""The kernel jail, attacked as root and as an unprivileged user.

Three modes, each a real grading process started by this test:

- ``root``: the grader runs as root (CI); children get namespaces, a read-only
  chroot, uid 65534, Landlock and seccomp.
- ``user``: the grader runs as a throwaway unprivileged user created here
  (a laptop, most CI runners); children get a user namespace instead of root.
- ``user-no-userns``: the same user where the kernel refuses unprivileged user
  namespaces (as Ubuntu 23.10+ does): Landlock and seccomp alone must hold.

Every attack class of ``tests/jail_driver.py`` runs in every mode, with its
expected verdict, and then: no secret in any output, no file outside changed,
no process left, and the server still serving.
"""
from __future__ import annotations

import hashlib
import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from .conftest import ROOT, SOLUTIONS
from .test_sandbox import _sandbox_processes

DRIVER = ROOT / "tests" / "jail_driver.py"
USER = "agl-jail-test"
MODES = ("root", "user", "user-no-userns")
SECRET = f"AGLSECRET-{uuid.uuid4().hex}"  # in the grading process's environment
MARKER = f"marker-{uuid.uuid4().hex}"     # in a file the grading user can read

sys.path.insert(0, str(ROOT / "tests"))
from jail_driver import ATTACKS  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel jail is Linux's")


def _require_root() -> None:
    if os.getuid() != 0:
        pytest.fail("these tests create a user and switch to it: run them as root (CI does)")


def _user() -> tuple[int, int]:
    """The throwaway unprivileged user, created on first use; fails (never skips) if it cannot be."""
    _require_root()
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        done = subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                               "--shell", "/usr/sbin/nologin", USER], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"cannot create the unprivileged user {USER}: {done.stderr.strip() or done.returncode}")
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, entry.pw_gid


def _user_namespaces_allowed() -> bool:
    """Whether this kernel lets the unprivileged user create a user namespace."""
    uid, gid = _user()
    done = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--",
                           "unshare", "--user", "true"], capture_output=True, timeout=60)
    return done.returncode == 0


STAGES: list[str] = []  # empty folders the scripts mount through; removed after each run


def _reachable_script(needed: list[str]) -> str:
    """Shell lines that, in a private mount namespace, let any user reach ``needed``.

    A folder on the way that others cannot enter (``/root``, mode 700, holds the
    Python installation here) is covered with an empty tmpfs holding only the
    entries on the way, bind-mounted from the real ones; nothing on disk changes.
    """
    blocked: dict[str, set[str]] = {}
    for path in needed:
        parts = Path(path).parts
        for depth in range(1, len(parts) - 1):
            folder = str(Path(*parts[:depth]))
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                if any(folder.startswith(b.rstrip("/") + "/") for b in blocked):
                    pytest.fail(f"{path}: nested folders closed to other users ({folder}); cannot test as a user")
                blocked.setdefault(folder, set()).add(parts[depth])
                break
    lines = ["set -e"]
    for folder, names in blocked.items():
        stage = tempfile.mkdtemp(prefix="agl-stage-")
        STAGES.append(stage)
        for name in sorted(names):
            lines += [f"mkdir -p {shlex.quote(stage + '/' + name)}",
                      f"mount --bind {shlex.quote(folder + '/' + name)} {shlex.quote(stage + '/' + name)}"]
        lines.append(f"mount -t tmpfs -o mode=755 agl-reach {shlex.quote(folder)}")
        for name in sorted(names):
            lines += [f"mkdir -p {shlex.quote(folder + '/' + name)}",
                      f"mount --move {shlex.quote(stage + '/' + name)} {shlex.quote(folder + '/' + name)}"]
    return "\n".join(lines)


def _run_grader(mode: str, args: list[str], workdir: Path) -> subprocess.CompletedProcess:
    """``python tests/jail_driver.py ARGS`` as the mode's user, with the secret in its environment."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8", "AGL_CI_TOKEN": SECRET}
    command = [sys.executable, str(DRIVER), *args] + (["--deny-namespaces"] if mode == "user-no-userns" else [])
    if mode == "root":
        return subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, timeout=600)
    done = run_staged(["exec " + as_user(command, env)], workdir)
    if done.returncode != 0 and "setpriv" in done.stderr:
        pytest.fail(f"cannot run as {USER}: {done.stderr.strip()[-500:]}")
    return done


def as_user(command: list[str], env: dict[str, str]) -> str:
    """The shell line that runs ``command`` as the unprivileged test user, with no
    capabilities and only ``env`` for its environment."""
    uid, gid = _user()
    return (f"setpriv --reuid={uid} --regid={gid} --clear-groups --inh-caps=-all -- "
            f"env -i {' '.join(shlex.quote(f'{k}={v}') for k, v in env.items())} "
            f"{' '.join(shlex.quote(c) for c in command)}")


def run_staged(lines: list[str], workdir: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Shell ``lines`` in a private mount namespace where what a run needs (Python, the
    project, ``workdir``) is reachable by the test user; the staged copies removed after."""
    needed = [sys.base_prefix, sys.prefix, os.path.realpath(sys.executable), str(ROOT), str(workdir)]
    script = _reachable_script(needed) + "\n" + "\n".join(lines)
    try:
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script],
                              cwd=workdir, capture_output=True, text=True, timeout=timeout)
    finally:
        while STAGES:
            shutil.rmtree(STAGES.pop(), ignore_errors=True)


def _workdir(mode: str) -> Path:
    """A folder the grading user owns, with a marker secret and another student's report."""
    folder = Path(tempfile.mkdtemp(prefix=f"agl-jail-{mode}-"))
    (folder / "reports").mkdir()
    (folder / "marker.txt").write_text(MARKER)
    (folder / "reports" / "other.json").write_text('{"score": 1}\n')
    os.chmod(folder / "marker.txt", 0o600)
    if mode != "root":
        uid, gid = _user()
        for path in (folder, folder / "reports", folder / "marker.txt", folder / "reports" / "other.json"):
            os.chown(path, uid, gid)
    os.chmod(folder, 0o755)
    return folder


def _snapshot(*folders: Path) -> dict[str, tuple]:
    """Every file and folder with its mode, owner, size, times and content hash."""
    out = {}
    for folder in folders:
        for path in [folder, *sorted(folder.rglob("*"))]:
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            out[str(path)] = (st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns, digest)
    return out


_RUNS: dict[str, dict] = {}


def _attacks(mode: str) -> dict:
    """Run every attack once per mode (about 60 children), with the state around it."""
    if mode not in _RUNS:
        workdir = _workdir(mode)
        watched = (workdir, SOLUTIONS, ROOT / "grader" / "checks")
        before = _snapshot(*watched)
        processes = set(_sandbox_processes())
        shm = set(os.listdir("/dev/shm"))
        done = _run_grader(mode, ["attacks", str(workdir)], workdir)
        assert done.returncode == 0, done.stderr[-2000:]
        run = json.loads(done.stdout)
        run.update(stdout=done.stdout, stderr=done.stderr, changed=_changes(before, _snapshot(*watched)),
                   left=_sandbox_processes(exclude=processes), new_shm=set(os.listdir("/dev/shm")) - shm)
        _RUNS[mode] = run
        shutil.rmtree(workdir)
    return _RUNS[mode]


def _changes(before: dict, after: dict) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


# Attacks whose refusal has a precise form. Raw system calls must be refused by the
# filter itself (EPERM), not by some later check: x32 calls, for one, would fail with
# ENOSYS on this kernel anyway.
STOPPED = {"copy_environment": lambda v: v == [], "raw_fork": lambda v: v == "blocked: errno 11"}
STOPPED.update({name: (lambda v: v == "blocked: errno 1") for name in (
    "kill_grader_raw_syscall", "ptrace_grader", "process_vm_readv_grader", "pidfd_open_grader",
    "clone_new_user_namespace", "unshare_user_namespace", "sysv_shared_memory", "memfd_create", "inotify",
    "io_uring", "bpf", "userfaultfd", "perf_event_open", "mount", "add_key", "x32_syscall",
    "posix_message_queue", "sigaction_raw_syscall")})


@pytest.mark.parametrize("name", sorted(ATTACKS))
@pytest.mark.parametrize("mode", MODES)
def test_attack_is_stopped(mode, name):
    result = _attacks(mode)["results"][name]
    if name == "memory_bomb" and result["kind"] == "crashed":
        return  # the address-space limit may end the child instead of raising MemoryError
    assert result["kind"] == "returned", result
    check = STOPPED.get(name, lambda v: isinstance(v, str) and v.startswith("blocked"))
    assert check(result["value"]), result


@pytest.mark.parametrize("mode", MODES)
def test_no_secret_reaches_any_output(mode):
    run = _attacks(mode)
    text = run["stdout"] + run["stderr"]
    solution = (SOLUTIONS / "ex03_vjp.py").read_text(encoding="utf-8")
    assert SECRET not in text and SECRET.split("-")[1] not in text
    assert MARKER not in text
    assert not any(line.strip() and line.strip() in text for line in solution.splitlines() if len(line.strip()) > 30)


@pytest.mark.parametrize("mode", MODES)
def test_no_file_outside_the_sandbox_changes(mode):
    run = _attacks(mode)
    assert run["changed"] == []
    assert run["new_shm"] == set()


@pytest.mark.parametrize("mode", MODES)
def test_no_process_is_left_and_the_server_survives(mode):
    run = _attacks(mode)
    assert run["left"] == []
    assert run["server_alive"] is True


@pytest.mark.parametrize("mode", MODES)
def test_the_isolation_in_force_is_recorded(mode):
    info = _attacks(mode)["isolation"]
    assert info["kernel"] is True and info["seccomp"] is True and info["landlock_abi"] >= 1
    if mode == "root":
        assert info["chroot"] and info["uid"] == 65534 and {"mount", "net"} <= set(info["namespaces"])
    elif mode == "user" and _user_namespaces_allowed():
        assert info["chroot"] and info["uid"] == _user()[0] and {"user", "mount", "net"} <= set(info["namespaces"])
    else:  # refused by the kernel (or by the test, for user-no-userns): Landlock and seccomp alone
        assert not info["chroot"] and info["namespaces"] == [] and info["uid"] == _user()[0]


# --- whole grading runs --------------------------------------------------------------

HOSTILE_VJP = '''
def vjp(f, x, v):
    import os, signal
    stolen = []
    for path in ({solution!r}, {marker!r}):
        try:
            stolen.append(open(path).read())
        except OSError:
            pass
    for pid in (os.getppid(), {grader_pid}):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        open({fake_report!r}, "w").write('{{"score": 130}}')
    except OSError:
        pass
    try:
        open({other_report!r}, "w").write('{{"score": 130}}')
    except OSError:
        pass
    leaked = [k + "=" + v for k, v in os.environ.items()]
    if stolen:
        namespace = {{}}
        exec(stolen[0], namespace)
        return namespace["vjp"](f, x, v)
    raise ValueError("found: " + " ".join(leaked + stolen))
'''


def _hostile_submission(folder: Path, workdir: Path, report: Path, other: Path, grader_pid: int) -> Path:
    sub = folder / "submission"
    shutil.copytree(SOLUTIONS, sub)
    code = HOSTILE_VJP.format(solution=str(SOLUTIONS / "ex03_vjp.py"), marker=str(workdir / "marker.txt"),
                              fake_report=str(report), other_report=str(other), grader_pid=grader_pid)
    with open(sub / "ex03_vjp.py", "a", encoding="utf-8") as f:
        f.write("\n" + code)
    return sub


@pytest.mark.parametrize("mode", ("root", "user"))
def test_a_hostile_grade_run_gains_nothing_and_the_report_is_written(mode):
    workdir = _workdir(mode)
    report = workdir / "report.json"
    sub = _hostile_submission(workdir, workdir, report, workdir / "reports" / "other.json", os.getpid())
    if mode != "root":
        uid, gid = _user()
        for path in [sub, *sub.rglob("*")]:
            os.chown(path, uid, gid)
    before = _snapshot(workdir / "reports")
    processes = set(_sandbox_processes())
    done = _run_grader(mode, ["grade", str(sub), str(report)], workdir)
    assert _sandbox_processes(exclude=processes) == []
    assert done.returncode == 0, done.stderr[-2000:]
    text = report.read_text(encoding="utf-8")
    data = json.loads(text)
    tasks = {t["id"]: t for t in data["tasks"]}
    assert tasks["ex03_vjp.vjp"]["score"] == 0 and tasks["ex03_vjp.vjp"]["status"] == "error"
    assert tasks["ex03_vjp.multitask_grads"]["status"] == "passed"
    assert "found:" in text  # the attack ran, and what it found is in the report: nothing
    for secret in (SECRET, MARKER, "AGL_CI_TOKEN"):
        assert secret not in text + done.stdout + done.stderr
    assert _snapshot(workdir / "reports") == before
    assert data["isolation"]["kernel"] is True
    shutil.rmtree(workdir)


@pytest.mark.parametrize("mode", ("root", "user"))
def test_a_batch_student_cannot_touch_another_students_report(mode):
    workdir = _workdir(mode)
    out = workdir / "batch"
    honest_report = out / "reports" / "honest.json"
    hostile = _hostile_submission(workdir, workdir, out / "reports" / "fake.json", honest_report, os.getpid())
    honest = workdir / "honest"
    shutil.copytree(SOLUTIONS, honest)
    if mode != "root":
        uid, gid = _user()
        for path in [hostile, honest, *hostile.rglob("*"), *honest.rglob("*")]:
            os.chown(path, uid, gid)
        out.mkdir()
        os.chown(out, uid, gid)
    processes = set(_sandbox_processes())
    done = _run_grader(mode, ["batch", str(honest), str(hostile), str(out)], workdir)
    assert _sandbox_processes(exclude=processes) == []
    assert done.returncode == 0, done.stderr[-2000:]
    honest_data = json.loads(honest_report.read_text(encoding="utf-8"))
    hostile_data = json.loads((out / "reports" / "hostile.json").read_text(encoding="utf-8"))
    assert honest_data["score"] == honest_data["max_score"] > 0
    assert hostile_data["score"] < hostile_data["max_score"]
    assert sorted(p.name for p in (out / "reports").iterdir()) == ["honest.json", "hostile.json"]
    shutil.rmtree(workdir)


MEMORY_PROBE = """
import json, os, sys
sys.path.insert(0, {root!r})
from tests.test_jail import _search_memory
from grader import cli  # what `grade run` has loaded when it forks the server
from grader.sandbox import client, spawn
copies = [k + "=" + v for k, v in os.environ.items()]  # the worst case: every value decoded, then freed
del copies
server = spawn.start(fork={fork})
child = server.open({{"sources": {{"m": "def ok():\\n    return 1\\n"}}}}, client.Limits(timeout=20))
assert child.call("m", "ok").value == 1
out = {{}}
for name in ("AGL_CI_TOKEN", "AGL_SHORT"):
    out[name] = _search_memory(child.pid, os.environ[name].split("-")[-1].encode())
child.close()
server.close()
print(json.dumps(out))
"""


@pytest.mark.parametrize("fork", [True, False], ids=["forked-server", "fresh-server"])
def test_a_childs_memory_holds_no_byte_of_the_graders_environment(fork):
    """Read from outside: every readable mapping of a live child, searched for secrets
    that were in the grading process's environment from its start (a long token and a
    short one), after the grader decoded every variable once."""
    _require_root()
    short = f"s-{uuid.uuid4().hex[:6]}"
    env = {"PATH": "/usr/bin:/bin", "AGL_CI_TOKEN": SECRET, "AGL_SHORT": short}
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE.format(root=str(ROOT), fork=fork)], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for name, (found, scanned) in json.loads(done.stdout).items():
        assert scanned > 50 * 2**20, name  # torch is in there: the search really read the image
        assert found == [], name


def _search_memory(pid: int, needle: bytes) -> tuple[list[str], int]:
    found, scanned = [], 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if "r" not in fields[1] or len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]"):
                continue
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except OSError:
                continue
            scanned += len(data)
            if needle in data:
                found.append(line.strip())
    return found, scanned


def test_grade_batch_refuses_weak_isolation_unless_told(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from grader import cli
    from grader.sandbox import jail

    monkeypatch.setattr(jail, "kernel_isolation_available", lambda: False)
    (tmp_path / "class" / "a").mkdir(parents=True)
    runner = CliRunner()
    refused = runner.invoke(cli.main, ["batch", str(tmp_path / "class"), "-o", str(tmp_path / "out")])
    assert refused.exit_code == 2 and "--allow-weak-isolation" in refused.output
    assert not (tmp_path / "out").exists()


def test_grade_batch_with_weak_isolation_allowed_says_so_in_every_report(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from grader import cli
    from grader.sandbox import jail

    monkeypatch.setattr(jail, "kernel_isolation_available", lambda: False)
    shutil.copytree(SOLUTIONS, tmp_path / "class" / "alice")
    done = CliRunner().invoke(cli.main, ["batch", str(tmp_path / "class"), "-o", str(tmp_path / "out"),
                                         "--allow-weak-isolation", "-k", "ex01", "--jobs", "1"])
    assert done.exit_code == 0, done.output
    data = json.loads((tmp_path / "out" / "reports" / "alice.json").read_text(encoding="utf-8"))
    assert data["isolation"]["weak_isolation_allowed"] is True
    assert data["score"] == data["max_score"]


@pytest.mark.parametrize("lang, words", [("en", "Isolation: Linux kernel jail (Landlock ABI"),
                                         ("zh", "隔离：Linux 内核沙箱（Landlock ABI")])
def test_grade_run_says_what_isolation_held(tmp_path, lang, words):
    grade = shutil.which("grade") or str(Path(sys.executable).parent / "grade")
    done = subprocess.run([grade, "run", str(SOLUTIONS), "-k", "ex01", "-o", str(tmp_path / "r.json"),
                           "--lang", lang], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if words in line]
    assert len(lines) == 1 and "seccomp" in lines[0]
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["isolation"]["kernel"] is True and report["isolation"]["environment"] == "empty"


def test_a_protected_tree_inside_a_readable_one_is_left_out(tmp_path):
    from grader.sandbox import jail

    for name in ("site/torch/lib", "site/numpy", "site/grader/checks", "site/other"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "site" / "module.py").write_text("")
    protected = [str(tmp_path / "site" / "grader")]
    granted = jail.readable_paths([str(tmp_path / "site")], protected)
    assert sorted(granted) == sorted(str(tmp_path / "site" / n) for n in ("module.py", "numpy", "other", "torch"))
    deeper = jail.readable_paths([str(tmp_path)], [str(tmp_path / "site" / "grader" / "checks")])
    assert str(tmp_path / "site" / "grader") not in deeper and str(tmp_path / "site" / "numpy") in deeper


def test_only_the_installation_is_importable(monkeypatch, tmp_path):
    """``python -m`` puts the working directory (a class folder) first on sys.path."""
    from grader.sandbox import jail, kernel

    monkeypatch.setattr(sys, "path", [str(tmp_path), "", *sys.path])
    assert not any(kernel.beneath(r, str(tmp_path)) for r in jail.import_roots())
    assert str(tmp_path) not in jail.import_path() and "" not in jail.import_path()
    assert any(kernel.beneath(os.path.realpath(__import__("torch").__file__), r) for r in jail.import_roots())


SYMBOLIC_SHAPES_TASK = '''

def vjp(f, x, v):
    # Any name of torch's symbolic shapes beyond the stand-in's two: the real module,
    # loaded from disk inside the jail.
    from torch.fx.experimental.symbolic_shapes import ShapeEnv, guard_or_false
    assert guard_or_false(True) and ShapeEnv is not None
    x = x.detach().requires_grad_(True)
    f(x).backward(gradient=v)
    return x.grad
'''


@pytest.mark.parametrize("mode", ("root", "user"))
def test_a_child_reaches_every_name_of_torchs_symbolic_shapes(mode):
    """The grading process and the children of its sandbox server hold a light
    stand-in for torch's symbolic shapes (``grader.shapes``); any other name of it
    loads the real module, from disk, inside the jail, as root or not."""
    workdir = _workdir(mode)
    sub = workdir / "submission"
    shutil.copytree(SOLUTIONS, sub)
    with open(sub / "ex03_vjp.py", "a", encoding="utf-8") as f:
        f.write(SYMBOLIC_SHAPES_TASK)
    if mode != "root":
        uid, gid = _user()
        for path in [sub, *sub.rglob("*")]:
            os.chown(path, uid, gid)
    report = workdir / "report.json"
    done = _run_grader(mode, ["grade", str(sub), str(report)], workdir)
    assert done.returncode == 0, done.stderr[-2000:]
    tasks = {t["id"]: t for t in json.loads(report.read_text(encoding="utf-8"))["tasks"]}
    assert tasks["ex03_vjp.vjp"]["status"] == "passed", tasks["ex03_vjp.vjp"]
    assert all(t["status"] == "passed" for t in tasks.values())
    shutil.rmtree(workdir)
