"""nnlib.gradcheck: centred differences and the relative error the course's gradient checks print."""

import numpy as np
import pytest

from nnlib import gradcheck


def test_centred_difference_of_a_cubic_is_its_slope():
    """Is the centred difference of x^3 at several points 3 x^2, up to eps^2?"""
    x = np.array([-2.0, 0.5, 3.0])
    assert np.allclose(gradcheck.centred(lambda v: v ** 3, x), 3 * x ** 2, rtol=1e-8)


def test_gradient_of_a_quadratic_form():
    """Is the numerical gradient of w^T A w equal to (A + A^T) w, coordinate by coordinate, in w's shape?"""
    r = np.random.default_rng(0)
    A, w = r.normal(size=(4, 4)), r.normal(size=4)
    numeric = gradcheck.gradient(lambda v: v @ A @ v, w)
    assert numeric.shape == w.shape
    assert gradcheck.relative_error(numeric, (A + A.T) @ w) < 1e-8


def test_gradient_keeps_a_matrix_shape():
    """Does gradient() work on a matrix of parameters and return a matrix?"""
    W = np.arange(6.0).reshape(2, 3)
    assert np.allclose(gradcheck.gradient(lambda v: np.sum(v ** 2), W), 2 * W, atol=1e-6)


def test_relative_error_is_symmetric_and_scale_free():
    """Is the relative error the same both ways round and unchanged by scaling both?"""
    a, b = np.array([1.0, 2.0]), np.array([1.1, 2.0])
    assert gradcheck.relative_error(a, b) == gradcheck.relative_error(b, a)
    assert gradcheck.relative_error(1e5 * a, 1e5 * b) == pytest.approx(gradcheck.relative_error(a, b))
    assert gradcheck.relative_error(a, b) == pytest.approx(0.1 / 2.1)


def test_relative_error_floor_ignores_round_off_near_zero():
    """Does the floor keep two tiny values from counting as a 100 % error?"""
    assert gradcheck.relative_error([1e-11], [-1e-11]) == pytest.approx(1.0)
    assert gradcheck.relative_error([1e-11], [-1e-11], floor=1e-4) < 1e-6
