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
