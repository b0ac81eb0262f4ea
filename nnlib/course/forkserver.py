"""Fork server for grading kernels: the heavy imports once per worker, a fresh process per kernel.

A grading kernel spends about 2 s of CPU importing what every notebook needs before it runs a
line of the student's code (torch alone 1.6 s, ipykernel and IPython 0.25 s, numpy 0.1 s). A
worker starts one server that imports them once and then only forks: each kernel is still a new
process of its own, forked from a parent that never runs notebook code, so no submission sees
another's state.

    worker --starts--> server: imports PRELOAD, waits on a unix socket the worker bound, single-threaded;
        inside the worker's bubblewrap sandbox (nnlib.course.sandbox) as its PID 1, unless
        grading runs with --no-sandbox
    jupyter_client --starts--> `python -m nnlib.course.forkserver kernel ...` (the kernel spec's
        argv, the "stub"), which finds NNLIB_KERNEL_SERVER and sends a KernelRequest with its stdio
    server --forks--> kernel; the stub stands for it towards jupyter_client: it passes signals on
        and exits with the kernel's exit status

In the sandbox, a kernel's ZMQ sockets are unix sockets (`ipc` transport) in /tmp/.ipc of the
sandbox, a folder only root may change; the worker reaches them through /proc/<server>/root,
no other sandbox sees them. The kernel binds them before it drops to its own user, and before a
kernel starts every other process of the sandbox is killed and /tmp emptied, so one worker's
submissions, graded one after another, share nothing but the server's preloaded modules.

A stub that is killed makes the server kill its kernel; a server that dies takes its kernels
with it. The server's socket has a name in Linux's abstract namespace (no file): a sandboxed
kernel, in a network namespace of its own, cannot reach it; an unsandboxed one can, but only the
worker and processes it started may ask the server for anything (peer credentials), and the
name is not in a kernel's environment.
Two preloaded modules do at import something that belongs to a running kernel, and each forked
kernel does it again for itself: ipywidgets registers the widgets' comm targets, and matplotlib
takes its backend from MPLBACKEND, which ipykernel sets only once the kernel starts (the inline
backend, unless the environment names another). pyplot chooses no backend at import: the kernel's
first figure loads the one its rcParams name.
"""

import argparse
import ctypes
import gc
import json
import mmap
import os
import resource
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nnlib.course import sandbox

ENV = "NNLIB_KERNEL_SERVER"          # path of the server's socket, for the stubs
IPC_ENV = "NNLIB_KERNEL_IPC"          # host path prefix of a sandboxed kernel's ipc sockets
SANDBOXED_ENV = "NNLIB_SANDBOXED"     # set while grading is sandboxed: never start a kernel outside
# torch._dynamo: a torch optimizer's first step imports it (0.97 s), and a3, a4 and a5 step one.
# matplotlib.pyplot: 0.38 s per kernel, every notebook draws. ipykernel.debugger: imported by
# every kernel as it starts (0.05 s), though grading never debugs.
PRELOAD = ("numpy", "torch", "torch._dynamo", "ipykernel.kernelapp", "ipykernel.debugger", "ipywidgets",
           "matplotlib.pyplot")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"   # ipykernel's default for MPLBACKEND
IPC_DIR, WORK_DIR, HOME_DIR, MPL_CACHE = "/tmp/.ipc", "/tmp/work", "/tmp/home", "/tmp/.mplcache"
KERNEL_ENV_PREFIXES = ("PATH", "LANG", "LC_", "TZ", "TERM", "NBGRADER_", "TQDM_", "OMP_", "MKL_",
                       "OPENBLAS_", "ATEN_", "TORCH_", "MPLBACKEND", "PYTHONHASHSEED", "PYDEVD_")
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE = 1, 4


@dataclass
class KernelRequest:
    """What a stub asks the server for (JSON over the socket; stdio travel as file descriptors).

    kernel_args: ipykernel's arguments, `-f CONNECTION_FILE` among them.
    connection: the connection file's contents (a sandboxed kernel writes its own copy).
    stats: ask for the peak memory figure instead of a kernel.
    """

    kernel_args: list = field(default_factory=list)
    cwd: str = ""
    env: dict = field(default_factory=dict)
    memory_mb: int = 0
    connection: dict = field(default_factory=dict)
    stats: bool = False


@dataclass
class Reply:
    """What the server sends back: the kernel's pid, later its exit status; or the stats figure."""

    pid: int = None
    exit: int = None
    peak_kb: int = None


def address(name):
    """The socket address of a server name: "@x" is x in Linux's abstract namespace (no file to
    leave behind; in a sandbox's own network namespace it cannot be reached at all)."""
    return "\0" + name[1:] if name.startswith("@") else name


def _send(conn, record):
    conn.sendall(json.dumps(asdict(record)).encode())


def _receive(conn, kind, size=1 << 20):
    """The next record of type `kind` on `conn`, or None when the other side has hung up."""
    data = conn.recv(size)
    return kind(**json.loads(data)) if data else None


def _die_with_parent():
    """Ask Linux to kill this process when the process that forked it ends (no-op elsewhere)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def parent_of(pid):
    """Parent process id of `pid` (Linux /proc), or None."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- kernel side (a forked child)

def _kernel_env(env):
    """A sandboxed kernel's environment: only what grading needs, homes inside the sandbox."""
    kept = {k: v for k, v in env.items() if k.startswith(KERNEL_ENV_PREFIXES)}
    kept.update(HOME=HOME_DIR, TMPDIR="/tmp", PWD=WORK_DIR, MPLCONFIGDIR=f"{HOME_DIR}/.matplotlib",
                PYTHONDONTWRITEBYTECODE="1")
    return kept


def _without_connection_file(args):
    """ipykernel arguments less `-f FILE` / `--f=FILE`."""
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-f", "--f"):
            skip = True
        elif not arg.startswith(("-f=", "--f=")):
            kept.append(arg)
    return kept


def _sandboxed_args(request):
    """Write the kernel's connection file inside the sandbox; ipykernel's arguments for it."""
    info = dict(request.connection, ip=f"{IPC_DIR}/kernel", transport="ipc")
    path = f"{IPC_DIR}/kernel.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(info, f)
    args = _without_connection_file(request.kernel_args) + ["-f", path, "--IPKernelApp.parent_handle=0"]
    if not any(a.startswith("--HistoryManager.hist_file") for a in args):
        args.append("--HistoryManager.hist_file=:memory:")   # nbclient asks for it too
    return args


def _chown_tree(folder, uid):
    for top, dirs, files in os.walk(folder):
        for name in [top, *(os.path.join(top, n) for n in dirs + files)]:
            os.lchown(name, uid, uid)


def _release_failure(result):
    """After a cell that failed, let go of its frames: IPython keeps the exception (sys.last_*,
    the shell's last result, the traceback formatter), and with it every local of the frames it
    went through. An answer that filled the address space before its MemoryError (a memory bomb)
    would otherwise keep it full, and a later cell would die for want of memory. After a
    MemoryError the garbage is also collected at once: formatting the traceback (stack_data) left
    its frames in reference cycles."""
    exc = getattr(result, "error_in_exec", None)
    out_of_memory = isinstance(exc, MemoryError)
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            setattr(sys, name, None)
    from IPython import get_ipython
    shell = get_ipython()
    if shell is not None and hasattr(shell.InteractiveTB, "tb"):
        shell.InteractiveTB.tb = None
    if out_of_memory:
        gc.collect()


class _Headroom:
    """Address space held back so that a cell which filled it still gets its MemoryError shown.

    Under the memory cap such a cell leaves too little to format its own traceback, and IPython
    then prints "Unexpected exception formatting exception" in place of the error. SIZE bytes are
    mapped but never touched (no memory is used), given back whenever the shell shows a
    traceback, and taken again after the cell, once _release_failure has let go of its frames.
    """

    SIZE = 32 << 20

    def __init__(self, shell):
        self.block = None
        self._take()
        show = shell.showtraceback

        def showtraceback(*args, **kwargs):
            self._give_back()
            return show(*args, **kwargs)
        shell.showtraceback = showtraceback
        shell.events.register("post_run_cell", self._after_cell)

    def _take(self):
        try:
            self.block = mmap.mmap(-1, self.SIZE)
        except OSError:
            self.block = None        # the address space is still full: try after the next cell

    def _give_back(self):
        if self.block is not None:
            self.block.close()
            self.block = None

    def _after_cell(self, _result):
        if self.block is None:
            self._take()


def _grading_shell(shell):
    """What a grading kernel adds to its IPython shell: failed cells let go of their frames
    (_release_failure), and a MemoryError can always be shown (_Headroom)."""
    shell.events.register("post_run_cell", _release_failure)
    _Headroom(shell)


def _run_kernel(request, fds, uid=None, tasks=0):
    """In the forked child: become the kernel the stub asked for. Never returns.

    uid: the sandbox's kernel user (None: not sandboxed, the kernel keeps the server's user).
    """
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        os.setsid()
        _die_with_parent()
        if uid is None:
            cwd, env, args = request.cwd, dict(request.env), list(request.kernel_args)
            if env.get("JPY_PARENT_PID"):   # read by ipykernel at import, here before it was set
                args.append(f"--IPKernelApp.parent_handle={env['JPY_PARENT_PID']}")
        else:
            cwd, env, args = WORK_DIR, _kernel_env(request.env), _sandboxed_args(request)
        env.pop(ENV, None)                   # the kernel has no business with the server
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = [sys.executable, "-m", "ipykernel_launcher", *args]
        sys.path[0] = cwd
        if "numpy.random" in sys.modules:
            sys.modules["numpy.random"].seed()   # a fresh process draws its own global seed
        from ipykernel.kernelapp import IPKernelApp
        app = IPKernelApp.instance()
        app.initialize(args)                 # binds the sockets: as root, in a folder only root changes
        _grading_shell(app.shell)
        if "ipywidgets" in sys.modules:
            # Preloaded: what its import does in a running kernel (register the widgets' comm
            # targets with this kernel) is done now that the kernel exists.
            sys.modules["ipywidgets"].register_comm_target()
        if "matplotlib" in sys.modules:
            # Preloaded: the backend its import would have read from the kernel's environment.
            sys.modules["matplotlib"].rcParams["backend"] = os.environ.get("MPLBACKEND") or INLINE_BACKEND
        from zmq.utils.garbage import gc as zmq_gc
        zmq_gc.start()   # its thread, needed to send large outputs, now: a cell near the memory cap cannot
        if uid is None:
            sandbox.limit_memory(request.memory_mb)
        else:
            _chown_tree(HOME_DIR, uid)
            sandbox.become_kernel_user(uid, sandbox.Limits(memory_mb=request.memory_mb, tasks=tasks))
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # the kernel could not start: say why on its stderr
        import traceback
        traceback.print_exc(file=sys.__stderr__)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# ---------------------------------------------------------------- server side (its own process)

def _peer_pid(conn):
    pid, _, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return pid


def _from_worker(conn, sandboxed):
    """Is the peer the worker that started this server, or a process the worker started?

    In the sandbox the worker's processes are outside the server's PID namespace: their pid
    reads as 0, where any process of the sandbox (a kernel) would have a pid of its own.
    """
    pid = _peer_pid(conn)
    if sandboxed:
        return pid == 0
    worker = os.getppid()
    return pid == worker or parent_of(pid) == worker


def _kill_others():
    """From a sandbox's PID 1: SIGKILL every other process of the sandbox (none left is fine)."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _build_font_cache():
    """Have matplotlib build its font list once, in a child, for every kernel to copy."""
    os.makedirs(MPL_CACHE, exist_ok=True)
    pid = os.fork()
    if pid == 0:
        try:
            os.environ["MPLCONFIGDIR"] = MPL_CACHE
            import matplotlib.font_manager  # noqa: F401 (builds the cache on import)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


class _Server:
    """Forks kernels on request. sandbox_uid: the kernels' user when running as the sandbox's PID 1."""

    def __init__(self, listener, sandbox_uid=None, tasks=0, keep=()):
        self.listener = listener
        self.uid, self.tasks = sandbox_uid, tasks
        self.keep = set(keep)   # names in /tmp that are not the kernels' (the sandbox's own mounts)
        self.kernels = {}       # kernel pid -> stub connection
        self.peak_kb = 0        # largest resident set of a kernel that has ended, KiB

    @property
    def sandboxed(self):
        return self.uid is not None

    def serve(self):
        while True:
            conns = list(self.kernels.values())
            ready, _, _ = select.select([self.listener, sys.stdin, *conns], [], [], 0.05)
            if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1024):
                self._stop_all()
                return                               # the worker is gone
            if self.listener in ready:
                self._accept()
            for pid, conn in list(self.kernels.items()):
                if conn in ready:
                    self._from_stub(pid, conn)
            self._reap()

    def _from_stub(self, pid, conn):
        """A stub spoke: a signal to pass on to its kernel, or it hung up (so the kernel goes)."""
        try:
            message = _receive(conn, dict, 1024)
        except (OSError, ValueError):
            message = None
        if message and isinstance(message.get("signal"), int):
            self._signal(pid, message["signal"])
        else:
            self._signal(pid, signal.SIGKILL)

    def _accept(self):
        conn, _ = self.listener.accept()
        if not _from_worker(conn, self.sandboxed):
            conn.close()        # only the worker and the stubs it starts may ask (not a kernel)
            return
        conn.settimeout(5)
        try:
            message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            request = KernelRequest(**json.loads(message))
        except (OSError, ValueError, TypeError) as exc:
            print(f"kernel fork server: bad request ({exc}); ignored", file=sys.stderr, flush=True)
            conn.close()
            return
        if request.stats:
            self._reap()
            _send(conn, Reply(peak_kb=max(self.peak_kb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
            conn.close()
            return
        if self.sandboxed:
            self._clear()
        pid = os.fork()
        if pid == 0:
            _run_kernel(request, fds, self.uid, self.tasks)
        for fd in fds:
            os.close(fd)
        self.kernels[pid] = conn
        _send(conn, Reply(pid=pid))

    def _clear(self):
        """Sandbox only: end every process but this one, then empty /tmp, /dev/shm and the System V
        IPC objects of the sandbox for the next kernel."""
        _kill_others()
        while True:
            try:
                self._reaped(*os.wait4(-1, 0))
            except ChildProcessError:
                break
        for folder, keep in (("/tmp", self.keep), ("/dev/shm", ())):
            for entry in Path(folder).iterdir():
                if entry.name not in keep:
                    shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        self._remove_ipc_objects()
        os.mkdir(IPC_DIR, 0o755)
        for folder in (WORK_DIR, HOME_DIR):
            os.mkdir(folder, 0o700)
        shutil.copytree(MPL_CACHE, f"{HOME_DIR}/.matplotlib")
        _chown_tree(WORK_DIR, self.uid)
        _chown_tree(HOME_DIR, self.uid)

    def _remove_ipc_objects(self):
        """Remove the System V shared memory, semaphores and queues kernels made: as their owner,
        the kernel user (removing another user's objects would take CAP_SYS_ADMIN)."""
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(self.uid)
                os.setuid(self.uid)
                os.execvp("ipcrm", ["ipcrm", "--all"])
            finally:
                os._exit(127)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("could not remove the previous kernel's System V IPC objects")

    def _signal(self, pid, signum):
        try:
            os.killpg(pid, signum)
        except OSError:
            pass

    def _reaped(self, pid, status, usage):
        """Note a child that ended; tell its stub, if it was a kernel."""
        self.peak_kb = max(self.peak_kb, usage.ru_maxrss)
        conn = self.kernels.pop(pid, None)
        if conn is not None:
            try:
                _send(conn, Reply(exit=os.waitstatus_to_exitcode(status)))
            except OSError:
                pass
            conn.close()

    def _reap(self):
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._reaped(pid, status, usage)
            if self.sandboxed and not self.kernels:
                _kill_others()               # what the kernel left running goes with it

    def _stop_all(self):
        for pid in list(self.kernels):
            self._signal(pid, signal.SIGKILL)


def serve(fd, sandbox_uid=None, tasks=0, preload=True):
    """Serve kernels on the listening socket `fd` until stdin closes; say "ready" on stdout first.

    sandbox_uid: set when this is PID 1 of a grading sandbox: kernels become that user.
    """
    _die_with_parent()
    keep = ()
    if sandbox_uid is not None:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0)   # no ptrace, no /proc/1/mem
        keep = {*os.listdir("/tmp"), Path(MPL_CACHE).name}   # bwrap's folders for what lives under /tmp
        _build_font_cache()
        os.environ["MPLCONFIGDIR"] = MPL_CACHE   # a preloaded matplotlib reads the font list there
    for name in PRELOAD if preload else ():
        __import__(name)
    server = _Server(socket.socket(fileno=fd), sandbox_uid, tasks, keep)
    print("ready", flush=True)
    server.serve()


# ---------------------------------------------------------------- worker side

class ForkServer:
    """The server of one worker process: `start()` it once, `stop()` it at exit.

    While it runs, NNLIB_KERNEL_SERVER in this process's environment names its socket, so the
    kernels that jupyter_client starts from here are forked by it (and NNLIB_KERNEL_IPC tells the
    kernel manager where a sandboxed kernel's sockets are).
    """

    def __init__(self):
        self.process = None
        self.name = None         # the socket's name in the abstract namespace, "@..." (no file)
        self.limits = None       # sandbox.Limits when sandboxed, else None
        self.preload = True
        self.ipc = None          # host path prefix of the kernel's ipc sockets (sandboxed)
        self.server_pid = None   # host pid of the process that forks kernels (the sandbox's PID 1)

    @property
    def path(self):
        """The socket's name as the stubs find it in NNLIB_KERNEL_SERVER ("@..."), or None."""
        return self.name

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def start(self, limits=None, preload=True, export=True):
        """Start the server (if not running with these settings) and wait until it is ready.

        limits: sandbox.Limits to run it in a bubblewrap sandbox; None runs it unsandboxed.
        preload: import PRELOAD once in the server (False: each kernel imports for itself).
        export: set the environment variables, so kernels started from here use it.
        """
        if not self.alive() or (limits, preload) != (self.limits, self.preload):
            self.stop()
            self.limits, self.preload = limits, preload
            self.name = f"@course-kernels-{os.getpid()}-{secrets.token_hex(8)}"
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                listener.bind(address(self.name))
                listener.listen(16)
                self._launch(listener)
            finally:
                listener.close()
        if export:
            os.environ[ENV] = self.path
            for var, value in ((IPC_ENV, self.ipc), (SANDBOXED_ENV, "1" if self.limits else None)):
                if value:
                    os.environ[var] = value
                else:
                    os.environ.pop(var, None)
        return self

    def _launch(self, listener):
        inner = [sys.executable, "-m", "nnlib.course.forkserver", "serve", "--fd", str(listener.fileno())]
        if not self.preload:
            inner.append("--no-preload")
        fds = [listener.fileno()]
        info_r = info_w = None
        if self.limits:
            inner += ["--uid", str(sandbox.kernel_uid()), "--tasks", str(self.limits.tasks)]
            info_r, info_w = os.pipe()
            fds.append(info_w)
            argv = sandbox.command(inner, self.limits, info_fd=info_w)
        else:
            argv = inner
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=fds)
        if info_w is not None:
            os.close(info_w)
            with os.fdopen(info_r) as info:
                status = info.read()
            try:
                self.server_pid = int(json.loads(status)["child-pid"])
            except (ValueError, KeyError, TypeError):
                self.stop()
                raise RuntimeError("the grading sandbox did not start (bwrap gave no status; see the worker's log)")
            self.ipc = f"/proc/{self.server_pid}/root{IPC_DIR}/kernel"
        else:
            self.server_pid = self.process.pid
        if self.process.stdout.readline().strip() != b"ready":
            self.stop()
            raise RuntimeError("the kernel fork server did not start (see the worker's log)")

    def peak_mb(self):
        """Largest resident set of the server or of a kernel it forked that has ended, in MiB."""
        if not self.alive():
            return 0.0
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                s.settimeout(5)
                s.connect(address(self.name))
                _send(s, KernelRequest(stats=True))
                return _receive(s, Reply, 4096).peak_kb / 1024
        except (OSError, ValueError, TypeError, AttributeError):   # a figure for the report, never worth a failure
            return 0.0

    def stop(self):
        for var in (ENV, IPC_ENV, SANDBOXED_ENV):
            if self.name and var in os.environ:
                del os.environ[var]
        if self.process is not None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()
            self.process = None
        self.name = None
        self.ipc = self.server_pid = None


# ---------------------------------------------------------------- stub side (the kernel spec's process)

def _connection_file(kernel_args):
    """The connection file named by `-f FILE` in ipykernel's arguments, read: dict ({} if none)."""
    for i, arg in enumerate(kernel_args):
        name = kernel_args[i + 1] if arg in ("-f", "--f") and i + 1 < len(kernel_args) else None
        if arg.startswith(("-f=", "--f=")):
            name = arg.split("=", 1)[1]
        if name:
            return json.loads(Path(name).read_text())
    return {}


def launch_through_server(path, memory_mb, kernel_args):
    """Have the server at `path` fork the kernel, pass signals on, and exit as it exits.

    Returns False (nothing started) when no server answers at `path`.
    """
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(address(path))
    except OSError:
        conn.close()
        return False
    request = KernelRequest(kernel_args=kernel_args, cwd=os.getcwd(), env=dict(os.environ),
                            memory_mb=memory_mb, connection=_connection_file(kernel_args))
    socket.send_fds(conn, [json.dumps(asdict(request)).encode()], [0, 1, 2])
    started = _receive(conn, Reply)
    if started is None or started.pid is None:
        sys.exit("the kernel fork server did not start a kernel")

    def forward(signum, _frame):
        try:
            conn.sendall(json.dumps({"signal": signum}).encode())
        except OSError:
            pass
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, forward)
    while True:
        try:
            ended = _receive(conn, Reply)
        except (OSError, ValueError, TypeError):
            ended = None
        if ended is None or ended.exit is not None:
            break
    code = ended.exit if ended is not None else 1
    if code < 0:                        # the kernel died of a signal: so does the stub
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code if code >= 0 else 1)


def kernelspec(folder, memory_mb):
    """Write <folder>/kernels/python3/kernel.json starting kernels through the stub; -> folder."""
    spec = Path(folder) / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "nnlib.course.forkserver", "kernel", "--memory-mb", str(int(memory_mb)),
            "--", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (grading)", "language": "python"}, indent=1))
    return Path(folder)


def kernel_main(memory_mb, kernel_args):
    """The stub: a kernel from the server; without one, a kernel started here (unsandboxed only)."""
    server = os.environ.get(ENV)
    if server and launch_through_server(server, memory_mb, kernel_args):
        return
    if os.environ.get(SANDBOXED_ENV):
        sys.exit("the grading sandbox's kernel server is not running: no kernel started")
    sandbox.limit_memory(memory_mb)
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()
    app.initialize(kernel_args)
    _grading_shell(app.shell)
    app.start()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nnlib.course.forkserver")
    sub = parser.add_subparsers(dest="command", required=True)
    serving = sub.add_parser("serve", help="run a server on an inherited listening socket")
    serving.add_argument("--fd", type=int, required=True)
    serving.add_argument("--uid", type=int, default=None, help="sandboxed: the kernels' user")
    serving.add_argument("--tasks", type=int, default=0)
    serving.add_argument("--no-preload", dest="preload", action="store_false")
    kernel = sub.add_parser("kernel", help="the kernel spec's command (the stub)")
    kernel.add_argument("--memory-mb", type=int, default=0)
    kernel.add_argument("kernel_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.fd, args.uid, args.tasks, args.preload)
    else:
        rest = args.kernel_args[1:] if args.kernel_args[:1] == ["--"] else args.kernel_args
        kernel_main(args.memory_mb, rest)


if __name__ == "__main__":
    main()
