"""Answer key of assignment 2 (deep linear networks): initialization, the total weight and its
SVD, the representational similarity matrix, least-squares linear regression."""

import math

import numpy as np
import torch
from torch import nn

from nnlib.reference import reference


@reference
def initializer_(model, gamma=1e-12):
    """Re-draw every weight matrix of `model` in place from N(0, sigma^2).

    sigma = gamma / sqrt(n_in + n_out) for a weight of shape (n_out, n_in).
    model: torch.nn.Module whose parameters are all 2-D weights; gamma: float. Returns None.
    """
    for weight in model.parameters():
        n_out, n_in = weight.shape
        nn.init.normal_(weight, mean=0.0, std=gamma / math.sqrt(n_in + n_out))


@reference
def total_weight(model, in_dim):
    """The product of all weight matrices, last layer on the left: W_L ... W_2 W_1.

    model: torch.nn.Module whose parameters are its weights in forward order; in_dim: int.
    Returns an (out_dim, in_dim) tensor, detached from autograd.
    """
    w_tot = torch.eye(in_dim)
    for weight in model.parameters():
        w_tot = weight.detach() @ w_tot
    return w_tot


@reference
def net_svd(model, in_dim):
    """Singular value decomposition of the network's total weight W_tot = U diag(S) V^T.

    model: torch.nn.Module (weights in forward order); in_dim: int.
    Returns U: (out_dim, k), S: (k,) descending, V: (in_dim, k) tensors with k = min(out_dim, in_dim)
    (torch.svd's convention: V itself, not its transpose).
    """
    return torch.svd(total_weight(model, in_dim))


@reference
def net_rsm(h):
    """Representational similarity matrix of hidden activity h: (N, H) tensor -> (N, N) tensor h h^T."""
    return h @ h.T


@reference
def linear_regression(X, Y):
    """Least-squares linear map from inputs to targets: W = Y X^T (X X^T)^-1.

    X: (M, S) array, S samples of M inputs (X X^T invertible); Y: (N, S) array, the targets.
    Returns W: (N, M) array minimising ||Y - W X||^2.
    """
    if not (isinstance(X, np.ndarray) and isinstance(Y, np.ndarray)):
        raise TypeError("linear_regression expects numpy arrays")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must hold the same number of samples (columns), got {X.shape} and {Y.shape}")
    return Y @ X.T @ np.linalg.inv(X @ X.T)
