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


# ---- deep linear networks -------------------------------------------------------------------

import contextlib  # noqa: E402

import torch  # noqa: E402


@contextlib.contextmanager
def single_thread():
    """Run torch on one thread inside the block (restored after).

    The deep linear nets here multiply matrices of at most 10,000 x 30: too small for threads to
    pay off, and on a busy machine the threads' synchronisation makes each step many times slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_lnnet(model, inputs, targets, n_epochs, lr, illusory_i=0, progressbar=True):
    """Full-batch SGD on the mean squared error, recording the learning dynamics every epoch.

    model: LNNet (forward returns (out, hid)); inputs: (N, in_dim) tensor; targets: (N, out_dim)
    tensor; n_epochs: int; lr: float; illusory_i: int, the item whose prediction for the LAST
    feature is recorded. After each step it records
      losses:    (n_epochs,) loss of the step,
      modes:     (n_epochs, k) singular values of the total weight after the step (k = min(in, out)),
      rsms:      (n_epochs, N, N) representational similarity matrices of the hidden activity,
      illusions: (n_epochs,) the prediction out[illusory_i, -1] of the step.
    Only these are kept: the full (N, out_dim) predictions are not copied each epoch.
    Returns losses, modes, rsms, illusions (numpy arrays).
    """
    from tqdm.auto import trange

    in_dim = inputs.size(1)
    n_items = inputs.size(0)
    losses = np.zeros(n_epochs)
    modes = np.zeros((n_epochs, min(in_dim, targets.size(1))))
    rsms = np.zeros((n_epochs, n_items, n_items))
    illusions = np.zeros(n_epochs)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = torch.nn.MSELoss()
    with single_thread():
        for i in trange(n_epochs, disable=not progressbar, desc="training", leave=False):
            optimizer.zero_grad()
            predictions, hiddens = model(inputs)
            loss = criterion(predictions, targets)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                modes[i] = torch.linalg.svdvals(models.total_weight(model, in_dim)).numpy()
                rsms[i] = models.net_rsm(hiddens.detach()).numpy()
                illusions[i] = predictions[illusory_i, -1].item()
            losses[i] = loss.item()
    return losses, modes, rsms, illusions


def train_hsd(labels, features, lr=100.0, gamma=1e-12, n_epochs=250, hidden=30, illusory_i=0,
              progressbar=True):
    """A fresh LNNet (hidden units `hidden`) initialised with `gamma` and trained on the tree data.

    labels: (N, in_dim) and features: (N, out_dim) numpy arrays or tensors. Uses torch's global RNG.
    Returns model, (losses, modes, rsms, illusions) as from train_lnnet.
    """
    inputs = torch.as_tensor(labels).float()
    targets = torch.as_tensor(features).float()
    model = models.LNNet(inputs.size(1), hidden, targets.size(1))
    models.initializer_(model, gamma)
    return model, train_lnnet(model, inputs, targets, n_epochs, lr, illusory_i, progressbar)


def train_lrnet(labels, features, lr=1000.0, n_epochs=250):
    """Train a zero-hidden-layer LRNet by full-batch SGD on the mean squared error.

    Returns the trained weight (out_dim, in_dim) numpy array and the (n_epochs,) losses.
    """
    inputs = torch.as_tensor(labels).float()
    targets = torch.as_tensor(features).float()
    model = models.LRNet(inputs.size(1), targets.size(1))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = torch.nn.MSELoss()
    losses = np.zeros(n_epochs)
    with single_thread():
        for i in range(n_epochs):
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            loss.backward()
            optimizer.step()
            losses[i] = loss.item()
    return model.in_out.weight.detach().numpy().copy(), losses
