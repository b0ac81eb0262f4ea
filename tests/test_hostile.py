"""Broken and hostile submissions of assignment 1, graded together in one class.

Each fixture is the worked solution with one thing done to it. After grading, each must have
its own status and reason, lose exactly the points named here, and leave the rest of the class
alone. (Not JSON, wrong file name, endless cells, deleted and moved test cells and warnings are
in tests/test_class_grading.py's synthetic class.)
"""

import copy
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from nnlib.course import grade, submissions

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
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


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

FIXTURES = {
    "solution": Fixture(),
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
    "patches_checks": Fixture(answers={"loss": WRONG_MSE}, after={"loss": "import nnlib.checks\n"
                              "nnlib.checks.expect_close = lambda *a, **k: None"},
                              status=grade.PENALIZED, zero="*", reason="nnlib.checks"),
    "patches_numpy_testing": Fixture(after={"loss": "np.testing.assert_allclose = lambda *a, **k: None"},
                                     status=grade.PENALIZED, zero="*", reason="np.testing"),
    "patches_torch_allclose": Fixture(after={"loss": "import torch\ntorch.allclose = lambda *a, **k: True"},
                                      status=grade.PENALIZED, zero="*", reason="torch.allclose"),
    "patches_traceback": Fixture(after={"loss": "get_ipython().showtraceback = lambda *a, **k: None"},
                                 status=grade.PENALIZED, zero="*", reason="showtraceback"),
    "patches_numpy_in_disguise": Fixture(
        answers={"loss": WRONG_MSE},
        after={"loss": "setattr(__import__('num' + 'py'), 'allclose', lambda *a, **k: True)"},
        status=grade.PENALIZED, zero="*", reason="numpy.allclose was replaced"),
    "calls_reference": Fixture(answers={"loss": "from nnlib import models\nmse = models.mse(y_prediction, y_true)"},
                               zero=("test_loss",), failure="reference implementation"),
    "reads_hidden_tests": Fixture(after={"loss": "text = open('../../../source/a1_hyperparameters/"
                                         "hyperparameters.ipynb').read()"},
                                  status=grade.PENALIZED, zero="*", reason="hyperparameters.ipynb"),
    "opens_gradebook": Fixture(after={"loss": "import sqlite3\ncon = sqlite3.connect('../../../gradebook.db')"},
                               status=grade.PENALIZED, zero="*", reason="sqlite3"),
    "edits_gradebook_in_disguise": Fixture(after={"loss": _FIND_GRADEBOOK}, status=grade.PENALIZED, zero="*",
                                           reason="gradebook's copy"),
}


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


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    release = submissions.read(ROOT / "release" / A / NAME)
    source = submissions.read(ROOT / "source" / A / NAME)
    for name, fixture in FIXTURES.items():
        _make(name, fixture, release, source, out / "submitted")
    results = grade.grade(ROOT, [A], out / "submitted", out / "graded", workers=2, timeout=30,
                          progress=False, log=lambda *_: None)
    return {r.student: r for r in results}  # out / "graded" did not exist: grade makes it


@pytest.mark.parametrize("name", FIXTURES)
def test_each_fixture_gets_its_status_reason_and_score(graded, name):
    """Does each broken or hostile submission get its own status, a reason, and lose just its points?"""
    fixture, result = FIXTURES[name], graded[name]
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
    """Is the worked solution, graded beside all of them, still full marks with nothing to report?"""
    solution = graded["solution"]
    assert solution.auto_score == sum(TESTS.values()) and not solution.reasons and not solution.failures


def test_autograde_pipeline_is_nbgraders_own_but_for_execute():
    """Does autograde run nbgrader's own steps, in its order, with only Execute swapped for GuardedExecute?"""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from nnlib.course.config import load_config
    from nnlib.course.preprocessors import GuardedExecute

    ours = load_config(ROOT).Autograde.autograde_preprocessors
    nbgraders = Autograde.class_traits()["autograde_preprocessors"].default()
    assert ours == [GuardedExecute if p is Execute else p for p in nbgraders]
