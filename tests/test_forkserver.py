"""The kernel fork server: forked kernels behave like kernels started from scratch, in the sandbox
(`sandboxed`, as grading runs them) and without it (`--no-sandbox`)."""

import os
import signal
import subprocess
import sys
import time

import pytest
from nbclient.exceptions import CellExecutionError, DeadKernelError

from nnlib.course import forkserver, sandbox
from conftest import kernel_server
from conftest import run_cells as _run


MODES = {"sandboxed": sandbox.Limits(memory_mb=2048), "plain": None}


@pytest.fixture(scope="module", params=list(MODES))
def server(request, tmp_path_factory):
    """A running fork server (in a sandbox or not), the grading kernel spec (2048 MiB cap) on JUPYTER_PATH."""
    with kernel_server(tmp_path_factory.mktemp("kernelspec"), MODES[request.param]) as running:
        yield running


def _kernels_of(server):
    """Host pids of the server's children (its kernels)."""
    return {int(p) for p in os.listdir("/proc") if p.isdigit() and forkserver.parent_of(p) == server.server_pid}


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] != "Z"


def test_kernel_is_forked_in_its_folder_under_the_memory_cap(server, tmp_path):
    """Is the kernel a child of the server, in its working folder, under the memory cap, torch loaded?"""
    out, _ = _run(tmp_path, "import os, resource\nprint(os.getppid(), os.getcwd())",
                  "print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)",
                  "import sys\nprint('torch' in sys.modules)")
    if server.limits:      # the sandbox's PID 1, in the sandbox's private working folder
        assert out[0] == f"1 {forkserver.WORK_DIR}"
    else:
        assert out[0] == f"{server.process.pid} {tmp_path}"
    assert out[1:] == ["2048", "True"]


def test_each_kernel_starts_fresh(server, tmp_path):
    """Does state left by one kernel (a global, a patched module, numpy's seed) stay out of the next?"""
    first, _ = _run(tmp_path, "import numpy as np\nnp.allclose = None\nleft = 1\nprint(np.random.rand())")
    second, _ = _run(tmp_path, "import numpy as np\nprint(np.allclose is None, 'left' in globals(), np.random.rand())")
    patched, left, draw = second[0].split()
    assert (patched, left) == ("False", "False")
    assert draw != first[0], "forked kernels share numpy's global random state"


def test_preloaded_widgets_are_registered_with_each_kernel(server, tmp_path):
    """Is ipywidgets, imported once by the server, set up in each forked kernel as its own import
    in a kernel would set it up (the widgets' comm targets registered with that kernel)?"""
    code = ("import sys\npreloaded = 'ipywidgets' in sys.modules\nimport comm, ipywidgets\n"
            "print(preloaded, sorted(t for t in comm.get_comm_manager().targets if t.startswith('jupyter.widget')))")
    for _ in range(2):
        out, _ = _run(tmp_path, code)
        assert out == ["True ['jupyter.widget', 'jupyter.widget.control']"]


def test_preloaded_matplotlib_takes_the_kernels_backend(server, tmp_path, monkeypatch):
    """Does a forked kernel draw with the backend its own import of matplotlib would have chosen:
    the inline backend (a PNG in the cell's outputs), or the one MPLBACKEND names?"""
    code = ("import sys\npreloaded = 'matplotlib.pyplot' in sys.modules\nimport matplotlib\n"
            "print(preloaded, matplotlib.get_backend())")
    draw = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
    out, client = _run(tmp_path, code, draw)
    assert out[0] == "True module://matplotlib_inline.backend_inline"
    assert [o.output_type for o in client.nb.cells[1].outputs] == ["display_data"]
    assert "image/png" in client.nb.cells[1].outputs[0].data
    monkeypatch.setenv("MPLBACKEND", "agg")
    out, client = _run(tmp_path, code, draw)
    assert out[0] == "True agg"
    assert client.nb.cells[1].outputs == []


def test_interrupt_reaches_the_forked_kernel(server, tmp_path):
    """Does a cell timeout interrupt the kernel, so the next cell still runs?"""
    start = time.monotonic()
    out, _ = _run(tmp_path, "import time\ntime.sleep(60)", "print('after')", timeout=2, allow_errors=True)
    assert time.monotonic() - start < 30
    assert out[1] == "after"


def test_kernel_that_exits_is_reported_dead(server, tmp_path):
    """Does os._exit in a cell end the run with DeadKernelError, as for any kernel?"""
    with pytest.raises((DeadKernelError, CellExecutionError)) as info:
        _run(tmp_path, "import os\nos._exit(3)", "print('never')")
    assert "dead" in str(info.value).lower() or "died" in str(info.value).lower()


def test_killing_the_stub_kills_its_kernel(server, tmp_path):
    """When jupyter_client kills the kernel it started (the stub), does the forked kernel die too?"""
    _run(tmp_path, "print('hello')")
    deadline = time.monotonic() + 5
    while _kernels_of(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _kernels_of(server)


@pytest.mark.parametrize("mode", MODES)
def test_kernels_die_with_the_server(tmp_path, mode):
    """If the server is killed (the worker died), do its kernels go with it?"""
    spare = forkserver.ForkServer().start(limits=MODES[mode], export=False)
    try:
        got = {}
        (tmp_path / "kernel.json").write_text('{"transport": "tcp", "ip": "127.0.0.1"}')
        stub = subprocess.Popen([sys.executable, "-m", "nnlib.course.forkserver", "kernel", "--", "-f",
                                 str(tmp_path / "kernel.json")], cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, forkserver.ENV: spare.path})
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.1)
            got = _kernels_of(spare)
        assert got, "the server forked no kernel"
        spare.process.send_signal(signal.SIGKILL)
        stub.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in got) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in got)
    finally:
        spare.stop()


def test_without_a_server_an_unsandboxed_stub_starts_the_kernel_itself(tmp_path, monkeypatch):
    """Unsandboxed, does a socket nobody listens on make the stub start the kernel itself?"""
    specs = tmp_path / "specs"
    forkserver.kernelspec(specs, 1024)
    monkeypatch.setenv("JUPYTER_PATH", str(specs))
    monkeypatch.setenv(forkserver.ENV, str(tmp_path / "nobody.sock"))
    monkeypatch.delenv(forkserver.SANDBOXED_ENV, raising=False)
    monkeypatch.delenv(forkserver.IPC_ENV, raising=False)
    out, _ = _run(tmp_path, "import os, resource\nprint(os.getppid(), resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)")
    assert out[0] == f"{os.getpid()} 1024"   # started by this process's kernel manager, capped


def test_without_a_server_a_sandboxed_stub_starts_nothing(tmp_path, monkeypatch):
    """When grading is sandboxed and the server is gone, does the stub refuse instead of starting
    a kernel outside the sandbox?"""
    (tmp_path / "kernel.json").write_text("{}")
    env = {**os.environ, forkserver.ENV: str(tmp_path / "nobody.sock"), forkserver.SANDBOXED_ENV: "1"}
    done = subprocess.run([sys.executable, "-m", "nnlib.course.forkserver", "kernel", "--", "-f",
                           str(tmp_path / "kernel.json")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "no kernel started" in done.stderr


def test_a_kernel_cannot_ask_the_server_for_anything(server, tmp_path):
    """Is the server's socket out of a kernel's environment, and does it refuse a kernel that finds it?"""
    code = (f"import os, socket\nprint({forkserver.ENV!r} in os.environ)\n"
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
            "try:\n"
            f"    s.connect({forkserver.address(server.path)!r})\n"
            "    s.sendall(b'{\"stats\": true}')\n"
            "    print(repr(s.recv(100)))\n"
            "except OSError:   # reset or broken pipe: the server hung up first\n"
            "    print(repr(b''))")
    out, _ = _run(tmp_path, code)
    assert out[0].split() == ["False", "b''"]


def test_memory_a_failed_cell_took_is_given_back(server, tmp_path):
    """After a cell whose function filled the address space before its MemoryError, can the next cell
    allocate again? (IPython keeps a failed cell's frames; the grading kernel lets go of them.)"""
    bomb = ("def bomb():\n    hog = []\n    while True:\n        hog.append(bytearray(50_000_000))\n"
            "bomb()")
    out, _ = _run(tmp_path, bomb, "x = bytearray(300_000_000)\nprint('allocated', len(x) >> 20)",
                  allow_errors=True)
    assert out[0] == "MemoryError"
    assert out[1] == "allocated 286"
