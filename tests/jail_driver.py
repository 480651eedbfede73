"""Kernel-level attacks on the sandbox, run by ``tests/test_jail.py`` as root or as
an unprivileged user (this file is a script: the test starts it as that user).

    python tests/jail_driver.py attacks TARGET_DIR [--deny-namespaces]  -> JSON on stdout
    python tests/jail_driver.py grade SUBMISSION REPORT                   -> writes REPORT
    python tests/jail_driver.py batch HONEST HOSTILE OUTDIR               -> writes OUTDIR/reports

Each attack is a function of a student module that tries one thing and returns
"blocked: ..." when the sandbox stopped it, or "ESCAPED: ..." with what it got.
The static scan is a separate layer with its own tests; here it is switched off
(``grade``/``batch`` modes) so that every attack reaches the sandbox.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET_PREFIX = "AGLSECRET"  # the hunts look for this; the rest of the value is random

HOSTILE = r'''
import ctypes, errno, mmap, os, resource, signal, socket, sys, torch

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def _try(action):
    try:
        got = action()
    except BaseException as exc:  # every refusal is data here
        return "blocked: %s %s" % (type(exc).__name__, getattr(exc, "errno", ""))
    return "ESCAPED: %r" % (got,)


def _sys(nr, *args):
    res = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return ("ESCAPED: returned %d" % res) if res >= 0 else "blocked: errno %d" % ctypes.get_errno()


def read_file(path):
    return _try(lambda: open(path, "rb").read())


def list_dir(path):
    return _try(lambda: os.listdir(path))


def create_file(path):
    return _try(lambda: open(path, "w").write("pwned"))


def overwrite_file(path):
    return _try(lambda: open(path, "r+").write('{"score": 130}'))


def truncate_file(path):
    return _try(lambda: os.truncate(path, 0))


def rename_file(path):
    return _try(lambda: os.rename(path, path + ".moved"))


def unlink_file(path):
    return _try(lambda: os.unlink(path))


def make_dir(path):
    return _try(lambda: os.mkdir(path + ".d"))


def symlink_file(path):
    return _try(lambda: os.symlink(path, path + ".link"))


def hardlink_file(path):
    return _try(lambda: os.link(path, path + ".hard"))


def mkfifo_file(path):
    return _try(lambda: os.mkfifo(path + ".fifo"))


def mknod_file(path):
    return _try(lambda: os.mknod(path + ".node"))


def chmod_file(path):
    return _try(lambda: os.chmod(path, 0o777))


def utime_file(path):
    return _try(lambda: os.utime(path, (0, 0)))


def setxattr_file(path):
    return _try(lambda: os.setxattr(path, "user.pwned", b"1"))


def shared_from_file(path):
    def attack():
        t = torch.from_file(path, shared=True, size=4, dtype=torch.uint8)
        t.fill_(88)
        return "mapped"
    return _try(attack)


def mmap_write(path):
    def attack():
        with open(path, "r+b") as f:
            m = mmap.mmap(f.fileno(), 0)
            m[:4] = b"XXXX"
            return "mapped"
    return _try(attack)


def proc_of(pid):
    return _try(lambda: open("/proc/%d/cmdline" % pid, "rb").read())


def proc_mem_self():
    return _try(lambda: open("/proc/self/mem", "r+b"))


def kill_pid(pid):
    return _try(lambda: os.kill(pid, signal.SIGKILL))


def kill_everything():
    return _try(lambda: os.kill(-1, signal.SIGKILL))


def kill_by_syscall(pid):
    return _sys(62, pid, 9)  # kill(2), past Python


def signal_group(pid):
    return _try(lambda: os.killpg(pid, signal.SIGKILL))


def tcp_connect(port):
    return _try(lambda: socket.create_connection(("127.0.0.1", port), timeout=2))


def any_socket():
    return _try(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))


def abstract_unix(name):
    def attack():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect("\0" + name)
        return "connected"
    return _try(attack)


def socketpair_new():
    return _try(lambda: socket.socketpair())


def ptrace_attach(pid):
    return _sys(101, 16, pid, 0, 0)  # PTRACE_ATTACH


def vm_read(pid):
    buf = ctypes.create_string_buffer(64)
    local = (ctypes.c_void_p * 2)(ctypes.cast(buf, ctypes.c_void_p), 64)
    remote = (ctypes.c_void_p * 2)(0x400000, 64)
    return _sys(310, pid, ctypes.addressof(local), 1, ctypes.addressof(remote), 1, 0)


def pidfd(pid):
    return _sys(434, pid, 0)


def fork_bomb():
    pids = []
    try:
        for _ in range(1000):
            pid = os.fork()
            if pid == 0:
                while True:
                    pass
            pids.append(pid)
    except OSError as exc:
        return ("ESCAPED: %d processes" % len(pids)) if pids else "blocked: %s" % type(exc).__name__
    return "ESCAPED: %d processes" % len(pids)


def raw_fork():
    return _sys(57)


def clone_namespace():
    return _sys(56, 0x10000000 | 17, 0, 0, 0, 0)  # clone(CLONE_NEWUSER | SIGCHLD)


def fill_dev_shm():
    return _try(lambda: open("/dev/shm/agl-fill", "wb").write(b"x" * (1 << 20)))


def posix_shm():
    from multiprocessing import shared_memory
    return _try(lambda: shared_memory.SharedMemory(create=True, size=1 << 20).name)


def sysv_shm():
    return _sys(29, 0, 1 << 20, 0o1000 | 0o600)  # shmget(IPC_PRIVATE, 1 MiB, IPC_CREAT)


def memfd():
    return _sys(319, ctypes.addressof(ctypes.create_string_buffer(b"x")), 0)


def exhaust_fds():
    fds = []
    try:
        while len(fds) < 100000:
            fds.append(os.dup(0))
    except OSError:
        pass
    n = len(fds)
    for fd in fds:
        os.close(fd)
    return ("blocked: stopped at %d" % n) if n < 1000 else "ESCAPED: %d descriptors" % n


def raise_limits():
    return _try(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20)))


def limit_other(pid):
    return _try(lambda: resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, 3)))


def memory_bomb():
    return _try(lambda: len(bytearray(8 << 30)))


def execute(path):
    return _try(lambda: os.execv(path, [path, "-c", "pass"]))


def tiocsti():
    import fcntl, termios
    return _try(lambda: fcntl.ioctl(0, termios.TIOCSTI, b"x"))


def sigio_owner(pid):
    """Have the kernel send SIGKILL to ``pid`` when the channel to the grader gets data."""
    import fcntl
    fd = [f for f in range(3, 64) if _is_socket(f)][0]
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGKILL)
        fcntl.fcntl(fd, fcntl.F_SETOWN, pid)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
    except OSError as exc:
        return "blocked: %s %s" % (type(exc).__name__, exc.errno)
    return "ESCAPED: owner set"


def sigio_ioctl(pid):
    import fcntl, struct
    fd = [f for f in range(3, 64) if _is_socket(f)][0]
    return _try(lambda: fcntl.ioctl(fd, 0x8901, struct.pack("i", pid)))


def _is_socket(fd):
    import stat
    try:
        return stat.S_ISSOCK(os.fstat(fd).st_mode)
    except OSError:
        return False


def truncate_by_open(path):
    return _try(lambda: open(path, "w"))


def tmpfile_in(path):
    return _try(lambda: os.open(os.path.dirname(path), os.O_TMPFILE | os.O_RDWR, 0o600))


def write_torch_library():
    return _try(lambda: open(torch.__file__, "r+b").write(b"#"))


def open_tty():
    return _try(lambda: open("/dev/tty", "r+b"))


def chroot_escape():
    return _try(lambda: os.chroot("/"))


def become_root():
    return _try(lambda: os.setuid(0))


def message_queue():
    return _sys(240, ctypes.addressof(ctypes.create_string_buffer(b"/agl")), 0o100 | 2, 0o600, 0)


def signal_handler():
    """A handler runs wherever the interpreter is when the signal arrives (the
    recorder's hook included): none may be installed, by the module or past it."""
    def handler(*a):
        return None
    try:
        signal.signal(signal.SIGALRM, handler)
    except BaseException as exc:
        return "blocked: %s" % type(exc).__name__
    return "ESCAPED: installed" if signal.getsignal(signal.SIGALRM) is handler else "blocked: not installed"


def faulthandler_enable():
    import faulthandler
    try:
        faulthandler.enable()
    except BaseException as exc:
        return "ESCAPED: honest code failed: %s" % type(exc).__name__
    return "blocked: enable() installs nothing"


def signal_handler_original():
    return _try(lambda: signal.signal.__wrapped__(signal.SIGALRM, lambda *a: None))


def sigaction_raw_syscall():
    return _sys(13, 14, 0, 0, 8)  # rt_sigaction(SIGALRM, NULL, NULL, 8), past Python


def start_thread():
    import threading
    return _try(lambda: threading.Thread(target=lambda: None).start())


def reopen_o_path(path):
    """An O_PATH descriptor needs no read right; reopening it through /proc would."""
    def attack():
        fd = os.open(path, os.O_PATH)
        return open("/proc/self/fd/%d" % fd, "rb").read()
    return _try(attack)


def i386_int80():
    """getpid through the 32-bit system call gate, from hand-written machine code."""
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(b"\xb8\x14\x00\x00\x00\xcd\x80\xc3")  # mov eax, 20 (getpid); int 0x80; ret
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    result = ctypes.CFUNCTYPE(ctypes.c_int)(address)()
    return ("ESCAPED: pid %d" % result) if result == os.getpid() else "blocked: returned %d" % result


def inotify():
    return _sys(294, 0)


def io_uring():
    params = ctypes.create_string_buffer(120)
    return _sys(425, 8, ctypes.addressof(params))


def bpf():
    return _sys(321, 0, 0, 0)


def userfaultfd():
    return _sys(323, 0)


def perf_event():
    attr = ctypes.create_string_buffer(128)
    return _sys(298, ctypes.addressof(attr), 0, -1, -1, 0)


def unshare_user():
    return _sys(272, 0x10000000)


def mount_tmpfs():
    return _sys(165, 0, 0, 0, 0, 0)


def keyctl():
    return _sys(248, 0, 0, 0, 0, 0)  # add_key


def x32_getpid():
    return _sys(0x40000000 | 39)


def setsid():
    return _try(os.setsid)


def env_hunt(prefix):
    """Every route to the grader's environment a student could take from here."""
    found = []
    found += [k + "=" + v for k, v in os.environ.items() if prefix in k + v]
    try:
        found.append(open("/proc/self/environ", "rb").read().decode(errors="replace"))
    except OSError:
        pass
    import posix
    found += [repr(k + b"=" + v) for k, v in posix.environ.items() if prefix.encode() in k + v]
    # The process image: libc's environ array, and the whole stack from
    # __libc_stack_end to the top (argv, the initial environment block, auxv strings).
    environ = ctypes.POINTER(ctypes.c_char_p).in_dll(libc, "environ")
    i = 0
    while environ[i] is not None and i < 10000:
        found.append(environ[i].decode(errors="replace"))
        i += 1
    libc.getauxval.restype = ctypes.c_ulong
    top = libc.getauxval(31)  # AT_EXECFN: the last string on the stack
    bottom = ctypes.c_void_p.in_dll(libc, "__libc_stack_end").value
    if top and bottom and top > bottom:
        block = ctypes.string_at(bottom, top - bottom + 4096 - (top % 4096) - 1)
        found += [m.decode(errors="replace") for m in block.split(b"\0") if prefix.encode() in m]
    return [f for f in found if prefix in f]
'''

# (function, argument kinds) in the order they run; one child per attack.
ATTACKS = {
    "read_marker": ("read_file", "marker"),
    "read_solutions": ("read_file", "solutions"),
    "read_hidden_checks": ("read_file", "checks"),
    "reopen_solutions_by_o_path": ("reopen_o_path", "solutions"),
    "list_marker_dir": ("list_dir", "target"),
    "create_file": ("create_file", "new"),
    "overwrite_report": ("overwrite_file", "report"),
    "truncate_report": ("truncate_file", "report"),
    "rename_report": ("rename_file", "report"),
    "unlink_report": ("unlink_file", "report"),
    "make_dir": ("make_dir", "report"),
    "symlink": ("symlink_file", "report"),
    "hardlink": ("hardlink_file", "report"),
    "mkfifo": ("mkfifo_file", "report"),
    "mknod": ("mknod_file", "report"),
    "chmod": ("chmod_file", "report"),
    "utime": ("utime_file", "report"),
    "setxattr": ("setxattr_file", "report"),
    "torch_from_file_shared": ("shared_from_file", "report"),
    "mmap_write": ("mmap_write", "report"),
    "proc_of_grader": ("proc_of", "driver_pid"),
    "proc_self_mem": ("proc_mem_self", None),
    "kill_grader": ("kill_pid", "driver_pid"),
    "kill_server": ("kill_pid", "server_pid"),
    "kill_everything": ("kill_everything", None),
    "kill_grader_raw_syscall": ("kill_by_syscall", "driver_pid"),
    "signal_grader_group": ("signal_group", "driver_pid"),
    "limit_grader": ("limit_other", "driver_pid"),
    "tcp_connect": ("tcp_connect", "port"),
    "new_socket": ("any_socket", None),
    "new_socketpair": ("socketpair_new", None),
    "abstract_unix_socket": ("abstract_unix", "abstract"),
    "ptrace_grader": ("ptrace_attach", "driver_pid"),
    "process_vm_readv_grader": ("vm_read", "driver_pid"),
    "pidfd_open_grader": ("pidfd", "driver_pid"),
    "fork_bomb": ("fork_bomb", None),
    "raw_fork": ("raw_fork", None),
    "clone_new_user_namespace": ("clone_namespace", None),
    "unshare_user_namespace": ("unshare_user", None),
    "fill_dev_shm": ("fill_dev_shm", None),
    "posix_shared_memory": ("posix_shm", None),
    "sysv_shared_memory": ("sysv_shm", None),
    "memfd_create": ("memfd", None),
    "exhaust_fds": ("exhaust_fds", None),
    "raise_limits": ("raise_limits", None),
    "memory_bomb": ("memory_bomb", None),
    "exec_python": ("execute", "python"),
    "exec_shell": ("execute", "shell"),
    "tiocsti": ("tiocsti", None),
    "open_tty": ("open_tty", None),
    "truncate_by_open": ("truncate_by_open", "report"),
    "o_tmpfile": ("tmpfile_in", "report"),
    "write_torch_library": ("write_torch_library", None),
    "chroot_escape": ("chroot_escape", None),
    "become_root": ("become_root", None),
    "posix_message_queue": ("message_queue", None),
    "thread": ("start_thread", None),
    "signal_handler": ("signal_handler", None),
    "faulthandler_enable": ("faulthandler_enable", None),
    "signal_handler_original": ("signal_handler_original", None),
    "sigaction_raw_syscall": ("sigaction_raw_syscall", None),
    "sigio_to_grader": ("sigio_owner", "driver_pid"),
    "sigio_owner_by_ioctl": ("sigio_ioctl", "driver_pid"),
    "inotify": ("inotify", None),
    "io_uring": ("io_uring", None),
    "bpf": ("bpf", None),
    "userfaultfd": ("userfaultfd", None),
    "perf_event_open": ("perf_event", None),
    "mount": ("mount_tmpfs", None),
    "add_key": ("keyctl", None),
    "x32_syscall": ("x32_getpid", None),
    "i386_syscall": ("i386_int80", None),
    "setsid": ("setsid", None),
    "copy_environment": ("env_hunt", "prefix"),
}


def _listener() -> tuple[socket.socket, int]:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    threading.Thread(target=lambda: [srv.accept() for _ in range(8)], daemon=True).start()
    return srv, srv.getsockname()[1]


def _deny_namespaces() -> None:
    """What Ubuntu's AppArmor rule does to unprivileged user namespaces: unshare fails."""
    import struct

    from grader.sandbox import kernel

    prog = [(0x20, 0, 0, 0), (0x15, 0, 1, kernel.SYS_UNSHARE), (0x06, 0, 0, 0x00050000 | 1), (0x06, 0, 0, 0x7FFF0000)]
    kernel.prctl(kernel.PR_SET_NO_NEW_PRIVS, 1)
    kernel.load_seccomp(b"".join(struct.pack("<HBBI", *ins) for ins in prog))


def attacks(target: Path) -> dict:
    from grader.sandbox import client, spawn

    values = {
        "marker": str(target / "marker.txt"), "report": str(target / "reports" / "other.json"),
        "new": str(target / "reports" / "new.json"), "target": str(target),
        "solutions": str(ROOT / "solutions" / "ex03_vjp.py"),
        "checks": str(ROOT / "grader" / "checks" / "check_ex03_vjp.py"),
        "driver_pid": os.getpid(), "python": sys.executable, "shell": "/bin/sh", "prefix": SECRET_PREFIX,
    }
    listener, values["port"] = _listener()
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    values["abstract"] = f"agl-jail-test-{os.getpid()}"
    abstract.bind("\0" + values["abstract"])
    abstract.listen(8)
    out: dict = {"uid": os.getuid(), "results": {}}
    with spawn.start() as server:
        server.wait_ready()
        out["isolation"] = server.isolation
        values["server_pid"] = server.process.pid
        for name, (function, kind) in ATTACKS.items():
            child = server.open({"sources": {"hostile": HOSTILE}}, client.Limits(timeout=20, memory_mb=512))
            args = [values[kind]] if kind else []
            result = child.call("hostile", function, *args)
            if result.kind == "returned":
                child.call("hostile", "setsid")  # more traffic on the channel: any SIGIO would fire now
            out["results"][name] = {"kind": result.kind, "value": result.value if isinstance(result.value, (str, list)) else repr(result.value),
                                    "exception": result.exception, "detail": result.detail}
            child.close()
        # The server survived every attack: a last plain call still works.
        child = server.open({"sources": {"hostile": "def ok():\n    return 'alive'\n"}}, client.Limits(timeout=20))
        out["server_alive"] = child.call("hostile", "ok").value == "alive"
        child.close()
    listener.close()
    abstract.close()
    return out


def _without_scan() -> None:
    from grader import static

    scanned = static.static_verdict

    def static_verdict(sub, task):  # keep missing/syntax verdicts, let every "forbidden" one run
        verdict = scanned(sub, task)
        return None if verdict is not None and verdict.status == "forbidden" else verdict

    static.static_verdict = static_verdict


def grade(submission: str, report_path: str) -> None:
    from grader import api, report
    from grader.preload import load

    _without_scan()
    load()  # as grade run does: the sandbox server is then forked from this process
    result = api.grade(submission, seed=7, patterns=("ex03",), timeout=5)
    report.validate(result)
    report.write(result, report_path)


def batch(honest: str, hostile: str, outdir: str) -> None:
    """Two students through the batch worker's own path, one server, in order."""
    from grader import pool
    from grader.options import Options
    from grader.sandbox.spawn import start

    _without_scan()
    jobs = []
    for name, path in (("honest", honest), ("hostile", hostile)):
        out = Path(outdir) / "reports" / f"{name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        jobs.append({"name": name, "path": path, "out": str(out), "digest": "0" * 64,
                     "options": Options(seed=7, timeout=5, patterns=("ex03",)).to_json()})
    with start() as server:
        pool.grade_jobs(jobs, server, lambda answer: None)


def main() -> None:
    mode = sys.argv[1]
    if "--deny-namespaces" in sys.argv:
        _deny_namespaces()
    if mode == "attacks":
        print(json.dumps(attacks(Path(sys.argv[2]))))
    elif mode == "grade":
        grade(sys.argv[2], sys.argv[3])
    elif mode == "batch":
        batch(sys.argv[2], sys.argv[3], sys.argv[4])
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
