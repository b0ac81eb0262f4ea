"""The tamper scan: code that would make hidden tests pass without a right answer is found."""

import pytest

from nnlib.course.integrity import scan_source

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
