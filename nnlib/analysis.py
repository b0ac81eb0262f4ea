"""Quantities computed from models and training runs."""

import numpy as np

from nnlib import models


def shallow_landscape(w1, w2, x, y):
    """Loss and gradient of the shallow narrow net on a grid of weights, in one vectorized pass.

    w1, w2: (A, B) weight grids; x, y: (N,) data.
    Returns loss, dw1, dw2: (A, B) arrays (mean squared error and its gradient).
    """
    w1 = np.asarray(w1, dtype=float)[..., None]
    w2 = np.asarray(w2, dtype=float)[..., None]
    error = y - w1 * w2 * x
    loss = np.mean(error ** 2, axis=-1)
    dw1 = -np.mean(2 * w2 * x * error, axis=-1)
    dw2 = -np.mean(2 * w1 * x * error, axis=-1)
    return loss, dw1, dw2


def converged_epoch(losses, threshold=1e-2):
    """The first epoch with loss below `threshold`, if the loss stays below from then on; else None.

    This is the course's rule for convergence: a run that dips below and comes back up has not
    converged. losses: (T,) array (NaN counts as not below).
    """
    below = np.asarray(losses) < threshold
    if not below.any():
        return None
    first = int(np.argmax(below))
    return first if below[first:].all() else None


def train_deep_narrow(depth, lr, init_weight, x, y, n_epochs=600):
    """Train a DeepNarrowLNN of `depth` weights all set to `init_weight`; -> (n_epochs,) losses."""
    net = models.DeepNarrowLNN(np.full((1, depth), float(init_weight)))
    return net.train(x, y, lr, n_epochs)
