"""The operating-system sandbox grading kernels run in: bubblewrap, one sandbox per worker.

Each grading worker starts its kernel fork server (nnlib.course.forkserver) inside a bubblewrap
(`bwrap`) sandbox built by `command`:

    /usr /bin /lib* /etc, Python's prefixes, nnlib's package   read-only, nothing else of the host
    nnlib/answers (the answer key)                             replaced by nnlib/course/sealed, whose
                                                               import fails saying why
    /tmp, /dev/shm                                             private tmpfs of `disk_mb` MiB each, the
                                                               only writable places, emptied between
                                                               two submissions
    /proc /dev                                                 the sandbox's own
    PID, network, IPC, UTS, cgroup namespaces                  its own: no network, no other process
                                                               of the host in sight

The course root (source/, solutions/, build/, gradebooks), the grader's output folder and every
other submission are not mounted, so they do not exist inside. The server runs as PID 1 of the
sandbox with only the capabilities it needs to set up a kernel (change user, kill, own files);
each kernel it forks binds its ZMQ sockets in a folder the kernel cannot change, then becomes an
unprivileged user of its own (`kernel_uid`) with no capabilities, the `Limits` caps on address
space and tasks, and PR_SET_NO_NEW_PRIVS (bubblewrap's). Everything a kernel starts dies with the
sandbox, or is killed by the server before the next submission's kernel starts.

`unavailable()` says why a machine cannot sandbox (no bubblewrap, not Linux, not root);
`course grade --no-sandbox` then grades without isolation, and says so everywhere.
"""

import os
import resource
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

PRIVATE_DIRS = ("/tmp", "/dev/shm")   # the sandbox's own tmpfs, mounted before anything is bound in them
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
SERVER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER")
UID_BASE = 100_000   # kernel users are UID_BASE + the worker's pid: distinct for workers alive at once
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`, Fedora: `dnf install "
                "bubblewrap`) and run `course grade` as root (e.g. in a container or VM), or pass "
                "--no-sandbox to grade WITHOUT isolation")


@dataclass(frozen=True)
class Limits:
    """What one grading kernel may use.

    memory_mb: address space of the kernel process, MiB (0: no cap).
    disk_mb: size of the sandbox's /tmp, its only writable place, MiB.
    tasks: processes and threads the kernel's user may have at once.
    """

    memory_mb: int = 3072
    disk_mb: int = 512
    tasks: int = 256


def unavailable():
    """None if kernels can be sandboxed here, else why not and what to do (one sentence)."""
    if not sys.platform.startswith("linux"):
        return f"the grading sandbox needs Linux (this is {sys.platform}); {INSTALL_HINT}"
    if shutil.which("bwrap") is None:
        return f"bubblewrap (`bwrap`) is not installed; {INSTALL_HINT}"
    if os.geteuid() != 0:
        return ("the grading sandbox gives each kernel a user of its own, which needs root; "
                f"{INSTALL_HINT}")
    return None


def kernel_uid(worker_pid=None):
    """User id of the kernels of the worker `worker_pid` (default: this process)."""
    return UID_BASE + (worker_pid or os.getpid())


def _readable_roots():
    """Host folders a kernel needs to read: the system, Python's prefixes and nnlib's package."""
    import nnlib
    roots = [d for d in SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    for extra in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
                  str(Path(nnlib.__file__).resolve().parent)):
        extra = os.path.realpath(extra)
        if not any(extra == r or extra.startswith(r + "/") for r in roots):
            roots.append(extra)
    return roots


def _mount_args(roots):
    """bwrap arguments binding `roots` read-only, their parent folders made traversable."""
    args, made = [], set()
    for root in roots:
        parts = Path(root).parts
        for depth in range(2, len(parts)):
            parent = str(Path(*parts[:depth]))
            if parent not in made and parent not in roots and parent not in PRIVATE_DIRS:
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
    for root in roots:
        args += ["--ro-bind", root, root]
    for link in SYSTEM_DIRS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
    return args


def _seal_answer_key():
    """bwrap arguments that put nnlib/course/sealed where the answer key (nnlib/answers) is."""
    import nnlib
    package = Path(nnlib.__file__).resolve().parent
    return ["--ro-bind", str(package / "course" / "sealed"), str(package / "answers")]


def command(inner, limits, info_fd=None):
    """The bwrap command line that runs `inner` (argv) as PID 1 of a new sandbox.

    info_fd: a file descriptor bwrap writes its JSON status to ({"child-pid": host pid of PID 1}).
    """
    argv = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--as-pid-1",
            "--hostname", "grading", "--cap-drop", "ALL"]
    for cap in SERVER_CAPS:
        argv += ["--cap-add", cap]
    size = str(int(limits.disk_mb) * 1024 * 1024)
    # The private /tmp first: a course (and its .venv) that lives under /tmp is then bound into it,
    # where the server leaves it alone (see forkserver), instead of being hidden by it.
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", size, "--perms", "1777", "--tmpfs", "/tmp",
             "--size", size, "--perms", "1777", "--tmpfs", "/dev/shm"]   # POSIX shared memory, semaphores
    argv += _mount_args(_readable_roots())
    argv += _seal_answer_key()
    argv += ["--chdir", "/tmp"]
    if info_fd is not None:
        argv += ["--info-fd", str(info_fd)]
    return argv + ["--", *inner]


def limit_memory(memory_mb):
    """Cap this process's address space at memory_mb MiB (0: no cap)."""
    if memory_mb > 0:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def become_kernel_user(uid, limits):
    """In a forked kernel, still root inside the sandbox: take the caps, then drop to user `uid`.

    After this the process has no capabilities and cannot get any back.
    """
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.tasks, limits.tasks))
    limit_memory(limits.memory_mb)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
