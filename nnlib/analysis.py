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


# ---- depth vs width: training, errors, layer trajectories --------------------------------------

from nnlib.reference import reference as _reference  # noqa: E402


def _progress(iterable, progressbar, **kwargs):
    if not progressbar:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


@_reference
def train_model(net, X, y, n_epochs, lr, progressbar=True):
    """Full-batch training of `net` on (X, y) with Adam (learning rate lr) and the mean squared error.

    net: torch module; X: (N, n_in) tensor; y: (N, 1) tensor; n_epochs: int; lr: float.
    Returns (n_epochs,) numpy array: entry n is the loss computed at the start of epoch n, before
    that epoch's update. Nothing but the step happens per epoch (losses are kept in a tensor).
    """
    import torch

    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    losses = torch.empty(n_epochs)
    for n in _progress(range(n_epochs), progressbar, desc="epochs"):
        loss = torch.nn.functional.mse_loss(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[n] = loss.detach()
    return losses.numpy().astype(float)


@_reference
def compute_loss(net, X, y):
    """Mean squared error of net(X) against y, as a Python float (no gradient is recorded)."""
    import torch

    with torch.no_grad():
        return float(torch.nn.functional.mse_loss(net(X), y))


def relative_error(net, X, y):
    """Mean squared error of net(X) against y divided by the variance of y (unbiased), float.

    0 is a perfect fit; 1 is as good as predicting the mean of y.
    """
    import torch

    with torch.no_grad():
        return float(torch.mean((net(X) - y) ** 2) / torch.var(y))


def hidden_activity(net, points):
    """The activity of every hidden layer of an nn.Sequential for the inputs `points`.

    net: nn.Sequential alternating Linear and activation modules (as make_MLP builds);
    points: (P, n_in) array or tensor. Returns a list of (P, W) numpy arrays, one per hidden layer,
    each the output of an activation module.
    """
    import torch

    h = torch.as_tensor(np.asarray(points), dtype=torch.float32)
    layers = []
    with torch.no_grad():
        for module in net:
            h = module(h)
            if not isinstance(module, torch.nn.Linear):
                layers.append(h.numpy().copy())
    return layers


def circle_trajectories(W=100, D=20, P=400, sigmas=(2.0, 0.4), seed=42):
    """Propagate P points of the unit circle through random deep tanh nets and project to 3-D.

    For each sigma a make_MLP(2, W, D) is initialised with weights N(0, sigma^2 / fan_in); every
    hidden layer's activity (P, W) is projected onto the same random (W, 3) Gaussian matrix.
    seed: numpy and torch seeds, set here (the global generators are restored afterwards).
    Returns a list, one per sigma, of (D - 1, P, 3) arrays.
    """
    import torch

    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    try:
        np.random.seed(seed)
        torch.manual_seed(seed)
        projection = np.random.normal(size=(W, 3))
        theta = np.linspace(0, 2 * np.pi, P)
        points = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        out = []
        for sigma in sigmas:
            net = models.make_MLP(2, W, D)
            with torch.no_grad():
                for param in net.parameters():
                    param.normal_(0.0, sigma / np.sqrt(param.shape[1]))
            out.append(np.stack([layer @ projection for layer in hidden_activity(net, points)]))
        return out
    finally:
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
