"""The grading sandbox's walls, one by one: what a kernel's code can see, write, reach and leave behind.

Each test runs cells in a real kernel forked by a sandboxed server, as `course grade` runs them
(bubblewrap, as root: `.ci/run` installs it). tests/test_hostile.py grades whole hostile
submissions in a class.
"""

import os
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, kernel_server, processes_of_user
from conftest import run_cells as run
from nnlib.course import forkserver, grade, sandbox, submissions

LIMITS = sandbox.Limits(memory_mb=2048, disk_mb=64, tasks=128)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with kernel_server(tmp_path_factory.mktemp("kernelspec"), LIMITS) as running:
        yield running


def test_the_course_and_the_host_are_not_there(server, tmp_path):
    """Can a kernel see the master notebooks, the solutions, build/, or a host file in /tmp? (It must not.)"""
    (tmp_path / "secret.txt").write_text("answer key")
    paths = [ROOT / "source", ROOT / "solutions", ROOT / "build", ROOT / "nbgrader_config.py",
             tmp_path / "secret.txt", Path("/root/.bash_history"), Path("/home")]
    out, _ = run(tmp_path, f"import os\nprint([os.path.exists(p) for p in {[str(p) for p in paths]!r}])",
                 "import nnlib\nprint(nnlib.__file__)")
    assert out[0] == str([False] * len(paths))
    assert out[1] == str(ROOT / "nnlib" / "__init__.py")   # nnlib itself is readable


def test_the_answer_key_is_sealed(server, tmp_path):
    """Is the answer key (nnlib.answers) not there: its files absent, and importing it failing with the reason?"""
    key = ROOT / "nnlib" / "answers"
    code = ("import os\n"
            f"print(sorted(os.listdir({str(key)!r})), os.path.exists({str(key / 'hyperparameters.py')!r}))\n"
            "try:\n"
            "    from nnlib.answers import hyperparameters\n"
            "except ImportError as exc:\n"
            "    print(exc)")
    out, _ = run(tmp_path, code, "from nnlib.checks import hyperparameters as check\nprint(callable(check.grade_loss))")
    listing, message = out[0].split("\n")
    assert listing in ("['__init__.py'] False", "['__init__.py', '__pycache__'] False"), listing
    assert "answer key" in message and "not available while grading" in message
    assert out[1] == "True"   # the checks themselves import without it


def test_only_tmp_is_writable(server, tmp_path):
    """Are nnlib, /etc and Python read-only, and the private /tmp writable?"""
    code = ("import os, sys\n"
            f"for path in [{str(ROOT / 'nnlib' / 'checks' / '__init__.py')!r}, '/etc/hosts', sys.executable,"
            " '/tmp/mine.txt', 'here.txt']:\n"
            "    try:\n"
            "        open(path, 'a').write('x')\n"
            "        print('wrote', path)\n"
            "    except OSError as exc:\n"
            "        print(exc.strerror)")
    out, _ = run(tmp_path, code)
    lines = out[0].split("\n")
    assert all(line in ("Read-only file system", "Permission denied") for line in lines[:3]), lines
    assert lines[3:] == ["wrote /tmp/mine.txt", "wrote here.txt"]


def test_tmp_has_a_size_cap(server, tmp_path):
    """Does writing past the sandbox's disk cap fail with 'No space left', not fill the host's disk?"""
    code = ("chunk = b'0' * (1 << 20)\n"
            "try:\n"
            "    with open('/tmp/big', 'wb') as f:\n"
            f"        for _ in range({LIMITS.disk_mb * 2}):\n"
            "            f.write(chunk)\n"
            "except OSError as exc:\n"
            "    print(exc.strerror)")
    out, _ = run(tmp_path, code)
    assert out[0] == "No space left on device"


def test_no_network(server, tmp_path):
    """Can a kernel reach a server listening on the host's loopback? (It must not.)"""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        out, _ = run(tmp_path, "import socket\ntry:\n"
                     f"    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('connected')\n"
                     "except OSError as exc:\n    print('refused')")
    assert out[0] == "refused"


def test_no_other_process_in_sight_and_the_server_out_of_reach(server, tmp_path):
    """Does a kernel see only the sandbox's PID 1 and itself, and fail to signal it or read its
    environment and memory (the worker's environment, which may hold a database password)?"""
    code = ("import os, signal\n"
            "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) == sorted({1, os.getpid()}))\n"
            "for attempt in (lambda: os.kill(1, signal.SIGKILL), lambda: open('/proc/1/environ').read(),\n"
            "                lambda: open('/proc/1/mem', 'rb').read(1)):\n"
            "    try:\n        attempt()\n        print('done')\n"
            "    except OSError as exc:\n        print(exc.strerror)")
    out, _ = run(tmp_path, code)
    assert out[0].split("\n") == ["True", "Operation not permitted", "Permission denied", "Permission denied"]
    assert server.alive()


def test_no_capabilities_and_a_user_of_its_own(server, tmp_path):
    """Does the kernel run as its own unprivileged user, with no capabilities and no way back to root?"""
    code = ("import os\n"
            "status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n"
            "print(os.getuid(), status['CapEff'].strip(), status['NoNewPrivs'].strip())\n"
            "try:\n    os.setuid(0)\nexcept OSError as exc:\n    print(exc.strerror)")
    out, _ = run(tmp_path, code)
    uid, caps, no_new_privs = out[0].split("\n")[0].split()
    assert int(uid) >= sandbox.UID_BASE and int(caps, 16) == 0 and no_new_privs == "1"
    assert out[0].split("\n")[1] == "Operation not permitted"


def test_what_a_kernel_starts_dies_before_the_next_kernel(server, tmp_path):
    """Do a detached process, files in /tmp and /dev/shm and a System V segment of one kernel vanish
    before the next kernel starts?"""
    run(tmp_path, "import subprocess\n"
        "subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "open('/tmp/left-behind', 'w').write('x')\nopen('/dev/shm/left-behind', 'w').write('x')\n"
        "subprocess.run(['ipcmk', '--shmem', '4096'], check=True)")
    out, _ = run(tmp_path, "import os\n"
                 "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) == sorted({1, os.getpid()}),"
                 " os.path.exists('/tmp/left-behind'), os.path.exists('/dev/shm/left-behind'),"
                 " len(open('/proc/sysvipc/shm').read().splitlines()) - 1)")
    assert out[0] == "True False False 0"


def test_nothing_outlives_its_kernel(server, tmp_path):
    """Once a kernel has ended, is no process of a kernel user left on the host?"""
    run(tmp_path, "import os, subprocess\n"
        "subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "if os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(600)")
    import time
    uid = sandbox.kernel_uid(os.getpid())   # the server was started from this process
    deadline = time.monotonic() + 5
    while processes_of_user(uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_of_user(uid) == []


def test_kernel_sockets_cannot_be_changed_or_used_by_the_kernel(server, tmp_path):
    """Can a kernel replace its own ZMQ sockets (e.g. by links to another kernel's) or connect to them?"""
    code = ("import os, socket\n"
            f"ipc = {forkserver.IPC_DIR!r}\n"
            "name = sorted(n for n in os.listdir(ipc) if n.startswith('kernel-'))[0]\n"
            "for attempt in (lambda: os.unlink(os.path.join(ipc, name)),\n"
            "                lambda: os.symlink('/elsewhere', os.path.join(ipc, 'kernel-99')),\n"
            "                lambda: socket.socket(socket.AF_UNIX).connect(os.path.join(ipc, name)),\n"
            "                lambda: open(os.path.join(ipc, 'kernel.json')).read()):\n"
            "    try:\n        attempt()\n        print('done')\n"
            "    except OSError as exc:\n        print(exc.strerror)")
    out, _ = run(tmp_path, code)
    assert out[0].split("\n") == ["Permission denied"] * 4


def test_processes_and_threads_are_capped(server, tmp_path):
    """Does a fork bomb stop at the task cap, leaving the kernel alive?"""
    code = ("import os, time\nchildren = 0\n"
            f"for _ in range({LIMITS.tasks * 2}):\n"
            "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
            "    if pid == 0:\n        time.sleep(600)\n        os._exit(0)\n    children += 1\n"
            f"print(children < {LIMITS.tasks})")
    out, _ = run(tmp_path, code, "print('still here')")
    assert out == ["True", "still here"]


def test_unavailable_says_what_is_missing_and_how_to_get_it(monkeypatch):
    """Without bubblewrap, or not as root, does the sandbox say why and name --no-sandbox?"""
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    missing = sandbox.unavailable()
    assert "bubblewrap" in missing and "apt-get install bubblewrap" in missing and "--no-sandbox" in missing
    monkeypatch.undo()
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    assert "root" in sandbox.unavailable()


def test_grading_refuses_without_a_sandbox(monkeypatch, tmp_path):
    """Where no sandbox can run, does `course grade` stop before grading, saying what is missing?"""
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="bubblewrap"):
        grade.grade(ROOT, ["a1_hyperparameters"], tmp_path, tmp_path / "out", progress=False, log=lambda *_: None)
    assert not (tmp_path / "out").exists()


def test_grading_without_isolation_says_so(tmp_path):
    """With --no-sandbox, do the log, grades.csv and the report all say 'WITHOUT isolation'?"""
    a, name = "a1_hyperparameters", "hyperparameters.ipynb"
    folder = tmp_path / "submitted" / "alice" / a
    folder.mkdir(parents=True)
    solved = submissions.solved(submissions.read(ROOT / "release" / a / name), submissions.read(ROOT / "source" / a / name))
    submissions.nbformat.write(solved, str(folder / name))
    said = []
    results = grade.grade(ROOT, [a], tmp_path / "submitted", tmp_path / "out", workers=1, progress=False,
                          log=said.append, sandboxed=False)
    assert results[0].auto_score == 10 and not results[0].isolated
    assert any("WITHOUT isolation" in line for line in said)
    rows = (tmp_path / "out" / "grades.csv").read_text()
    assert ",NONE," in rows and "WITHOUT isolation" in rows
    assert "WITHOUT isolation" in (tmp_path / "out" / "report.html").read_text()


def test_course_grade_refuses_on_the_command_line(tmp_path):
    """Does the `course` command exit non-zero with the reason when bwrap is not on PATH?"""
    env = {**os.environ, "PATH": str(tmp_path)}   # no bwrap here
    done = subprocess.run([str(Path(os.sys.executable).parent / "course"), "--root", str(ROOT), "grade",
                           "a1_hyperparameters", "--submitted", str(tmp_path), "--out", str(tmp_path / "out")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "bubblewrap" in done.stderr and "--no-sandbox" in done.stderr


def test_a_course_under_tmp_is_bound_into_the_private_tmp(monkeypatch):
    """For a course cloned under /tmp (as CI does), are its .venv and nnlib bound after the private
    /tmp is mounted, so they are not hidden by it, and /tmp itself keeps its own mode?"""
    monkeypatch.setattr(sandbox, "_readable_roots", lambda: ["/usr", "/tmp/clone/.venv", "/tmp/clone/nnlib"])
    argv = sandbox.command(["true"], LIMITS)
    tmpfs = argv.index("/tmp", argv.index("--tmpfs"))
    binds = [i for i, a in enumerate(argv) if a == "--ro-bind" and argv[i + 1].startswith("/tmp/")]
    assert binds and all(i > tmpfs for i in binds)
    assert ["--dir", "/tmp"] not in [argv[i:i + 2] for i in range(len(argv))]
