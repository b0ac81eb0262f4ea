"""Data sets that more than one assignment uses, made locally (nothing is downloaded).

An assignment's own data set lives in its topic module (`nnlib.topics.<topic>`).
"""

import numpy as np


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
