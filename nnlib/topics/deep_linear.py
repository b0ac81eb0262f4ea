"""Assignment 2 (`a2_deep_linear`): what its notebook shows around the exercises.

The hierarchically structured data (items of a tree and their features), the deep linear nets'
training runs with their learning dynamics (singular values, similarity matrices, illusory
correlations), the figures and the demos.
"""

import contextlib
import math

from matplotlib import colors as _colors
from matplotlib import gridspec as _gridspec
import matplotlib.pyplot as plt
from mpl_toolkits.axes_grid1 import make_axes_locatable
import numpy as np
import torch
from torch import nn
import ipywidgets as w

from nnlib import models, plots, widgets


# Data -----------------------------------------------------------------------------------------


ITEM_NAMES = ["Goldfish", "Tuna", "Robin", "Canary", "Rose", "Daisy", "Pine", "Oak"]


def build_tree(n_levels, n_branches, probability, to_np_array=True):
    """A complete tree for the branching diffusion process, stored as parallel per-node lists.

    n_levels: int depth (the root is level 0); n_branches: int children per node;
    probability: float in [0, 1], the chance that a node flips the sign it passes down.
    Nodes are numbered breadth first. Returns a dict with
      "level":  (n_nodes,) level of each node,
      "pflip":  (n_nodes,) flip probability of each node,
      "parent": (n_nodes,) index of each node's parent (None for the root),
    as numpy arrays when to_np_array, else lists.
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"build_tree: probability must lie in [0, 1], got {probability!r}")
    level = [0]
    for depth in range(1, n_levels + 1):
        level += [depth] * n_branches ** depth
    parent = [None] + [j for j in range((len(level) - 1) // n_branches) for _ in range(n_branches)]
    tree = {"level": level, "pflip": [probability] * len(level), "parent": parent}
    if to_np_array:
        tree = {key: np.array(value) for key, value in tree.items()}
    return tree


def sample_from_tree(tree, n):
    """Draw n features by diffusing random signs from the root down to the leaves.

    Every node draws +1 (probability 1 - pflip) or -1 (numpy's global RNG: one
    np.random.rand(n, n_nodes) call); a leaf's value is the product of the draws on its path
    from the root. tree: dict from build_tree; n: int.
    Returns x: (n, n_leaves) float array of +-1, one column per leaf (item).
    """
    level = np.asarray(tree["level"])
    pflip = np.asarray(tree["pflip"], dtype=float)
    leaves = np.flatnonzero(level == level.max())
    draws = (np.random.rand(n, len(pflip)) > pflip[None, :]) * 2 - 1
    x = np.zeros((n, len(leaves)))
    for column, node in enumerate(leaves):
        value = draws[:, node].copy()
        while tree["parent"][node] is not None:
            node = tree["parent"][node]
            value = value * draws[:, node]
        x[:, column] = value
    return x


def generate_hsd(n_levels=3, n_branches=2, probability=0.15, root_probability=0.5, n_samples=10000):
    """Hierarchically structured data: one-hot items and their features sampled from the tree.

    Defaults are the course's: 3 levels, 2 branches, flip probability 0.15, root flip 0.5
    (so every feature is equally often +1 or -1 overall), 10,000 features. Uses numpy's global RNG.
    Returns tree_labels: (n_items, n_items) identity (one row per item, n_items = 8),
            tree_features: (n_items, n_samples) float array of +-1.
    """
    tree = build_tree(n_levels, n_branches, probability, to_np_array=True)
    tree["pflip"] = tree["pflip"].astype(float)
    tree["pflip"][0] = root_probability
    tree_labels = np.eye(n_branches ** n_levels)
    tree_features = sample_from_tree(tree, n_samples).T
    return tree_labels, tree_features


def add_feature(existing_features, new_feature):
    """Append one feature (a column) to the item-by-feature array.

    existing_features: (n_items, F) array; new_feature: sequence of n_items values.
    Returns a new (n_items, F + 1) array; the input is left unchanged.
    """
    existing_features = np.asarray(existing_features)
    column = np.asarray(new_feature, dtype=existing_features.dtype).reshape(-1, 1)
    if column.shape[0] != existing_features.shape[0]:
        raise ValueError(f"add_feature: the new feature has {column.shape[0]} values, "
                         f"one per item ({existing_features.shape[0]}) is needed")
    return np.hstack((existing_features, column))


# Measurements and training runs ---------------------------------------------------------------


class LNNet(nn.Module):
    """Linear net with one hidden layer and no biases: hid = W1 x, out = W2 hid.

    in_dim, hid_dim, out_dim: ints. forward(x: (N, in_dim) tensor) -> (out: (N, out_dim),
    hid: (N, hid_dim)); the hidden activity is returned for representational similarity.
    model.parameters() yields W1 (hid_dim, in_dim), then W2 (out_dim, hid_dim).
    """

    def __init__(self, in_dim, hid_dim, out_dim):
        super().__init__()
        self.in_hid = nn.Linear(in_dim, hid_dim, bias=False)
        self.hid_out = nn.Linear(hid_dim, out_dim, bias=False)

    def forward(self, x):
        hid = self.in_hid(x)
        out = self.hid_out(hid)
        return out, hid


class LRNet(nn.Module):
    """Linear net with no hidden layer and no bias: out = W x (linear regression as a net).

    forward(x: (N, in_dim) tensor) -> (N, out_dim) tensor.
    """

    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.in_out = nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, x):
        return self.in_out(x)


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
                # the net's response to each unit input is a column of its total weight
                modes[i] = torch.linalg.svdvals(model(torch.eye(in_dim))[0].T).numpy()
                rsms[i] = (hiddens @ hiddens.T).numpy()
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
    model = LNNet(inputs.size(1), hidden, targets.size(1))
    # N(0, (gamma / sqrt(n_in + n_out))^2), the course's small start
    models.normal_weights_(model, lambda fan_in, fan_out: gamma / math.sqrt(fan_out + fan_in))
    return model, train_lnnet(model, inputs, targets, n_epochs, lr, illusory_i, progressbar)


def train_lrnet(labels, features, lr=1000.0, n_epochs=250):
    """Train a zero-hidden-layer LRNet by full-batch SGD on the mean squared error.

    Returns the trained weight (out_dim, in_dim) numpy array and the (n_epochs,) losses.
    """
    inputs = torch.as_tensor(labels).float()
    targets = torch.as_tensor(features).float()
    model = LRNet(inputs.size(1), targets.size(1))
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


# Figures --------------------------------------------------------------------------------------


# Ten named features that follow the tree exactly (for the picture only; +1 = yes).
EXAMPLE_FEATURES = {
    "can_grow":       [1, 1, 1, 1, 1, 1, 1, 1],
    "is_mammal":      [0, 0, 0, 0, 0, 0, 0, 0],
    "has_leaves":     [0, 0, 0, 0, 1, 1, 1, 1],
    "can_move":       [1, 1, 1, 1, 0, 0, 0, 0],
    "has_trunk":      [0, 0, 0, 0, 0, 0, 1, 1],
    "can_fly":        [0, 0, 1, 1, 0, 0, 0, 0],
    "can_swim":       [1, 1, 0, 0, 0, 0, 0, 0],
    "has_stem":       [0, 0, 0, 0, 1, 1, 0, 0],
    "is_warmblooded": [0, 1, 1, 1, 0, 0, 0, 0],
    "can_flower":     [0, 0, 0, 0, 1, 1, 0, 1],
}


_YES_NO = _colors.ListedColormap(["cyan", "magenta"])


def plot_tree_data(item_names=None, feature_array=None, new_feature=None, n_features=10):
    """The one-hot items beside their features.

    item_names: 8 strings (default ITEM_NAMES). feature_array: None for ten named example
    features, or an (8, F) array of +-1 whose LAST n_features columns are shown, the last one
    labelled `new_feature` (str).
    """
    item_names = list(ITEM_NAMES if item_names is None else item_names)
    n_items = len(item_names)
    if feature_array is None:
        shown = np.array(list(EXAMPLE_FEATURES.values())).T * 2 - 1
        ticks, tick_labels = np.arange(shown.shape[1]), list(EXAMPLE_FEATURES)
        title = "Features (examples)"
    else:
        shown = np.asarray(feature_array)[:, -n_features:]
        ticks, tick_labels = [shown.shape[1] - 1], [new_feature]
        title = f"Last {shown.shape[1]} features"
    fig = plt.figure(figsize=(12, 6))
    grid = _gridspec.GridSpec(1, 2, width_ratios=[1, 1.35])
    ax_items, ax_features = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    ax_items.imshow(np.eye(n_items), cmap=_YES_NO)
    ax_items.set_title("Items (one-hot inputs)")
    ax_items.set_xticks(np.arange(n_items), item_names, rotation="vertical")
    ax_items.set_yticks(np.arange(n_items), item_names)
    image = ax_features.imshow(shown, cmap=_YES_NO, vmin=-1.0, vmax=1.0)
    cax = make_axes_locatable(ax_features).append_axes("right", size="5%", pad=0.1)
    colorbar = fig.colorbar(image, cax=cax, ticks=[-0.5, 0.5])
    colorbar.ax.set_yticklabels(["no", "yes"])
    ax_features.set_title(title)
    ax_features.set_yticks(np.arange(n_items), item_names)
    ax_features.set_xticks(ticks, tick_labels, rotation="vertical")


def _modes_axis(ax, sv_array, label="Singular values (modes)"):
    """Singular values, scaled by their maximum, on a twin y axis of `ax` (blue)."""
    sv_array = np.asarray(sv_array)
    scaled = sv_array / max(np.max(sv_array), 1e-300)
    twin = ax.twinx()
    cmap = plt.get_cmap("winter", scaled.shape[1])
    for i in range(scaled.shape[1]):
        twin.plot(scaled[:, i], c=cmap(i))
    twin.set_ylabel(label, c="b")
    twin.tick_params(axis="y", labelcolor="b")
    return twin


def plot_loss_sv_twin(loss_array, sv_array):
    """Loss per epoch (red, left axis) and the singular values of the total weight (blue, right).

    loss_array: (T,); sv_array: (T, k), shown scaled by its maximum.
    """
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.plot(loss_array, color="r")
    ax.set(title="Learning dynamics", xlabel="Epoch")
    ax.set_ylabel("Mean squared error", c="r")
    ax.tick_params(axis="y", labelcolor="r")
    _modes_axis(ax, sv_array)


def plot_loss_sv_rsm(loss_array, sv_array, rsm_array, i_ep, item_names=None):
    """Learning curve and modes with epoch `i_ep` marked, beside the RSM at that epoch.

    loss_array: (T,); sv_array: (T, k); rsm_array: (T, N, N), shown scaled by its maximum;
    i_ep: int in [0, T); item_names: N strings (default ITEM_NAMES).
    """
    item_names = list(ITEM_NAMES if item_names is None else item_names)
    rsm_array = np.asarray(rsm_array)
    n_ep = len(loss_array)
    i_ep = int(np.clip(i_ep, 0, n_ep - 1))
    fig = plt.figure(figsize=(14, 5))
    grid = _gridspec.GridSpec(1, 2, width_ratios=[5, 3])
    ax_rsm = fig.add_subplot(grid[1])
    image = ax_rsm.imshow(rsm_array[i_ep] / max(np.max(rsm_array), 1e-300), cmap="Purples", vmin=0.0, vmax=1.0)
    cax = make_axes_locatable(ax_rsm).append_axes("right", size="5%", pad=0.9)
    fig.colorbar(image, cax=cax, ticks=[]).ax.set_ylabel("Similarity", fontsize=12)
    ax_rsm.yaxis.tick_right()
    ax_rsm.set_title(f"RSM at epoch {i_ep}", fontsize=16)
    ax_rsm.set_xticks(np.arange(len(item_names)), item_names, rotation="vertical")
    ax_rsm.set_yticks(np.arange(len(item_names)), item_names)
    ax = fig.add_subplot(grid[0])
    ax.plot(np.arange(n_ep), loss_array, color="r")
    ax.axvspan(i_ep - 2, i_ep + 2, alpha=0.2, color="m")
    ax.set_title("Learning dynamics", fontsize=16)
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Mean squared error", c="r")
    ax.tick_params(axis="y", labelcolor="r", direction="in")
    twin = _modes_axis(ax, sv_array, "Singular values")
    ax.set_xlim(-1, n_ep + 1)
    twin.set_xlim(-1, n_ep + 1)
    plots.show()


def plot_ills_sv_twin(ill_array, sv_array, ill_label):
    """The prediction for one item's new feature per epoch (red) beside the modes (blue).

    ill_array: (T,); sv_array: (T, k); ill_label: str for the red axis.
    """
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.plot(ill_array, color="r", linewidth=3)
    ax.axhline(0.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set(title="Training and the illusory correlation", xlabel="Epoch", ylim=(-1.05, 1.05))
    ax.set_ylabel(ill_label, c="r")
    ax.tick_params(axis="y", labelcolor="r")
    _modes_axis(ax, sv_array)


# Demos ----------------------------------------------------------------------------------------


def _log_gamma_slider(value=1e-12):
    return w.FloatLogSlider(min=-15, max=1, step=1, value=value, base=10, continuous_update=False,
                            description="gamma")


def loss_lr_gamma_widget(labels, features, n_epochs=250, hidden=30):
    """Sliders for the learning rate (1-200) and the initial scale gamma (1e-15 - 10): the loss curve.

    labels: (8, 8) and features: (8, F) arrays of the tree data. Draws once with lr 100, gamma 1e-12.
    """
    def show(lr, gamma):
        _, (losses, *_rest) = train_hsd(labels, features, lr, gamma, n_epochs, hidden)
        plots.plot_loss(losses, title=f"Training loss, $\\eta$ = {lr:g}, $\\gamma$ = {gamma:g}")
    return widgets.demo(show,
                        lr=w.FloatSlider(min=1.0, max=200.0, step=1.0, value=100.0, continuous_update=False,
                                         readout_format=".1f", description="eta"),
                        gamma=_log_gamma_slider())


def rsm_widget(labels, features, item_names=None, n_epochs=250, hidden=30, records=None):
    """Learning rate, gamma and an epoch slider: learning curve, modes and the RSM at that epoch.

    A run is trained only when the learning rate or gamma change; moving the epoch slider redraws
    from the stored records. records: optional (losses, modes, rsms, illusions) of a run already
    made with the defaults (lr 100, gamma 1e-12), drawn first instead of training again.
    Draws once with lr 100, gamma 1e-12, epoch 61.
    """
    lr = w.FloatSlider(min=20.0, max=200.0, step=1.0, value=100.0, continuous_update=False,
                       readout_format=".1f", description="eta")
    gamma = _log_gamma_slider()
    epoch = w.IntSlider(min=0, max=n_epochs - 1, step=1, value=61, continuous_update=False,
                        description="Epoch", layout=w.Layout(width="630px"))
    cache = {} if records is None else {(lr.value, gamma.value): records}

    def show(lr, gamma, i_ep):
        key = (lr, gamma)
        if key not in cache:
            cache.clear()
            cache[key] = train_hsd(labels, features, lr, gamma, n_epochs, hidden)[1]
        losses, modes, rsms, _ = cache[key]
        plot_loss_sv_rsm(losses, modes, rsms, i_ep, item_names)

    return widgets.demo(show, lr=lr, gamma=gamma, i_ep=epoch)
