"""Shared fixtures and environment of the test session.

`make test` spreads test files over two xdist workers with `--dist loadfile`: each file (and each
notebook, whose cells nbval runs in order in one kernel) stays on one worker, so module fixtures
such as a graded example class or a shared-kernel catalogue run are computed once.
"""

import contextlib
import os
from pathlib import Path

import pytest

# Kernels started by the tests (nbval, catalogues) print no progress bars: their output depends on
# the machine's speed, and solutions/ is built the same way (nnlib.course.build).
os.environ.setdefault("TQDM_DISABLE", "1")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root():
    return ROOT


def run_cells(folder, *sources, timeout=20, allow_errors=False):
    """Run cells in a grading kernel (the kernel spec first on JUPYTER_PATH) started from `folder`.

    Returns ([output text of each cell], the NotebookClient).
    """
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    from nnlib.course.client import GradingKernelManager
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout, interrupt_on_timeout=True,
                            allow_errors=allow_errors, shutdown_kernel="immediate",
                            kernel_manager_class=GradingKernelManager,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    texts = [[o.get("text", "") or o.get("evalue", "") or o.get("ename", "") for o in c.outputs] for c in nb.cells]
    return [" ".join(t).strip() for t in texts], client


@contextlib.contextmanager
def kernel_server(specs, limits, memory_mb=2048):
    """A running kernel server (sandboxed with `limits`, or not for None) whose grading kernel spec
    (memory_mb cap) is first on JUPYTER_PATH; the environment is restored afterwards."""
    from nnlib.course import forkserver
    forkserver.kernelspec(specs, memory_mb)
    names = ("JUPYTER_PATH", forkserver.ENV, forkserver.IPC_ENV, forkserver.SANDBOXED_ENV)
    saved = {k: os.environ.get(k) for k in names}
    os.environ["JUPYTER_PATH"] = str(specs)
    running = forkserver.ForkServer().start(limits=limits)
    try:
        yield running
    finally:
        running.stop()
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


def _process_users():
    """{pid: real uid} of the processes alive now."""
    users = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            users[int(status.parent.name)] = int(
                next(l for l in status.read_text().splitlines() if l.startswith("Uid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            continue
    return users


def processes_of_user(uid):
    """Pids of the processes running as `uid` now."""
    return sorted(pid for pid, user in _process_users().items() if user == uid)


def orphaned_kernel_processes():
    """Pids of sandbox kernel-user processes whose worker is gone (a kernel user is
    sandbox.UID_BASE + its worker's pid): what a finished grading run must not leave."""
    from nnlib.course import sandbox
    users = _process_users()
    return sorted(pid for pid, uid in users.items() if uid >= sandbox.UID_BASE and uid - sandbox.UID_BASE not in users)


def children_of(pid):
    """Process ids whose parent is `pid` now (Linux /proc)."""
    from nnlib.course.forkserver import parent_of
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and parent_of(e.name) == pid]


def slow_a1_answers(seconds=3.0):
    """Answers of a1 that make its notebook run `seconds` longer and still score full marks: the
    cell of `registered_lrs` sleeps before its right answer. A test that must catch a worker while
    it grades such a student does not depend on how fast grading is."""
    from nnlib.course import cells, submissions

    source = submissions.read(ROOT / "source" / "a1_hyperparameters" / "hyperparameters.ipynb")
    right = cells.solution_regions(source)["registered_lrs"]
    return {"registered_lrs": f"import time\ntime.sleep({seconds})\n{right}"}
