"""The tamper scan: code that would make hidden tests pass without a right answer is found."""

import nbformat
import pytest

from nnlib.course import integrity
from nnlib.course.integrity import scan, scan_source

TAMPERING = [
    "check.grade_loss = lambda f: None",
    "check = None",
    "np.testing.assert_allclose = print",
    "np.allclose = lambda *a, **k: True",
    "numpy.isclose = lambda *a, **k: True",
    "torch.allclose = lambda *a: True",
    "get_ipython().showtraceback = lambda *a, **k: None",
    "import sys\nsys.modules['nnlib.checks'].call = print",
    "from nnlib.checks import hyperparameters as h",
    "setattr(check, 'grade_loss', print)",
    "open('../../../gradebook.db').read()",
    "import json\njson.load(open('/course/source/a1/hyperparameters.ipynb'))",
    "import sys; sys.setprofile(None)",
    "f.__code__ = g.__code__",
    "import sqlite3",
    "(check := None)",
    "get_ipython().input_transformers_post.append(lambda lines: lines)",
]

INNOCENT = [
    "mse = ((y_true - y_prediction) ** 2).mean()",
    "plt.rcParams['figure.figsize'] = (3, 3)",
    "torch.backends.cudnn.deterministic = True",
    "x = np.zeros(3)\nx[0] = 1",
    "self.w1 -= lr * dloss_dw1",
    "np.random.seed(0)\nresult = np.allclose(a, b)",
    "%matplotlib inline\ny = 1",
]


@pytest.mark.parametrize("code", TAMPERING)
def test_tampering_is_found(code):
    """Is each way of faking a pass reported with its line?"""
    assert scan_source(code)


@pytest.mark.parametrize("code", INNOCENT)
def test_ordinary_code_is_not_flagged(code):
    """Does ordinary answer code pass the scan?"""
    assert scan_source(code) == []


# Magics and shell lines are read as IPython runs them: (cell, line of the finding, what is found).
HIDDEN_BY_MAGICS = [
    ("_ = !true\ncheck = None", 2, "rebinds `check`"),
    ("!ls\ncheck = None", 2, "rebinds `check`"),
    ("%%bash\necho hello\ncp ../../gradebook.db /tmp/", 1, "gradebook.db"),
    ("x = 1\n%time np.allclose = lambda *a, **k: True", 2, "overwrites `np.allclose`"),
    ("%timeit -n 1 -r 1 check = None", 1, "rebinds `check`"),
    ("\n%%capture out\ny = 2\nnp.testing.assert_allclose = print", 4, "overwrites `np.testing.assert_allclose`"),
    ("%%capture\n%%time\ncheck.grade_loss = print", 3, "overwrites `check.grade_loss`"),
]


@pytest.mark.parametrize("code, line, what", HIDDEN_BY_MAGICS)
def test_magic_lines_do_not_hide_the_rest_of_a_cell(code, line, what):
    """Can a shell line or magic hide tampering in the rest of its cell from the scan?"""
    assert any(at == line and what in found for at, found in scan_source(code)), scan_source(code)


def test_magic_code_that_does_not_parse_is_a_finding():
    """Is code given to a magic that runs it, and that does not parse, reported rather than skipped?"""
    (finding,) = scan_source("%timeit -q -x !!")
    assert finding[0] == 1 and "not parse" in finding[1]


def test_a_cell_that_does_not_parse_is_for_a_person_not_a_penalty():
    """Is an honest syntax error left out of the tamper findings but listed for a person?"""
    import nbformat
    code = "def loss(y, t:\n    return 0\ncheck = None"
    assert scan_source(code) == []
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(code)])
    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    (note,) = integrity.unparsable(nb, release)
    assert note.startswith("cell 2 line 1: does not parse")


@pytest.mark.parametrize("code", [
    "!pip list\ny = 2",
    "%%capture\nx = np.zeros(3)",
    "%timeit -n 10 np.allclose(a, b)",
    "files = !ls\nprint(files)",
    "%%bash\necho hello",
])
def test_ordinary_magics_are_not_flagged(code):
    """Do ordinary magics and shell lines pass the scan?"""
    assert scan_source(code) == []


def test_scan_names_the_cell_and_line_behind_a_magic():
    """Does the notebook scan report tampering after `_ = !true` with its cell and line?"""
    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np")])
    nb = nbformat.v4.new_notebook(cells=[*release.cells, nbformat.v4.new_code_cell("_ = !true\ncheck = None")])
    assert scan(nb, release) == ["cell 2 line 2: rebinds `check`"]
