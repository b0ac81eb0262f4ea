"""Gradient checks: slopes by centred differences and the relative error against them.

The course checks every derivative it asks for (by hand, a backward pass, an activation's
derivative) the same way: the centred difference (f(w + eps) - f(w - eps)) / (2 eps), whose
error is of order eps^2, and the largest relative error |a - b| / (|a| + |b|) between the two.
"""

import numpy as np

EPS = 1e-6


def centred(f, x, eps=EPS):
    """Slope of f at x, elementwise: (f(x + eps) - f(x - eps)) / (2 eps).

    f: callable applied to x shifted as a whole (an activation on an array, a function of one
    number); x: number or numpy array. For the gradient of a function of several variables, see
    `gradient`.
    """
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def gradient(f, w, eps=EPS):
    """Gradient of a scalar function f at w, one coordinate at a time by centred differences.

    f: callable on a float numpy array shaped like w, returning a number; w: numbers (any shape).
    Returns a float numpy array of w's shape.
    """
    w = np.asarray(w, dtype=float)
    grad = np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        step = np.zeros_like(w)
        step[idx] = eps
        grad[idx] = (f(w + step) - f(w - step)) / (2 * eps)
    return grad


def relative_error(got, expected, floor=1e-12):
    """Largest elementwise |got - expected| / (|got| + |expected|), each denominator at least `floor`.

    floor keeps entries where both are (near) zero from dividing by zero; raise it to ignore
    entries below that size.
    """
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    return float(np.max(np.abs(got - expected) / np.maximum(np.abs(got) + np.abs(expected), floor)))
