"""Fork server for grading kernels: the heavy imports once per worker, a fresh process per kernel.

A grading kernel spends about 2 s of CPU importing what every notebook needs before it runs a
line of the student's code (torch alone 1.6 s, ipykernel and IPython 0.25 s, numpy 0.1 s). A
worker starts one server that imports them once and then only forks: each kernel is still a new
process of its own, forked from a parent that never runs notebook code, so no submission sees
another's state.

    worker --starts--> server: imports PRELOAD, waits on a unix socket, single-threaded
    jupyter_client --starts--> `python -m nnlib.course.sandbox` (the kernel spec's argv), which
        finds NNLIB_KERNEL_SERVER, sends its argv, environment, folder and stdio, and waits
    server --forks--> kernel: new session, the sandbox's memory cap, the stub's environment
    stub <-- "exit N" -- server, when the kernel ends; the stub then exits with that status

Signals sent to the stub (interrupt, terminate) go on to the kernel's process group; a stub that
is killed makes the server kill its kernel; a server that dies takes its kernels with it. Only
the worker and processes it started may ask the server for anything: a kernel's own code cannot
(and does not find the socket's path in its environment).
Modules whose import reads settings a kernel changes (matplotlib's backend, ipywidgets' comm
registration) are not preloaded.
"""

import ctypes
import json
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ENV = "NNLIB_KERNEL_SERVER"
PRELOAD = ("numpy", "torch", "ipykernel.kernelapp")
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Ask Linux to kill this process when the process that forked it ends (no-op elsewhere)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------- server side (its own process)

def _run_kernel(request, fds, closing):
    """In the forked child: become the kernel the stub asked for. Never returns."""
    try:
        for fd in closing:
            os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.setsid()
        _die_with_parent()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.pop(ENV, None)            # the kernel has no business with the server
        sys.argv = list(request["argv"])
        sys.path[0] = request["cwd"]
        if "numpy.random" in sys.modules:
            sys.modules["numpy.random"].seed()   # a fresh process draws its own global seed
        from nnlib.course.sandbox import limit_memory
        limit_memory(request["memory_mb"])
        from ipykernel import kernelapp
        args = list(request["kernel_args"])
        if os.environ.get("JPY_PARENT_PID"):   # read by ipykernel at import, here before it was set
            args.append(f"--IPKernelApp.parent_handle={os.environ['JPY_PARENT_PID']}")
        kernelapp.launch_new_instance(argv=args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # the kernel could not start: say why on its stderr
        import traceback
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def parent_of(pid):
    """Parent process id of `pid` (Linux /proc), or None."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _from_worker(conn):
    """Is the peer the worker that started this server, or a process the worker started?"""
    pid, _, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    worker = os.getppid()
    return pid == worker or parent_of(pid) == worker


class _Server:
    def __init__(self, path):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(path)
        self.listener.listen(16)
        self.kernels = {}       # kernel pid -> stub connection
        self.peak_kb = 0        # largest resident set of a kernel that has ended, KiB

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
                if conn in ready and not conn.recv(1024):
                    self._kill(pid)                  # the stub is gone: so is its kernel
            self._reap()

    def _accept(self):
        conn, _ = self.listener.accept()
        if not _from_worker(conn):
            conn.close()        # only the worker and the stubs it starts may ask (not a kernel)
            return
        conn.settimeout(5)
        try:
            message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            request = json.loads(message)
        except (OSError, ValueError) as exc:
            print(f"kernel fork server: bad request ({exc}); ignored", file=sys.stderr, flush=True)
            conn.close()
            return
        if request.get("stats"):
            self._reap()
            own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            conn.sendall(json.dumps({"peak_kb": max(self.peak_kb, own)}).encode())
            conn.close()
            return
        closing = [self.listener.fileno(), conn.fileno(), *(c.fileno() for c in self.kernels.values())]
        pid = os.fork()
        if pid == 0:
            _run_kernel(request, fds, closing)
        for fd in fds:
            os.close(fd)
        self.kernels[pid] = conn
        conn.sendall(f"pid {pid}".encode())

    def _kill(self, pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass

    def _reap(self):
        while self.kernels:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.peak_kb = max(self.peak_kb, usage.ru_maxrss)
            conn = self.kernels.pop(pid, None)
            if conn is not None:
                try:
                    conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}".encode())
                except OSError:
                    pass
                conn.close()

    def _stop_all(self):
        for pid in list(self.kernels):
            self._kill(pid)


def serve(path):
    """Import PRELOAD, say "ready" on stdout, then fork kernels until stdin closes."""
    _die_with_parent()
    for name in PRELOAD:
        __import__(name)
    server = _Server(path)
    print("ready", flush=True)
    server.serve()


# ---------------------------------------------------------------- worker side

class ForkServer:
    """The server of one worker process: `start()` it once, `stop()` it at exit.

    While it runs, NNLIB_KERNEL_SERVER in this process's environment names its socket, so the
    sandbox kernels that jupyter_client starts from here are forked by it.
    """

    def __init__(self):
        self.process = None
        self.folder = None

    @property
    def path(self):
        return str(Path(self.folder) / "kernels.sock")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def start(self, export=True):
        """Start the server (if not running) and wait until its imports are done.

        export: name its socket in NNLIB_KERNEL_SERVER, so kernels started from here use it.
        """
        if not self.alive():
            self.stop()
            self.folder = tempfile.mkdtemp(prefix="course-kernels-")
            self.process = subprocess.Popen([sys.executable, "-m", "nnlib.course.forkserver", self.path],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            if self.process.stdout.readline().strip() != b"ready":
                self.stop()
                raise RuntimeError("the kernel fork server did not start (see the worker's log)")
        if export:
            os.environ[ENV] = self.path
        return self

    def peak_mb(self):
        """Largest resident set of the server or of a kernel it forked that has ended, in MiB."""
        if not self.alive():
            return 0.0
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                s.settimeout(5)
                s.connect(self.path)
                s.sendall(json.dumps({"stats": True}).encode())
                return json.loads(s.recv(4096))["peak_kb"] / 1024
        except (OSError, ValueError, KeyError):   # a figure for the report, never worth a failure
            return 0.0

    def stop(self):
        if self.folder and os.environ.get(ENV) == self.path:
            del os.environ[ENV]
        if self.process is not None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()
            self.process = None
        if self.folder:
            Path(self.path).unlink(missing_ok=True)
            os.rmdir(self.folder)
            self.folder = None


# ---------------------------------------------------------------- stub side (the kernel spec's process)

def launch_through_server(path, memory_mb, kernel_args):
    """Have the server at `path` fork the kernel, pass signals on, and exit as it exits.

    Returns False (nothing started) when no server answers at `path`.
    """
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return False
    request = {"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ), "memory_mb": memory_mb,
               "kernel_args": kernel_args}
    socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
    first = conn.recv(64).split()
    if len(first) != 2 or first[0] != b"pid":
        sys.exit("the kernel fork server did not start a kernel")
    pid = int(first[1])

    def forward(signum, _frame):
        try:
            os.killpg(pid, signum)
        except OSError:
            pass
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, forward)
    last = conn.recv(64).split()
    code = int(last[1]) if len(last) == 2 and last[0] == b"exit" else 1
    if code < 0:                        # the kernel died of a signal: so does the stub
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code if code >= 0 else 1)


if __name__ == "__main__":
    serve(sys.argv[1])
