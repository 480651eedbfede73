"""Raw Linux mechanisms of the jail, through ctypes: Landlock, seccomp-bpf,
capabilities, namespaces and mounts. ``jail`` decides what to allow; this module
only knows how to ask the kernel. x86_64 system call numbers.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import os
import struct
import sys
from typing import Any

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
    # code of its own run at any moment: a signal handler runs wherever the interpreter
    # is when the signal arrives, the recorder's hook included (the child's own
    # handlers are set before the filter)
    "rt_sigaction": 13,
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
def libc_handle() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def syscall(nr: int, *args: int | ctypes._Pointer | ctypes.c_void_p | None) -> int:
    libc = libc_handle()
    converted = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    result = libc.syscall(ctypes.c_long(nr), *converted)
    if result < 0:
        err = ctypes.get_errno()
        raise JailError(err, os.strerror(err))
    return result


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> None:
    libc = libc_handle()
    if libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        err = ctypes.get_errno()
        raise JailError(err, os.strerror(err))


# --- Landlock -------------------------------------------------------------------------


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 if it has none (or is not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        return syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    except (JailError, OSError, AttributeError):
        return 0


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _fs_rights(abi: int) -> int:
    return FS_RIGHTS_BY_ABI[min(abi, 5)]


def landlock_ruleset(abi: int, readable: list[str]) -> tuple[int, list[str]]:
    """A ruleset fd granting reads of ``readable`` only; every other access denied."""
    handled_fs = _fs_rights(abi)
    fields = [handled_fs]
    if abi >= 4:
        fields.append(NET_BIND_TCP | NET_CONNECT_TCP)
    if abi >= 6:
        fields.append(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)
    attr = ctypes.create_string_buffer(struct.pack(f"<{len(fields)}Q", *fields), 8 * len(fields))
    ruleset = syscall(SYS_LANDLOCK_CREATE_RULESET, attr, 8 * len(fields), 0)
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
                syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.pointer(rule), 0)
                granted.append(path)
            finally:
                os.close(fd)
        done = True
    finally:
        if not done:
            os.close(ruleset)
    return ruleset, granted


# --- seccomp --------------------------------------------------------------------------


def seccomp_program(pid: int) -> bytes:
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


def load_seccomp(program: bytes) -> None:
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, ctypes.pointer(fprog))


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


def drop_capabilities() -> None:
    """No capability left, in any namespace: the bounding set first (needs CAP_SETPCAP)."""
    for cap in range(64):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except JailError as exc:
            if exc.errno == errno.EINVAL:
                break
            if exc.errno != errno.EPERM:
                raise
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    syscall(SYS_CAPSET, ctypes.pointer(header), data)


# --- namespaces and the read-only root ------------------------------------------------


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    libc = libc_handle()
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


def enter_namespaces(as_root: bool) -> list[str]:
    """Private namespaces for the server and its children; [] where the kernel refuses."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    names = ["mount", "net", "ipc", "uts"]
    if not as_root:
        uid, gid = os.getuid(), os.getgid()
        flags |= CLONE_NEWUSER
        names.insert(0, "user")
    try:
        syscall(SYS_UNSHARE, flags)
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


def build_root(root: str, readable: list[str]) -> None:
    """A read-only tmpfs at ``root`` holding bind mounts of ``readable`` at their own paths."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    mounted: list[str] = []
    for path in readable:
        if any(beneath(path, m) for m in mounted):
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


def beneath(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")

