"""Data generators and analysis helpers."""

import numpy as np
import pytest

from nnlib import analysis, answers, data


def test_gen_samples_without_noise_is_exact_line():
    """With sigma 0, is the data the exact line on evenly spaced points?"""
    x, y = data.gen_samples(5, 3.0, 0.0)
    np.testing.assert_allclose(x, np.linspace(0, 1, 5))
    np.testing.assert_allclose(y, 3.0 * x)


@pytest.mark.parametrize("n, sigma, what", [(0, 0.1, "n must be a positive integer"),
                                            (3, -1.0, "sigma must be >= 0")])
def test_gen_samples_rejects_bad_arguments_by_name(n, sigma, what):
    """Does bad input get an error that names the argument?"""
    with pytest.raises(ValueError, match=what):
        data.gen_samples(n, 1.0, sigma)


def test_seeded_samples_leave_global_rng_untouched():
    """Does drawing the registration data keep the notebook's random stream as it was?"""
    np.random.seed(5)
    expected = np.random.rand(3)
    np.random.seed(5)
    data.deep_narrow_data(2021)
    np.testing.assert_array_equal(np.random.rand(3), expected)


def test_seeded_samples_repeat():
    """Is the registration data the same on every call?"""
    a, b = data.deep_narrow_data(2021), data.deep_narrow_data(2021)
    np.testing.assert_array_equal(a[0], b[0])


def test_landscape_matches_model_on_every_grid_point():
    """Does the vectorized landscape equal the model evaluated point by point?"""
    x, y = data.gen_samples(10, 1.0, 0.0)
    w1, w2 = np.mgrid[-1:1:5j, -1:1:4j]
    loss, d1, d2 = analysis.shallow_landscape(w1, w2, x, y)
    for i in range(5):
        for j in range(4):
            net = answers.hyperparameters.ShallowNarrowLNN([w1[i, j], w2[i, j]])
            assert np.isclose(loss[i, j], net.loss(net.forward(x), y))
            np.testing.assert_allclose((d1[i, j], d2[i, j]), net.dloss_dw(x, y))


@pytest.mark.parametrize("losses, expected", [
    ([1.0, 0.5, 0.009, 0.001], 2),
    ([1.0, 0.005, 0.02, 0.001], None),
    ([1.0, 0.005, 0.02, 0.5], None),
    ([0.001, np.nan], None),
    ([1.0, 1.0], None),
])
def test_converged_epoch_means_below_for_good(losses, expected):
    """Is convergence the first epoch below 1e-2, counted only if the loss stays below from there on?"""
    assert analysis.converged_epoch(np.array(losses)) == expected
