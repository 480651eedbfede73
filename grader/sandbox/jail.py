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
the filter below is a short, fixed program that is easier to audit than a
library's compiler.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import os
import struct
import sys
from pathlib import Path
from typing import Any

UNPRIVILEGED_UID = 65534

# --- Linux constants ------------------------------------------------------------------

SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
SYS_SECCOMP = 317
SYS_UNSHARE = 272
SYS_CAPSET = 126
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_CAPBSET_DROP = 24

LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_TRUNCATE = 1 << 14
FS_IOCTL_DEV = 1 << 15
# Every filesystem right each ABI knows: all are handled (denied unless granted).
FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
NET_BIND_TCP = 1
NET_CONNECT_TCP = 2
SCOPE_ABSTRACT_UNIX_SOCKET = 1
SCOPE_SIGNAL = 2

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_THREAD = 0x00010000
NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

# --- seccomp (x86_64) -----------------------------------------------------------------

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_SET_MODE_FILTER = 1
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JSET_K = 0x45
BPF_RET_K = 0x06

# Refused with EPERM. Grouped by what they would let student code do.
DENIED_SYSCALLS_X86_64 = {
    # reach another process: debug it, read or write its memory, take its files
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_open": 434, "pidfd_getfd": 438,
    "pidfd_send_signal": 424, "kcmp": 312, "migrate_pages": 256, "move_pages": 279, "process_madvise": 440,
    "process_mrelease": 448, "get_robust_list": 274, "setpriority": 141, "ioprio_set": 251,
    # the network, and sockets of any kind beyond the one inherited
    "socket": 41, "socketpair": 53, "connect": 42, "bind": 49, "listen": 50, "accept": 43, "accept4": 288,
    # run other programs, change what the jail is
    "execve": 59, "execveat": 322, "uselib": 134, "personality": 135,
    "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "open_tree_attr": 467,
    # kernel attack surface no student code needs
    "bpf": 321, "keyctl": 250, "add_key": 248, "request_key": 249, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "perf_event_open": 298, "userfaultfd": 323,
    "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
    "lookup_dcookie": 212, "syslog": 103, "acct": 163, "swapon": 167, "swapoff": 168, "reboot": 169,
    "quotactl": 179, "quotactl_fd": 443, "iopl": 172, "ioperm": 173, "vhangup": 153, "nfsservctl": 180,
    "sysfs": 139, "open_by_handle_at": 304, "name_to_handle_at": 303, "fanotify_init": 300,
    "fanotify_mark": 301, "inotify_init": 253, "inotify_init1": 294,
    # memory outside RLIMIT_AS, and kernel objects that outlive the process
    "memfd_create": 319, "memfd_secret": 447, "shmget": 29, "semget": 64, "msgget": 68, "mq_open": 240,
    # metadata, which Landlock does not cover: mode, owner, times, extended attributes
    "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93, "lchown": 94,
    "fchownat": 260, "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
    "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197, "lremovexattr": 198,
    "fremovexattr": 199, "setxattrat": 463, "removexattrat": 466, "file_setattr": 469,
    "mknod": 133, "mknodat": 259,
}
# New processes: EAGAIN, as RLIMIT_NPROC would say (threads stay possible where the
# limits allow them); clone3 says ENOSYS so that libc falls back to clone.
FORK_SYSCALLS_X86_64 = {"fork": 57, "vfork": 58}
SYS_CLONE, SYS_CLONE3 = 56, 435
# Allowed only towards the child itself (first argument its pid, or 0 / -pid for its group).
OWN_PID_SYSCALLS_X86_64 = {"kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129,
                           "rt_tgsigqueueinfo": 297, "prlimit64": 302, "sched_setaffinity": 203,
                           "sched_setscheduler": 144, "sched_setparam": 142, "sched_setattr": 314}
# Requests refused by their second argument: typing into a terminal (TIOCSTI,
# TIOCLINUX), and naming a process to receive SIGIO (or any signal, F_SETSIG) when
# a descriptor becomes ready, which would signal the grader without kill(2).
SYS_IOCTL = 16
DENIED_IOCTLS = (0x5412, 0x541C, 0x8901, 0x8902)  # TIOCSTI, TIOCLINUX, FIOSETOWN, SIOCSPGRP
SYS_FCNTL = 72
DENIED_FCNTLS = (8, 10, 15)  # F_SETOWN, F_SETSIG, F_SETOWN_EX


class JailError(OSError):
    """A layer of the jail could not be put in place."""


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _syscall(nr: int, *args: int | ctypes._Pointer | ctypes.c_void_p | None) -> int:
    libc = _libc()
    converted = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    result = libc.syscall(ctypes.c_long(nr), *converted)
    if result < 0:
        err = ctypes.get_errno()
        raise JailError(err, os.strerror(err))
    return result


def _prctl(option: int, arg2: int = 0, arg3: int = 0) -> None:
    libc = _libc()
    if libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        err = ctypes.get_errno()
        raise JailError(err, os.strerror(err))


# --- Landlock -------------------------------------------------------------------------


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 if it has none (or is not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        return _syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    except (JailError, OSError, AttributeError):
        return 0


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _fs_rights(abi: int) -> int:
    return FS_RIGHTS_BY_ABI[min(abi, 5)]


def _landlock_ruleset(abi: int, readable: list[str]) -> tuple[int, list[str]]:
    """A ruleset fd granting reads of ``readable`` only; every other access denied."""
    handled_fs = _fs_rights(abi)
    fields = [handled_fs]
    if abi >= 4:
        fields.append(NET_BIND_TCP | NET_CONNECT_TCP)
    if abi >= 6:
        fields.append(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)
    attr = ctypes.create_string_buffer(struct.pack(f"<{len(fields)}Q", *fields), 8 * len(fields))
    ruleset = _syscall(SYS_LANDLOCK_CREATE_RULESET, attr, 8 * len(fields), 0)
    granted = []
    done = False
    try:
        for path in readable:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # gone since it was listed: nothing to grant
            try:
                rights = FS_READ_FILE | (FS_READ_DIR if os.path.isdir(path) else 0)
                rule = _PathBeneath(rights, fd)
                _syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.pointer(rule), 0)
                granted.append(path)
            finally:
                os.close(fd)
        done = True
    finally:
        if not done:
            os.close(ruleset)
    return ruleset, granted


# --- seccomp --------------------------------------------------------------------------


def _seccomp_program(pid: int) -> bytes:
    """The filter, as raw ``struct sock_filter`` instructions, for a child with ``pid``."""
    eperm = SECCOMP_RET_ERRNO | errno.EPERM
    prog: list[tuple[int, int, int, int]] = []

    def ld(offset: int) -> None:
        prog.append((BPF_LD_W_ABS, 0, 0, offset))

    def ret(value: int) -> None:
        prog.append((BPF_RET_K, 0, 0, value))

    def if_equal_return(value: int, action: int) -> None:
        prog.append((BPF_JEQ_K, 0, 1, value))
        ret(action)

    ld(4)  # seccomp_data.arch: a foreign ABI (int 0x80) is refused whole
    prog.append((BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64))
    ret(eperm)
    ld(0)  # seccomp_data.nr
    prog.append((BPF_JSET_K, 0, 1, X32_SYSCALL_BIT))  # the x32 ABI reaches the same calls by other numbers
    ret(eperm)
    for nr in DENIED_SYSCALLS_X86_64.values():
        if_equal_return(nr, eperm)
    for nr in FORK_SYSCALLS_X86_64.values():
        if_equal_return(nr, SECCOMP_RET_ERRNO | errno.EAGAIN)
    if_equal_return(SYS_CLONE3, SECCOMP_RET_ERRNO | errno.ENOSYS)
    # clone: namespaces never, a new process never, a thread where the limits allow.
    prog.append((BPF_JEQ_K, 0, 6, SYS_CLONE))
    ld(16)  # args[0] (flags), low word: every flag lives there
    prog.append((BPF_JSET_K, 0, 1, NAMESPACE_FLAGS))
    ret(eperm)
    prog.append((BPF_JSET_K, 1, 0, CLONE_THREAD))
    ret(SECCOMP_RET_ERRNO | errno.EAGAIN)
    ret(SECCOMP_RET_ALLOW)
    for nr, requests in ((SYS_IOCTL, DENIED_IOCTLS), (SYS_FCNTL, DENIED_FCNTLS)):
        prog.append((BPF_JEQ_K, 0, 1 + 2 * len(requests) + 1, nr))
        ld(24)  # args[1] (request, command): the kernel reads an unsigned int
        for request in requests:
            if_equal_return(request, eperm)
        ret(SECCOMP_RET_ALLOW)
    # Calls that name a process: only this one (pid 0 means the caller; -pid its group).
    own = sorted(set(OWN_PID_SYSCALLS_X86_64.values()))
    for index, nr in enumerate(own):
        prog.append((BPF_JEQ_K, len(own) - index, 0, nr))
    prog.append((BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    ld(16)  # args[0], low word: pid_t is an int
    prog.append((BPF_JEQ_K, 3, 0, pid))
    prog.append((BPF_JEQ_K, 2, 0, 0))
    prog.append((BPF_JEQ_K, 1, 0, (-pid) & 0xFFFFFFFF))
    ret(eperm)
    ret(SECCOMP_RET_ALLOW)
    return b"".join(struct.pack("<HBBI", *ins) for ins in prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_seccomp(program: bytes) -> None:
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    _syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, ctypes.pointer(fprog))


def seccomp_supported() -> bool:
    return sys.platform.startswith("linux") and os.uname().machine == "x86_64" and _has_seccomp_filter()


def _has_seccomp_filter() -> bool:
    try:
        with open("/proc/self/status") as status:
            return any(line.startswith("Seccomp:") for line in status)
    except OSError:
        return False


# --- capabilities ---------------------------------------------------------------------


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """No capability left, in any namespace: the bounding set first (needs CAP_SETPCAP)."""
    for cap in range(64):
        try:
            _prctl(PR_CAPBSET_DROP, cap)
        except JailError as exc:
            if exc.errno == errno.EINVAL:
                break
            if exc.errno != errno.EPERM:
                raise
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _syscall(SYS_CAPSET, ctypes.pointer(header), data)


# --- namespaces and the read-only root ------------------------------------------------


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    libc = _libc()
    enc = (lambda s: s.encode() if s is not None else None)
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise JailError(err, f"mount {target}: {os.strerror(err)}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _enter_namespaces(as_root: bool) -> list[str]:
    """Private namespaces for the server and its children; [] where the kernel refuses."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    names = ["mount", "net", "ipc", "uts"]
    if not as_root:
        uid, gid = os.getuid(), os.getgid()
        flags |= CLONE_NEWUSER
        names.insert(0, "user")
    try:
        _syscall(SYS_UNSHARE, flags)
    except JailError:
        return []
    if not as_root:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    return names


def _kept_flags(path: str) -> int:
    flags = os.statvfs(path).f_flag
    kept = 0
    for st_flag, ms_flag in ((os.ST_NOEXEC, 8), (os.ST_NOATIME, 1024), (os.ST_NODIRATIME, 2048),
                             (os.ST_RELATIME, 1 << 21)):
        if flags & st_flag:
            kept |= ms_flag
    return kept


def _build_root(root: str, readable: list[str]) -> None:
    """A read-only tmpfs at ``root`` holding bind mounts of ``readable`` at their own paths."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    mounted: list[str] = []
    for path in readable:
        if any(_beneath(path, m) for m in mounted):
            continue
        mounted.append(path)
        target = root + path
        if os.path.isdir(path):
            os.makedirs(target, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
            with open(target, "a"):
                pass
        _mount(path, target, None, MS_BIND | MS_REC)
        # In a user namespace the flags the host mount carries are locked: keep them.
        nodev = 0 if path.startswith("/dev/") else MS_NODEV  # /dev/urandom must stay a device
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | nodev | _kept_flags(path))
    # The working directory keeps its path inside the jail: an empty, read-only folder.
    os.makedirs(root + root, mode=0o755, exist_ok=True)
    _mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


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
                                and any(_beneath(os.path.realpath(p), d) for d in installation)]
    out: list[str] = []
    for path in found:
        real = os.path.realpath(path)
        if os.path.exists(real) and real not in out and real != "/":
            out.append(real)
    # A tree inside another is already covered by it.
    return sorted(p for p in out if not any(p != q and _beneath(p, q) for q in out))


def import_path() -> list[str]:
    """``sys.path`` as a child keeps it: the entries of the installation only."""
    installation = _installation_dirs()
    return [p for p in sys.path if p and os.path.isabs(p)
            and any(_beneath(os.path.realpath(p), d) for d in installation)]


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


def _beneath(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def readable_paths(roots: list[str], protected: list[str], depth: int = 6) -> list[str]:
    """``roots`` minus ``protected``: a root that holds a protected tree is split into
    its entries (Landlock grants whole trees, so exclusion means not granting the parent)."""
    out: list[str] = []
    for root in roots:
        if any(_beneath(root, p) for p in protected):
            continue
        if not any(_beneath(p, root) for p in protected) or depth == 0:
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
    _libc().clearenv()
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
                  if not any(_beneath(r, q) for q in roots)]
        readable = readable_paths(sorted(roots), protected_paths())
        readable += [p for p in SYSTEM_FILES if os.path.exists(p)]
        self.namespaces = _enter_namespaces(self.as_root)
        if self.jail_dir and "mount" in self.namespaces:
            _build_root(self.jail_dir, readable)
            self.chroot = self.jail_dir
        self.abi = landlock_abi()
        granted: list[str] = []
        if self.abi:
            self.ruleset, granted = _landlock_ruleset(self.abi, readable)
        self.seccomp = seccomp_supported()
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
            _drop_capabilities()
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        if self.ruleset >= 0:
            _syscall(SYS_LANDLOCK_RESTRICT_SELF, self.ruleset, 0)
            os.close(self.ruleset)
            self.ruleset = -1
        if self.seccomp:
            _load_seccomp(_seccomp_program(os.getpid()))


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
    if not landlock_abi():
        return Limits("this kernel has no Landlock")
    return LinuxJail(jail_dir)


def kernel_isolation_available() -> bool:
    """Whether a server on this machine would confine children with the kernel (cheap probe)."""
    return bool(landlock_abi()) and seccomp_supported()
