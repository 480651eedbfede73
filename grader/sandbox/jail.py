"""Kernel isolation of the sandbox children, behind a small backend interface.

A backend is chosen once per sandbox server by what the platform offers:

- ``LinuxJail``: Landlock (read-only access to the Python installation and the
  import paths, no writes, no TCP, signals and abstract sockets scoped), a
  seccomp-bpf filter with ``no_new_privs``, and where the kernel allows them
  private user/mount/network/IPC/UTS namespaces with a read-only ``chroot`` that
  shows only those trees; as root, an unprivileged uid on top.
- ``Limits``: resource limits only (macOS, Windows, a kernel without Landlock):
  the weak backend, which ``grade batch`` refuses unless told otherwise.

The expensive part (opening the allowed trees, building the ruleset, mounting)
runs once in the server (``prepare``); each forked child only calls ``apply``,
a handful of system calls. Both return what is in force as a plain dict, which
the report records. ``apply`` either enforces everything ``prepare`` promised
or raises: a child never runs student code under less than was reported.

Landlock and seccomp are driven through raw system calls (ctypes): the PyPI
``landlock`` package knows neither network rules nor scoping (ABI 4 and 6), and
``pyseccomp`` needs the system's libseccomp, which a student laptop may lack;
the filter is a short, fixed program that is easier to audit than a
library's compiler (the mechanisms are in ``kernel``).
"""
from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path
from typing import Any

from . import kernel

UNPRIVILEGED_UID = 65534

# --- what the child may read ----------------------------------------------------------

# Read at run time by what student code may do honestly: fresh random seeds
# (torch.Generator().seed(), numpy), the user database and time zone (logging,
# time.localtime, getpass), the CPU count (os.cpu_count, torch).
# Shared libraries that a lazily imported extension module links to (sqlite3, ssl,
# lzma, ...) and the loader's cache: public, read-only system files.
SYSTEM_FILES = ("/dev/null", "/dev/urandom", "/dev/random", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
                "/etc/localtime", "/etc/ld.so.cache", "/sys/devices/system/cpu/online",
                "/sys/devices/system/cpu/possible")
SYSTEM_LIBRARIES = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")


def _installation_dirs() -> list[str]:
    import site
    import sysconfig

    dirs = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    dirs += [sysconfig.get_paths().get(k, "") for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    try:
        dirs += site.getsitepackages() + [site.getusersitepackages()]
    except AttributeError:
        pass
    return [os.path.realpath(d) for d in dirs if d]


def import_roots() -> list[str]:
    """The Python installation and the import paths inside it, as real absolute paths.

    Only paths of the installation count: ``sys.path[0]`` of ``python -m`` is the
    working directory (an instructor's class folder), and ``PYTHONPATH`` may name
    anything; a lazy import from there fails rather than open a folder to students.
    """
    installation = _installation_dirs()
    found = installation[:4] + [p for p in sys.path if p and os.path.isabs(p)
                                and any(kernel.beneath(os.path.realpath(p), d) for d in installation)]
    out: list[str] = []
    for path in found:
        real = os.path.realpath(path)
        if os.path.exists(real) and real not in out and real != "/":
            out.append(real)
    # A tree inside another is already covered by it.
    return sorted(p for p in out if not any(p != q and kernel.beneath(p, q) for q in out))


def import_path() -> list[str]:
    """``sys.path`` as a child keeps it: the entries of the installation only."""
    installation = _installation_dirs()
    return [p for p in sys.path if p and os.path.isabs(p)
            and any(kernel.beneath(os.path.realpath(p), d) for d in installation)]


def protected_paths() -> list[str]:
    """What student code must never read even where it sits inside an import path:
    the grader itself (hidden checks) and, for a source checkout, the repository
    (solutions, mutants)."""
    package = Path(__file__).resolve().parent.parent
    out = [str(package)]
    repo = package.parent
    if (repo / "solutions").is_dir() or (repo / ".git").exists():
        out += [str(repo / name) for name in ("solutions", "mutants", "exercises", "tests", ".git")]
    return out




def readable_paths(roots: list[str], protected: list[str], depth: int = 6) -> list[str]:
    """``roots`` minus ``protected``: a root that holds a protected tree is split into
    its entries (Landlock grants whole trees, so exclusion means not granting the parent)."""
    out: list[str] = []
    for root in roots:
        if any(kernel.beneath(root, p) for p in protected):
            continue
        if not any(kernel.beneath(p, root) for p in protected) or depth == 0:
            out.append(root)
            continue
        try:
            entries = sorted(os.listdir(root))
        except OSError:
            continue
        out += readable_paths([os.path.join(root, e) for e in entries], protected, depth - 1)
    return out


# --- the environment ------------------------------------------------------------------


def scrub_environment(keep: dict[str, str]) -> None:
    """Erase every trace of the inherited environment from this process's memory, then
    set ``keep``. For a server forked from the grading process: its image holds the
    grader's environment (CI tokens) in three places, all overwritten here before any
    child exists: the initial block on the stack (also what ``/proc/self/environ``
    reads), the bytes objects of ``posix.environ`` (shared by ``os.environ``), and
    libc's ``environ`` array. ``tests/test_jail.py`` searches a child's whole memory
    for a planted secret to prove nothing else kept a copy."""
    import posix

    offset = sys.getsizeof(b"") - 1  # where a bytes object's characters start
    for key, value in list(posix.environ.items()):
        for blob in (key, value):
            if type(blob) is bytes and len(blob) > 1:  # one-byte objects are shared singletons
                ctypes.memset(id(blob) + offset, 0, len(blob))
    posix.environ.clear()
    kernel.libc_handle().clearenv()
    try:
        with open("/proc/self/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        env_start, env_end = int(fields[47]), int(fields[48])  # fields 50 and 51 of proc(5)
    except (OSError, IndexError, ValueError):
        env_start = env_end = 0
    if 0 < env_start < env_end:
        ctypes.memset(env_start, 0, env_end - env_start)
    for key, value in keep.items():
        os.environ[key] = value


# --- backends -------------------------------------------------------------------------


class Backend:
    """What a platform can do to confine a sandbox child.

    ``prepare`` runs once in the sandbox server (it may be slow, and may change the
    server's own namespaces); ``apply`` runs in every child right after fork and
    before any student code, and raises rather than enforce less than ``prepare``
    reported. Both return the description the report records.
    """

    name = "none"
    sys_path: list[str] = []

    def prepare(self) -> dict[str, Any]:
        raise NotImplementedError

    def apply(self) -> None:
        raise NotImplementedError

    def keep_fds(self) -> tuple[int, ...]:
        """File descriptors ``apply`` still needs when the child closes the others."""
        return ()


class Limits(Backend):
    """Resource limits only (set by the child itself): for platforms without kernel isolation."""

    name = "limits"

    def __init__(self, why: str = "") -> None:
        self.why = why

    def prepare(self) -> dict[str, Any]:
        self.sys_path = import_path()
        return describe(self.name, kernel=False, why=self.why, uid=_uid())

    def apply(self) -> None:
        return None


class LinuxJail(Backend):
    name = "linux"

    def __init__(self, jail_dir: str | None = None) -> None:
        self.jail_dir = jail_dir
        self.abi = 0
        self.ruleset = -1
        self.chroot: str | None = None
        self.as_root = os.getuid() == 0
        self.namespaces: list[str] = []
        self.seccomp = False
        self.description: dict[str, Any] = {}

    def prepare(self) -> dict[str, Any]:
        """Namespaces and the read-only root first (they need a single-threaded process),
        then the Landlock ruleset; call before anything starts threads."""
        self.sys_path = import_path()
        roots = import_roots()
        roots += [r for r in {os.path.realpath(p) for p in SYSTEM_LIBRARIES if os.path.isdir(p)}
                  if not any(kernel.beneath(r, q) for q in roots)]
        readable = readable_paths(sorted(roots), protected_paths())
        readable += [p for p in SYSTEM_FILES if os.path.exists(p)]
        self.namespaces = kernel.enter_namespaces(self.as_root)
        if self.jail_dir and "mount" in self.namespaces:
            kernel.build_root(self.jail_dir, readable)
            self.chroot = self.jail_dir
        self.abi = kernel.landlock_abi()
        granted: list[str] = []
        if self.abi:
            self.ruleset, granted = kernel.landlock_ruleset(self.abi, readable)
        self.seccomp = kernel.seccomp_supported()
        uid = UNPRIVILEGED_UID if self.as_root and self.chroot else _uid()
        layers = []
        if self.abi:
            layers.append("landlock-fs")
            if self.abi >= 4:
                layers.append("landlock-net")
            if self.abi >= 6:
                layers.append("landlock-scope")
        self.description = describe(
            self.name, kernel=bool(self.abi) and self.seccomp, landlock_abi=self.abi, landlock=layers,
            seccomp=self.seccomp, namespaces=self.namespaces, chroot=self.chroot is not None, uid=uid,
            readable=len(granted))
        return self.description

    def keep_fds(self) -> tuple[int, ...]:
        return (self.ruleset,) if self.ruleset >= 0 else ()

    def apply(self) -> None:
        if self.chroot:
            os.chroot(self.chroot)
            os.chdir("/")
        if self.as_root and self.chroot:
            os.setgroups([])
            os.setresgid(UNPRIVILEGED_UID, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
            os.setresuid(UNPRIVILEGED_UID, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
        elif self.as_root or "user" in self.namespaces:
            kernel.drop_capabilities()
        kernel.prctl(kernel.PR_SET_NO_NEW_PRIVS, 1)
        if self.ruleset >= 0:
            kernel.syscall(kernel.SYS_LANDLOCK_RESTRICT_SELF, self.ruleset, 0)
            os.close(self.ruleset)
            self.ruleset = -1
        if self.seccomp:
            kernel.load_seccomp(kernel.seccomp_program(os.getpid()))


def _uid() -> int:
    return os.getuid() if hasattr(os, "getuid") else -1


def describe(backend: str, *, kernel: bool, **layers: Any) -> dict[str, Any]:
    """The isolation record of the report (schema: ``isolation``)."""
    out: dict[str, Any] = {"backend": backend, "kernel": kernel, "landlock_abi": 0, "landlock": [],
                           "seccomp": False, "namespaces": [], "chroot": False, "environment": "empty"}
    out.update(layers)
    return out


def choose(jail_dir: str | None = None) -> Backend:
    """The strongest backend this platform offers."""
    if not sys.platform.startswith("linux"):
        return Limits(f"no kernel isolation on {sys.platform}")
    if not kernel.landlock_abi():
        return Limits("this kernel has no Landlock")
    return LinuxJail(jail_dir)


def kernel_isolation_available() -> bool:
    """Whether a server on this machine would confine children with the kernel (cheap probe)."""
    return bool(kernel.landlock_abi()) and kernel.seccomp_supported()
