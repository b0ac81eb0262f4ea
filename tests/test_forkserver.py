"""The kernel fork server: forked kernels behave like kernels started from scratch."""

import os
import signal
import subprocess
import sys
import time

import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from nnlib.course import forkserver, sandbox
from nnlib.course.client import GradingKernelManager


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A running fork server, and the sandbox kernel spec (2048 MiB cap) first on JUPYTER_PATH."""
    specs = tmp_path_factory.mktemp("kernelspec")
    sandbox.kernelspec(specs, 2048)
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", forkserver.ENV)}
    os.environ["JUPYTER_PATH"] = str(specs)
    running = forkserver.ForkServer().start()
    yield running
    running.stop()
    for key, value in saved.items():
        os.environ.pop(key, None)
        if value is not None:
            os.environ[key] = value


def _run(folder, *sources, timeout=20, allow_errors=False):
    """Run cells in a sandbox kernel started from `folder`; -> ({cell: [output texts]}, client)."""
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout, interrupt_on_timeout=True,
                            allow_errors=allow_errors, shutdown_kernel="immediate",
                            kernel_manager_class=GradingKernelManager,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    texts = [[o.get("text", "") or o.get("evalue", "") or o.get("ename", "") for o in c.outputs] for c in nb.cells]
    return [" ".join(t).strip() for t in texts], client


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] != "Z"


def test_kernel_is_forked_with_the_stubs_folder_and_memory_cap(server, tmp_path):
    """Is the kernel a child of the server, in the notebook's folder, under the memory cap?"""
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    out, _ = _run(tmp_path, "import os, resource\nprint(os.getppid(), os.getcwd())",
                  "print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)",
                  "import helper\nprint(helper.VALUE)", "import sys\nprint('torch' in sys.modules)")
    assert out[0] == f"{server.process.pid} {tmp_path}"
    assert out[1:] == ["2048", "42", "True"]


def test_each_kernel_starts_fresh(server, tmp_path):
    """Does state left by one kernel (a global, a patched module, numpy's seed) stay out of the next?"""
    first, _ = _run(tmp_path, "import numpy as np\nnp.allclose = None\nleft = 1\nprint(np.random.rand())")
    second, _ = _run(tmp_path, "import numpy as np\nprint(np.allclose is None, 'left' in globals(), np.random.rand())")
    patched, left, draw = second[0].split()
    assert (patched, left) == ("False", "False")
    assert draw != first[0], "forked kernels share numpy's global random state"


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
    out, _ = _run(tmp_path, "import os\nprint(os.getpid())")
    pid = int(out[0])
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_kernels_die_with_the_server(tmp_path):
    """If the server is killed (the worker's budget ran out), do its kernels go with it?"""
    spare = forkserver.ForkServer().start(export=False)
    try:
        got = {}
        stub = subprocess.Popen([sys.executable, "-m", "nnlib.course.sandbox", "--", "-f",
                                 str(tmp_path / "kernel.json")], cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, forkserver.ENV: spare.path})
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.1)
            got = {int(p) for p in os.listdir("/proc")
                   if p.isdigit() and forkserver.parent_of(p) == spare.process.pid}
        assert got, "the server forked no kernel"
        spare.process.send_signal(signal.SIGKILL)
        stub.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in got) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in got)
    finally:
        spare.stop()


def test_without_a_server_the_sandbox_starts_the_kernel_itself(tmp_path, monkeypatch):
    """Does a socket nobody listens on make the sandbox start the kernel itself?"""
    specs = tmp_path / "specs"
    sandbox.kernelspec(specs, 1024)
    monkeypatch.setenv("JUPYTER_PATH", str(specs))
    monkeypatch.setenv(forkserver.ENV, str(tmp_path / "nobody.sock"))
    out, _ = _run(tmp_path, "import os, resource\nprint(os.getppid(), resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)")
    assert out[0] == f"{os.getpid()} 1024"   # started by this process's kernel manager, capped


def test_a_kernel_cannot_ask_the_server_for_anything(server, tmp_path):
    """Is the server's socket out of a kernel's environment, and does it refuse a kernel that finds it?"""
    code = (f"import os, socket\nprint({forkserver.ENV!r} in os.environ)\n"
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
            "try:\n"
            f"    s.connect({server.path!r})\n"
            "    s.sendall(b'{\"stats\": true}')\n"
            "    print(repr(s.recv(100)))\n"
            "except OSError:   # reset or broken pipe: the server hung up first\n"
            "    print(repr(b''))")
    out, _ = _run(tmp_path, code)
    assert out[0].split() == ["False", "b''"]
