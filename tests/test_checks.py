"""The helpers hidden tests are built from: messages, reference detection, wrapping errors."""

import numpy as np
import pytest

from nnlib import answers, checks
from nnlib.checks import CheckFailed


def test_expect_close_says_expected_and_got():
    """Does a mismatch report what was expected and what came back?"""
    with pytest.raises(CheckFailed, match=r"loss: expected 2, got 4"):
        checks.expect_close("loss", 4.0, 2.0)


def test_expect_close_reports_shape_mismatch():
    """Is a shape mistake reported as a shape, not as a numpy broadcasting error?"""
    with pytest.raises(CheckFailed, match=r"expected shape \(3,\), got shape \(3, 1\)"):
        checks.expect_close("out", np.zeros((3, 1)), np.zeros(3))


def test_small_number_hides_round_off_digits_only():
    """Is an error below the round-off bound printed as "below" the bound, and anything else
    (NaN included) with its digits?"""
    assert checks.small_number(1.5e-11, 1e-8) == "below 1e-8"
    assert checks.small_number(4.4e-16, 2.5e-12) == "below 2.5e-12"
    assert checks.small_number(3.14159e-7, 1e-7) == "3.14e-07"
    assert checks.small_number(float("nan"), 1e-7) == "nan"


def test_forbid_reference_catches_an_alias():
    """Is calling the reference through another name still caught?"""
    alias = answers.hyperparameters.mse

    def student(a, b):
        return alias(a, b)

    with pytest.raises(CheckFailed, match="answer key"):
        checks.call("loss", student, np.zeros(2), np.ones(2))


def test_own_code_is_not_flagged():
    """Does an answer written from scratch pass the reference detector?"""
    assert checks.call("loss", lambda a, b: float(np.mean((a - b) ** 2)), np.zeros(2), np.ones(2)) == 1.0


def test_not_implemented_is_explained():
    """Is an unfinished exercise reported as unfinished rather than as a traceback?"""
    def stub(*args):
        raise NotImplementedError("loss: not done yet")

    with pytest.raises(CheckFailed, match="not written yet"):
        checks.call("loss", stub)


def test_student_exception_is_named():
    """Does an error inside the student's function say which function and what error?"""
    with pytest.raises(CheckFailed, match="forward raised ZeroDivisionError"):
        checks.call("forward", lambda: 1 / 0)


def test_warnings_inside_student_code_stay_quiet(recwarn):
    """Are numpy warnings from a student's code kept off stderr (nbgrader would zero the cell)?"""
    checks.call("f", lambda: np.log(np.zeros(2)))
    assert len(recwarn) == 0


def test_profiler_is_restored():
    """Is any profiler that was active before a check put back afterwards?"""
    import sys
    marker = lambda *a: None  # noqa: E731
    sys.setprofile(marker)
    try:
        checks.call("f", lambda: 1)
        assert sys.getprofile() is marker
    finally:
        sys.setprofile(None)


def test_registration_verdicts_reused_are_those_computed_afresh():
    """Does a1's registration report, reused from a worker's cache for a second student, give each
    depth the verdict a fresh training run gives?"""
    from nnlib.topics import hyperparameters as topic
    from nnlib.checks import hyperparameters as h

    rates = {10: 0.02, 20: 0.005, 30: 0.5, 40: 0.002, 50: 0.001, 60: 0.0005}
    first = h.registration_report(rates)
    again = h.registration_report({str(d): lr for d, lr in rates.items()})   # another student's form
    x, y = topic.deep_narrow_data(2021)
    with np.errstate(all="ignore"):
        fresh = {d: (lr, topic.converged_epoch(topic.train_deep_narrow(d, lr, 0.9, x, y, 600)))
                 for d, lr in rates.items()}
    assert first == again == fresh
    assert any(epoch is None for _, epoch in fresh.values()) and any(epoch is not None for _, epoch in fresh.values())
