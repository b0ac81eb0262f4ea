"""Data sets of the course, all made locally (nothing is downloaded)."""

import numpy as np


def gen_samples(n, a, sigma):
    """Noisy samples of the line y = a x.

    n: int > 0; a: float slope; sigma: float >= 0 noise std.
    With sigma > 0, x ~ U[0, 1) and y = a x + N(0, sigma^2) (numpy's global RNG);
    with sigma == 0, x is n evenly spaced points on [0, 1] and y = a x exactly.
    Returns x, y: (n,) float arrays.
    """
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"gen_samples: n must be a positive integer, got {n!r}")
    if sigma < 0:
        raise ValueError(f"gen_samples: sigma must be >= 0, got {sigma!r}")
    if sigma > 0:
        x = np.random.rand(n)
        y = a * x + np.random.normal(scale=sigma, size=n)
    else:
        x = np.linspace(0.0, 1.0, n, endpoint=True)
        y = a * x
    return x, y


def seeded_samples(n, a, sigma, seed):
    """`gen_samples(n, a, sigma)` drawn under numpy seed `seed`, leaving the global RNG as it was."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        return gen_samples(n, a, sigma)
    finally:
        np.random.set_state(state)


def deep_narrow_data(seed=2021):
    """The deep-narrow-net data set: 100 noisy samples of y = 2x (noise std 0.1). -> x, y: (100,)"""
    return seeded_samples(100, 2.0, 0.1, seed)


def load_digits(test_fraction=0.25, seed=0):
    """The handwritten digits that scikit-learn ships (1,797 images of 8x8 pixels), offline.

    Pixels are standardised with the TRAINING set's mean and std (one scalar each).
    test_fraction: share of images held out; seed: int for the shuffled split.
    Returns X_train (N, 64) float32 tensor, y_train (N,) int64 tensor, X_test, y_test.
    """
    import torch
    from sklearn.datasets import load_digits as sklearn_digits

    images = sklearn_digits()
    X = images.data.astype(np.float32)
    y = images.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    mean, std = X[train].mean(), X[train].std()
    X = (X - mean) / std
    return (torch.from_numpy(X[train]), torch.from_numpy(y[train]),
            torch.from_numpy(X[test]), torch.from_numpy(y[test]))


# ---- teacher-student data (depth vs width) ------------------------------------------------------

from nnlib.reference import reference as _reference  # noqa: E402


@_reference
def make_data(net, n_in, n_examples):
    """Inputs X ~ N(0, I) of shape (n_examples, n_in) and the teacher's outputs y = net(X), detached.

    Draws from torch's global generator. net: torch module taking (N, n_in) -> (N, 1).
    Returns X: (n_examples, n_in) float32 tensor, y: (n_examples, 1) float32 tensor without grad.
    """
    import torch

    X = torch.randn(n_examples, n_in)
    with torch.no_grad():
        y = net(X)
    return X, y
