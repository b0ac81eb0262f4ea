"""Broken and hostile submissions of assignment 1, graded together in one class, in the sandbox.

Each fixture is the worked solution with one thing done to it; a tampering fixture adds its
tampering to an honest answer (the solution, or the wrong loss of "honest_mistake") and must score
exactly what that honest answer scores alone: the judge decides every test outside the kernel. After grading, each must have
its own status and reason, lose exactly the points named here, and leave the rest of the class
alone: the honest students score what they score alone, nothing under the course root changes,
no process a kernel started is alive and no file a kernel wrote is left on the host. (Not JSON,
wrong file name, endless cells, deleted and moved test cells and warnings are in
tests/test_class_grading.py's synthetic class; the sandbox's walls one by one in
tests/test_sandbox.py.)
"""

import copy
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import nbformat
import pytest

from conftest import orphaned_kernel_processes
from nnlib.course import cells, grade, submissions

ROOT = Path(__file__).resolve().parents[1]
A, NAME = "a1_hyperparameters", "hyperparameters.ipynb"
TESTS = {"test_loss": 2, "test_forward": 1, "test_dloss_dw": 2, "test_train": 2, "test_registration": 3}
MSE = "mse = ((y_true - y_prediction) ** 2).mean()"
WRONG_MSE = "mse = ((y_true - y_prediction) ** 2).sum()"
FORWARD = "y = x * self.w1 * self.w2"


@dataclass
class Fixture:
    answers: dict = field(default_factory=dict)    # region -> code, instead of the solution's
    after: dict = field(default_factory=dict)      # grade_id -> code of a cell the student adds after it
    edit: object = None                            # nb -> None, changes the notebook in place
    status: str = grade.GRADED
    zero: tuple = ()                               # tests that must score nothing (all: "*")
    reason: str = ""                               # words one of the reasons must contain
    failure: str = ""                              # words the first zeroed test's message must contain


def _cell(nb, gid):
    return next(c for c in nb.cells if cells.grade_id(c) == gid)


def _copy(cell, new_id):
    cell = copy.deepcopy(cell)
    cell["id"] = new_id    # Jupyter gives a pasted cell an id of its own
    return cell


def _duplicate(nb):
    i = nb.cells.index(_cell(nb, "loss"))
    nb.cells.insert(i + 1, _copy(nb.cells[i], "pasted-1"))
    nb.cells.append(_copy(_cell(nb, "test_forward"), "pasted-2"))


def _edit_tests(nb):
    _cell(nb, "test_loss").source = "print('all good')"


def _edit_metadata(nb):
    _cell(nb, "test_loss").metadata.nbgrader["points"] = 50
    _cell(nb, "test_forward").metadata.nbgrader["grade"] = False
    _cell(nb, "test_train").metadata.nbgrader["grade_id"] = "my_test"


_FIND_GRADEBOOK = """import os
for top, _, files in os.walk('../../..'):
    for f in files:
        if f.endswith('.d' + 'b'):
            con = __import__('sql' + 'ite3').connect(os.path.join(top, f))
            con.execute('UPDATE grade_cells SET max_score = 50')
            con.commit()
"""

MARKER = "/tmp/course-hostile-marker"    # a host path hostile cells try to write; must never exist

# Persistence through the course's files: rewrite nnlib's checks on disk so later students pass.
_REWRITE_CHECKS = """import importlib.util, pathlib
folder = pathlib.Path(importlib.util.find_spec('nnlib').origin).parent / 'checks'
for path in folder.glob('*.py'):
    try:
        path.write_text(path.read_text().replace('def grade_', 'def _old_grade_'))
    except OSError as exc:
        print('blocked:', exc)
"""
# The grader's own output and template gradebooks: look for them through /proc and the disk.
_HUNT_RESULTS = """import os, glob
paths = set()
for cmd in glob.glob('/proc/*/cmdline') + glob.glob('/proc/*/environ'):
    try:
        paths.update(w for w in open(cmd, 'rb').read().decode(errors='ignore').replace('=', chr(0)).split(chr(0)) if w.startswith('/'))
    except OSError:
        pass
for top in list(paths) + ['/', '/tmp', '/root', '/work', '/home']:
    for folder, _, files in os.walk(top):
        for f in files:
            if f.endswith(('.json', '.db')) and ('.grading' in folder or 'gradebook' in f or 'build' in folder):
                try:
                    open(os.path.join(folder, f), 'a').write('tampered')
                except OSError:
                    pass
"""
# A process that outlives the kernel and edits things after grading.
_DETACHED = f"""import subprocess, sys
late = "import time; time.sleep(4); open(%r, 'w').write('late')" % {MARKER!r}
subprocess.Popen([sys.executable, '-c', late], start_new_session=True)
print('started')
"""
# Other kernels: find their connection files through /proc and talk to them.
_OTHER_KERNELS = """import glob, json
for cmd in glob.glob('/proc/*/cmdline'):
    try:
        words = open(cmd, 'rb').read().split(b'\\0')
    except OSError:
        continue
    for w in words:
        if w.endswith(b'.json') and b'kernel' in w:
            info = json.load(open(w))
            from jupyter_client import BlockingKernelClient
            client = BlockingKernelClient(); client.load_connection_info(info); client.start_channels()
            client.execute('import nnlib.checks as c; c.expect_close = lambda *a, **k: None')
"""
# The answer key: the master notebook, its path built from pieces.
_ANSWER_KEY = """import json, pathlib, importlib.util
root = pathlib.Path(importlib.util.find_spec('nnlib').origin).parents[1]
key = root / ('sou' + 'rce') / 'a1_hyperparameters' / ('hyperparameters.' + ''.join(map(chr, [105, 112, 121, 110, 98])))
try:
    cells = json.loads(key.read_text())['cells']
    exec('\\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'code' and 'BEGIN SOLUTION loss' in ''.join(c['source'])))
except OSError:
    mse = ((y_true - y_prediction) ** 2).sum()
"""
# Kill everything it can reach: its parents, every pid.
_KILL_ALL = """import os, signal
for pid in range(2, 4 * 10**6 if False else 5000):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
"""
# Fill the disk: 1.5 GB into /tmp.
_FILL_TMP = """chunk = b'0' * (1 << 20)
try:
    with open('/tmp/big.bin', 'wb') as f:
        for _ in range(1500):
            f.write(chunk)
except OSError as exc:
    print('stopped:', exc)
"""

# Tampering with the checks in the student's own kernel, the ways that fooled in-kernel tests.
_ALIAS = """c = check
c.grade_loss = c.selfcheck_loss = lambda *a, **k: None
"""
_EXEC_B64 = """import base64
exec(base64.b64decode(%r).decode())
""" % __import__("base64").b64encode(b"import nnlib.checks.hyperparameters as h\n"
                                     b"h.grade_loss = h.selfcheck_loss = lambda *a, **k: None\n").decode()
_DEFAULTS = """import nnlib.checks
nnlib.checks.expect_close.__defaults__ = (1e9, 1e9, "")
"""
_NUMPY_OF_CHECKS = """import types, nnlib.checks as c
fake = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith('__')})
fake.allclose = lambda *a, **k: True
setattr(c, ''.join(['n', 'p']), fake)
"""
_REFERRERS = """import gc
original = np.allclose
for holder in gc.get_referrers(original):
    if isinstance(holder, dict):
        for key, value in list(holder.items()):
            if value is original:
                holder[key] = lambda *a, **k: True
"""
_FRAME = """import sys
found, frame = None, sys._getframe(1)
while frame is not None and found is None:
    for name in ('expected', 'reference', 'want'):
        if name in frame.f_locals:
            found = frame.f_locals[name]
    frame = frame.f_back
mse = found if found is not None else ((y_true - y_prediction) ** 2).sum()
"""
_LIAR = """class Liar(float):
    __eq__ = __lt__ = __le__ = __gt__ = __ge__ = lambda self, other: True
    __sub__ = __rsub__ = lambda self, other: Liar(0.0)
    __abs__ = lambda self: Liar(0.0)
mse = Liar(123.0)
"""
# Replies to the judge in place of the kernel's agent: whatever it sends can only be its own answers.
_FORGE = """import nnlib.course.agent as agent
agent._answer = lambda request: {"ok": {"f": "0.0"}}
"""
_KEY_THREAD = """import threading
box = []
def run():
    try:
        from nnlib.answers import hyperparameters as key
        box.append(key.mse(y_prediction, y_true))
    except ImportError as exc:
        box.append(exc)
t = threading.Thread(target=run)
t.start()
t.join()
if isinstance(box[0], Exception):
    raise box[0]
mse = box[0]
"""
# The answer key's source, read from disk to rebuild its function: the sandbox has only the seal.
_KEY_SOURCE = """import importlib.util, pathlib, types
folder = pathlib.Path(importlib.util.find_spec('nnlib').origin).parent / 'answers'
try:
    namespace = {}
    exec((folder / 'hyperparameters.py').read_text(), namespace)
    mse = types.FunctionType(namespace['mse'].__code__, {'np': np})(y_prediction, y_true)
except OSError:
    mse = ((y_true - y_prediction) ** 2).sum()
"""

FIXTURES = {
    "solution": Fixture(),
    "honest_mistake": Fixture(answers={"loss": WRONG_MSE}, zero=("test_loss",), failure="mean"),
    "missing_notebook": Fixture(status=grade.UNGRADABLE, zero="*", reason="missing"),
    "duplicated_cells": Fixture(edit=_duplicate, status=grade.PROBLEMS, reason="more than once"),
    "edited_test_cell": Fixture(answers={"loss": WRONG_MSE}, edit=_edit_tests, status=grade.PROBLEMS,
                                zero=("test_loss",), reason="test_loss was edited", failure="mean"),
    "edited_metadata": Fixture(edit=_edit_metadata, status=grade.PROBLEMS, reason="metadata of test_loss"),
    "memory_bomb": Fixture(answers={"loss": "hog = []\nwhile True:\n    hog.append(bytearray(100_000_000))"},
                           zero=("test_loss",), failure="MemoryError"),
    "sys_exit": Fixture(answers={"forward": "import sys\nsys.exit(1)"}, zero=("test_forward",),
                        failure="called sys.exit()"),
    "os_exit_in_test": Fixture(answers={"loss": "import os\nos._exit(3)"}, status=grade.PROBLEMS,
                               zero=("test_loss",), reason="test_loss stopped the kernel"),
    "segfault_in_own_cell": Fixture(after={"loss": "import ctypes\nctypes.string_at(0)"}, status=grade.PROBLEMS,
                                    reason="stopped the kernel"),
    "huge_output": Fixture(after={"loss": "print('x' * 10_000_000)\nfor i in range(100_000):\n    print(i)"}),
    "torch_warning": Fixture(answers={"loss": "import torch\n_ = torch.tensor(torch.ones(1))\n" + MSE}),
    # Tampering with the checks in the kernel: the judge decides outside it, so each scores what its
    # honest answer alone scores (here the wrong loss: test_loss lost), flagged for a person.
    "patches_checks": Fixture(answers={"loss": WRONG_MSE}, after={"loss": "import nnlib.checks\n"
                              "nnlib.checks.expect_close = lambda *a, **k: None"},
                              status=grade.FLAGGED, zero=("test_loss",), reason="nnlib.checks", failure="mean"),
    "patches_numpy_testing": Fixture(after={"loss": "np.testing.assert_allclose = lambda *a, **k: None"},
                                     status=grade.FLAGGED, reason="np.testing"),
    "patches_torch_allclose": Fixture(after={"loss": "import torch\ntorch.allclose = lambda *a, **k: True"},
                                      status=grade.FLAGGED, reason="torch.allclose"),
    "patches_traceback": Fixture(after={"loss": "get_ipython().showtraceback = lambda *a, **k: None"},
                                 status=grade.FLAGGED, reason="showtraceback"),
    "patches_numpy_in_disguise": Fixture(
        answers={"loss": WRONG_MSE},
        after={"loss": "setattr(__import__('num' + 'py'), 'allclose', lambda *a, **k: True)"},
        zero=("test_loss",), failure="mean"),
    "alias_replaces_grade": Fixture(answers={"loss": WRONG_MSE}, after={"loss": _ALIAS}, zero=("test_loss",),
                                    failure="mean"),
    "exec_of_base64": Fixture(answers={"loss": WRONG_MSE}, after={"loss": _EXEC_B64}, zero=("test_loss",),
                              failure="mean"),
    "patch_inside_magic": Fixture(answers={"loss": WRONG_MSE},
                                  after={"loss": "%time check.grade_loss = check.selfcheck_loss = print"},
                                  status=grade.FLAGGED, zero=("test_loss",), reason="check.grade_loss", failure="mean"),
    "changes_defaults": Fixture(answers={"loss": WRONG_MSE}, after={"loss": _DEFAULTS}, zero=("test_loss",),
                                status=grade.FLAGGED, reason="nnlib.checks", failure="mean"),
    "numpy_of_checks_by_computed_name": Fixture(answers={"loss": WRONG_MSE}, after={"loss": _NUMPY_OF_CHECKS},
                                                status=grade.FLAGGED, reason="nnlib.checks", zero=("test_loss",),
                                                failure="mean"),
    "swaps_allclose_everywhere": Fixture(answers={"loss": WRONG_MSE}, after={"loss": _REFERRERS},
                                         zero=("test_loss",), failure="mean"),
    "reads_the_calling_frame": Fixture(answers={"loss": _FRAME}, zero=("test_loss",), failure="mean"),
    "returns_a_liar": Fixture(answers={"loss": _LIAR}, zero=("test_loss",)),
    "forges_the_judges_answers": Fixture(answers={"loss": WRONG_MSE}, after={"loss": _FORGE}, zero="*",
                                         status=grade.FLAGGED, reason="nnlib.course"),
    # The answer key is not in the sandbox: every route to it fails, saying why.
    "calls_answer_key": Fixture(answers={"loss": "from nnlib.answers import hyperparameters as key\n"
                                         "mse = key.mse(y_prediction, y_true)"},
                                zero=("test_loss",), failure="answer key", status=grade.FLAGGED,
                                reason="nnlib.answers"),
    "calls_answer_key_from_a_thread": Fixture(answers={"loss": _KEY_THREAD}, zero=("test_loss",), failure="answer key",
                                              status=grade.FLAGGED, reason="nnlib.answers"),
    "clones_the_answer_keys_code": Fixture(answers={"loss": _KEY_SOURCE}, zero=("test_loss",), failure="mean",
                                           status=grade.FLAGGED, reason="__code__"),
    "reads_hidden_tests": Fixture(after={"loss": "text = open('../../../source/a1_hyperparameters/"
                                         "hyperparameters.ipynb').read()"},
                                  status=grade.FLAGGED, reason="hyperparameters.ipynb"),
    "opens_gradebook": Fixture(after={"loss": "import sqlite3\ncon = sqlite3.connect('../../../gradebook.db')"},
                               status=grade.FLAGGED, reason="sqlite3"),
    # The sandbox shows the kernel no gradebook at all: the search finds nothing, the answers stand.
    "edits_gradebook_in_disguise": Fixture(after={"loss": _FIND_GRADEBOOK}),
    "rewrites_nnlib_checks": Fixture(answers={"loss": WRONG_MSE}, after={"loss": _REWRITE_CHECKS},
                                     zero=("test_loss",), failure="mean"),
    # The scan names '.db' for a person to look at; the search itself finds nothing in the sandbox.
    "hunts_results_and_gradebooks": Fixture(answers={"loss": WRONG_MSE}, after={"loss": _HUNT_RESULTS},
                                            status=grade.FLAGGED, zero=("test_loss",), reason="'.db'"),
    "detached_process": Fixture(after={"loss": _DETACHED}),
    "talks_to_other_kernels": Fixture(answers={"loss": WRONG_MSE}, after={"loss": _OTHER_KERNELS},
                                      zero=("test_loss",), failure="mean"),
    "reads_answer_key": Fixture(answers={"loss": _ANSWER_KEY}, zero=("test_loss",), failure="mean"),
    "shell_magics": Fixture(answers={"loss": WRONG_MSE},
                            after={"loss": f"_ = !touch {MARKER}\nprint('after the magic')",
                                   "shallow_narrow": f"%%bash\ntouch {MARKER}\necho x > /work/hostile.txt"},
                            zero=("test_loss",), failure="mean"),
    "kills_everything": Fixture(after={"loss": _KILL_ALL}, status=grade.PROBLEMS, reason="stopped the kernel"),
    "fills_tmp": Fixture(after={"loss": _FILL_TMP}),
}
HONEST = ("solution", "honest_mistake")


def _make(name, fixture, release, source, submitted):
    folder = submitted / name / A
    folder.mkdir(parents=True)
    if name == "missing_notebook":
        (folder / "notes.txt").write_text("I could not finish")
        return
    nb = submissions.solved(release, source, fixture.answers)
    for gid, code in fixture.after.items():
        nb.cells.insert(nb.cells.index(_cell(nb, gid)) + 1, nbformat.v4.new_code_cell(code))
    if fixture.edit:
        fixture.edit(nb)
    nbformat.write(nb, str(folder / NAME))


def _course_files():
    """{path: sha256} of what decides grades under the course root (templates included)."""
    paths = [ROOT / "nbgrader_config.py", *(ROOT / "build" / "gradebooks").glob("*.db")]
    for folder in ("nnlib", "source", "release", "solutions"):
        paths += [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    release = submissions.read(ROOT / "release" / A / NAME)
    source = submissions.read(ROOT / "source" / A / NAME)
    for name, fixture in FIXTURES.items():
        _make(name, fixture, release, source, out / "submitted")
    Path(MARKER).unlink(missing_ok=True)
    grade._template_db(ROOT, A)
    before = _course_files()
    temp = out / "tmp"
    temp.mkdir()
    with mock.patch.dict(os.environ, {"TMPDIR": str(temp)}), mock.patch.object(tempfile, "tempdir", None):
        results = grade.grade(ROOT, [A], out / "submitted", out / "graded", workers=2, timeout=30,
                              progress=False, log=lambda *_: None)
    return {"results": {r.student: r for r in results},  # out / "graded" did not exist: grade makes it
            "before": before, "after": _course_files(), "temp": temp}


@pytest.mark.parametrize("name", FIXTURES)
def test_each_fixture_gets_its_status_reason_and_score(graded, name):
    """Does each broken or hostile submission get its own status, a reason, and lose just its points?"""
    fixture, result = FIXTURES[name], graded["results"][name]
    assert result.status == fixture.status, (result.reasons, result.failures)
    if fixture.reason:
        assert any(fixture.reason in r for r in result.reasons), result.reasons
    scores = {key.split("/")[-1]: s for key, (s, _, by_hand) in result.scores.items() if not by_hand}
    expected = {t: 0 if fixture.zero == "*" or t in fixture.zero else p for t, p in TESTS.items()}
    assert scores == expected, (result.reasons, result.failures)
    assert result.auto_max == sum(TESTS.values())
    if fixture.failure:
        zeroed = next(t for t in TESTS if expected[t] == 0)
        assert fixture.failure in result.failures.get(zeroed, ""), result.failures


def test_the_rest_of_the_class_is_untouched(graded):
    """Are the honest students, graded beside all of them, scored as alone with nothing to report?"""
    solution, mistake = graded["results"]["solution"], graded["results"]["honest_mistake"]
    assert solution.auto_score == sum(TESTS.values()) and not solution.reasons and not solution.failures
    assert mistake.auto_score == sum(TESTS.values()) - TESTS["test_loss"] and not mistake.reasons
    assert list(mistake.failures) == ["test_loss"]


def test_nothing_under_the_course_root_changed(graded):
    """Are nnlib, the notebooks, the config and the template gradebooks byte for byte as before?"""
    changed = {p for p, digest in graded["before"].items() if graded["after"].get(p) != digest}
    added = set(graded["after"]) - set(graded["before"]) - {p for p in graded["after"] if "/build/" in p}
    assert not changed and not added


def test_nothing_is_left_running_or_on_disk(graded):
    """After grading: no kernel user's process alive, no temporary file of the run, no marker written?"""
    import time
    time.sleep(5)   # longer than the detached process waits before it writes
    assert orphaned_kernel_processes() == []
    assert sorted(p.name for p in graded["temp"].iterdir()) == []
    assert not Path(MARKER).exists() and not Path("/work/hostile.txt").exists()


def test_autograde_pipeline_is_nbgraders_own_but_for_execute():
    """Does autograde run nbgrader's own steps, in its order, with only Execute swapped for GuardedExecute?"""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from nnlib.course.config import load_config
    from nnlib.course.preprocessors import GuardedExecute

    ours = load_config(ROOT).Autograde.autograde_preprocessors
    nbgraders = Autograde.class_traits()["autograde_preprocessors"].default()
    assert ours == [GuardedExecute if p is Execute else p for p in nbgraders]


@pytest.mark.parametrize("name", FIXTURES)
def test_each_fixture_is_code_that_runs(name):
    """Does every fixture's code parse as IPython reads it (an attack that is a syntax error tests nothing)?"""
    from nnlib.course.integrity import python_of
    fixture = FIXTURES[name]
    for code in [*fixture.answers.values(), *fixture.after.values()]:
        compile(python_of(code), name, "exec")
