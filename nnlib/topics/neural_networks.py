"""Assignment 5 (`a5_neural_networks`): what its notebook shows around the exercises.

Gradients and activations through deep stacks at initialization, optimizers on the lecture's toy
surface (Beale's function), the digits split and the loops early stopping is given, drawings of
dense networks, the figures and the dense-net demo.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from nnlib import data, models, plots, widgets


# Measurements and training runs ---------------------------------------------------------------


def backprop_gradient_norms(activation, activation_derivative, depth=20, width=100, n_samples=200,
                            seed=0, init_std=None):
    """How the gradient shrinks or grows on its way back through a deep dense network.

    A numpy network of `depth` square layers (width x width, no biases) with weights
    N(0, init_std^2) (default 1/sqrt(width)) takes standard-normal inputs, a = f(a W) per layer;
    a gradient of ones at the top is backpropagated: delta_(l-1) = (f'(z_l) * delta_l) W_l^T.
    activation, activation_derivative: f(z) and f'(z) for an array z (numpy, element-wise).
    Returns (depth,) array: the mean absolute gradient reaching each layer's input,
    index 0 = the network's input, depth - 1 = the input of the last layer.
    """
    r = np.random.default_rng(seed)
    std = 1.0 / np.sqrt(width) if init_std is None else init_std
    weights = [r.normal(scale=std, size=(width, width)) for _ in range(depth)]
    a = r.normal(size=(n_samples, width))
    zs = []
    for W in weights:
        z = a @ W
        zs.append(z)
        a = np.asarray(activation(z), dtype=float)
    delta = np.ones_like(a)
    norms = np.empty(depth)
    for i in reversed(range(depth)):
        delta = (np.asarray(activation_derivative(zs[i]), dtype=float) * delta) @ weights[i].T
        norms[i] = np.mean(np.abs(delta))
    return norms


def activation_statistics(init, activation="tanh", depth=10, width=128, n_samples=256, seed=0):
    """Mean and std of the activations of each hidden layer of a deep dense stack at initialization.

    init: function that initializes a torch model in place (the notebook's he_normal_, say) or None for
    torch's default; activation: 'tanh' or 'relu'. The stack has `depth` layers of `width` units
    and takes standard-normal inputs. Returns (depth, 2) array of (mean, std) per layer.
    """
    torch.manual_seed(seed)
    net = models.dense_network([width] * (depth + 1) + [1], activation=activation)
    if init is not None:
        init(net)
    x = torch.randn(n_samples, width)
    stats = []
    with torch.no_grad():
        for module in net:
            x = module(x)
            if isinstance(module, (torch.nn.ReLU, torch.nn.Tanh)):
                stats.append((x.mean().item(), x.std().item()))
    return np.array(stats[:depth])


def beale(x, y):
    """The lecture's toy surface (Beale's function); minimum 0 at (3, 0.5). Works on numbers,
    numpy arrays and torch tensors."""
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def lecture_optimizers():
    """{name: (torch.optim class, keyword arguments)} of the lecture's optimizer comparison."""
    return {
        "sgd": (torch.optim.SGD, {"lr": 0.01}),
        "momentum": (torch.optim.SGD, {"lr": 0.005, "momentum": 0.9}),
        "nesterov": (torch.optim.SGD, {"lr": 0.005, "momentum": 0.9, "nesterov": True}),
        "adagrad": (torch.optim.Adagrad, {"lr": 0.4}),
        "rmsprop": (torch.optim.RMSprop, {"lr": 0.1, "alpha": 0.9}),
        "adam": (torch.optim.Adam, {"lr": 0.2, "betas": (0.9, 0.999), "eps": 1e-8}),
    }


def optimizer_path(make_optimizer, start=(0.8, 1.6), n_steps=100, surface=beale):
    """Points visited by a torch optimizer minimizing `surface` from `start`.

    make_optimizer: function [tensor] -> torch.optim.Optimizer. Returns (n_steps + 1, 2) array.
    """
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([w])
    path = [w.detach().numpy().copy()]
    for _ in range(n_steps):
        opt.zero_grad()
        surface(w[0], w[1]).backward()
        opt.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


def update_path(update, state_count=2, start=(0.8, 1.6), n_steps=100, surface=beale, **hyper):
    """Points visited by a hand-written update function (nnlib.optim interface) on `surface`.

    update(loss, params, *state, step, **hyper) is called with `state_count` state lists and the
    1-based step number. Returns (n_steps + 1, 2) array.
    """
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    state = [[torch.zeros_like(w)] for _ in range(state_count)]
    path = [w.detach().numpy().copy()]
    for step in range(1, n_steps + 1):
        update(surface(w[0], w[1]), [w], *state, step, **hyper)
        path.append(w.detach().numpy().copy())
    return np.array(path)


def digits_split(n_train=None, val_fraction=0.25, seed=0):
    """The offline digits, split into training, validation and test tensors.

    n_train: keep only this many training images (None: all); val_fraction: share of the
    training images held out for validation. Returns X_train, y_train, X_val, y_val, X_test, y_test.
    """
    X, y, X_test, y_test = data.load_digits(seed=seed)
    n_val = int(round(val_fraction * len(y)))
    X_val, y_val, X, y = X[:n_val], y[:n_val], X[n_val:], y[n_val:]
    if n_train is not None:
        X, y = X[:n_train], y[:n_train]
    return X, y, X_val, y_val, X_test, y_test


def epoch_trainer(X, y, optimizer, batch_size=32, seed=0):
    """train_epoch(model) for fit_early_stopping: one shuffled pass of mini-batch training with
    cross-entropy. optimizer: a torch optimizer over the model's parameters."""
    gen = torch.Generator().manual_seed(seed)

    def train_epoch(model):
        model.train()
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for i in range(0, len(y), batch_size):
            idx = order[i:i + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        return total / len(y)
    return train_epoch


def evaluator(X, y):
    """validation_loss(model) for fit_early_stopping: cross-entropy on (X, y) in eval mode."""
    def validation_loss(model):
        model.eval()
        with torch.no_grad():
            return F.cross_entropy(model(X), y).item()
    return validation_loss


def accuracy(model, X, y):
    """Share of correctly classified rows of X (eval mode). -> float"""
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


# Figures --------------------------------------------------------------------------------------


_NODE_COLOURS = ("greenyellow", "cornflowerblue", "lightcoral")


def draw_neural_net(layer_sizes, ax=None, draw_bias=False, labels=False, weight_count=False,
                    random_weights=False, seed=None, show=True):
    """Draw a dense network: one column of nodes per layer, every node linked to the next layer.

    layer_sizes: ints, nodes per layer from input to output; draw_bias: add a node '1' on top of
    every non-output layer, linked to the next layer (its links are the biases); labels: name
    the nodes (x_i, h_i, o_i); weight_count: write the counts under the figure;
    random_weights: colour each link with a random weight (blue negative, red positive) drawn
    from a numpy Generator seeded with `seed`.
    The counts come from the drawn links themselves: links from real nodes are weights, links
    from bias nodes are biases.
    Returns (n_weights, n_biases): ints.
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"draw_neural_net needs at least two layers of at least one node, got {sizes}")
    own_figure = ax is None
    if own_figure:
        _, ax = plt.subplots(figsize=(1.4 * len(sizes) + 1, 0.45 * (max(sizes) + draw_bias) + 1.2))
    r = np.random.default_rng(seed)
    columns = []  # per layer: list of (y, is_bias)
    tallest = max(sizes) + (1 if draw_bias else 0)
    for i, n in enumerate(sizes):
        bias = draw_bias and i < len(sizes) - 1
        count = n + (1 if bias else 0)
        ys = [(count - 1) / 2 - k for k in range(count)]
        columns.append([(y, bias and k == 0) for k, y in enumerate(ys)])
    n_weights = n_biases = 0
    for i in range(len(sizes) - 1):
        for ya, a_is_bias in columns[i]:
            for yb, b_is_bias in columns[i + 1]:
                if b_is_bias:
                    continue
                if a_is_bias:
                    n_biases += 1
                else:
                    n_weights += 1
                colour = plt.cm.bwr(r.random()) if random_weights else "k"
                ax.plot([i, i + 1], [ya, yb], c=colour, alpha=0.6 if random_weights else 0.35,
                        lw=1.2 if random_weights else 0.8, zorder=1,
                        ls=":" if a_is_bias else "-")
    for i, column in enumerate(columns):
        colour = _NODE_COLOURS[0 if i == 0 else 2 if i == len(sizes) - 1 else 1]
        k = 0
        for y, is_bias in column:
            ax.add_patch(plt.Circle((i, y), 0.22, facecolor="white" if is_bias else colour,
                                    edgecolor="k", zorder=3))
            if is_bias:
                ax.text(i, y, "1", ha="center", va="center", zorder=4, fontsize=9)
            elif labels:
                name = "x" if i == 0 else "o" if i == len(sizes) - 1 else "h"
                ax.text(i, y, f"${name}_{{{k}}}$", ha="center", va="center", zorder=4, fontsize=9)
                k += 1
    if not draw_bias:
        n_biases = sum(sizes[1:])  # the biases are there even when they are not drawn
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-tallest / 2 - 0.3, tallest / 2 + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if weight_count:
        ax.set_title(f"{n_weights} weights, {n_biases} biases", fontsize=10)
    if own_figure and show:
        plots.show()
    return n_weights, n_biases


def plot_activations(functions, z=np.linspace(-6, 6, 241)):
    """Each activation function (blue) with its derivative (red), one panel per function.

    functions: {name: (f, f_prime)} of numpy element-wise functions.
    """
    fig, axes = plt.subplots(1, len(functions), figsize=(3.2 * len(functions), 2.6), squeeze=False)
    for ax, (name, (f, df)) in zip(axes[0], functions.items()):
        ax.plot(z, f(z), c="b", lw=2, label="f(z)")
        ax.plot(z, df(z), c="r", lw=2, label="f'(z)")
        ax.set(title=name, xlabel="z")
        ax.grid(alpha=0.3)
    axes[0][0].legend(loc="upper left")


def plot_gradient_norms(norms):
    """Mean absolute gradient per layer (log scale), one curve per activation.

    norms: {name: (depth,) array}, index 0 = the input layer.
    """
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, values in norms.items():
        ax.plot(np.arange(len(values)), values, marker="o", ms=3, label=name)
    ax.set_yscale("log")
    ax.set(xlabel="layer (0 = input)", ylabel="mean |gradient|",
           title="Gradient reaching each layer, backpropagated from the top")
    ax.legend()
    ax.grid(alpha=0.3)
    plots.show()


def _grid_predict(predict, X, steps=80):
    x0, x1 = X[:, 0], X[:, 1]
    g0, g1 = np.meshgrid(np.linspace(x0.min() - 0.5, x0.max() + 0.5, steps),
                         np.linspace(x1.min() - 0.5, x1.max() + 0.5, steps))
    return g0, g1, predict(np.c_[g0.ravel(), g1.ravel()]).reshape(g0.shape)


@plots.illustration
def plot_decision_boundaries(hidden_layers=(1, 2, 3), width=10, seed=0):
    """Decision regions of ReLU and tanh networks with 1, 2, 3 hidden layers on two moons.

    scikit-learn MLPClassifier (lbfgs) with `width` units per hidden layer, trained on 75 of
    100 noisy moons (noise 0.25), test accuracy in the titles.
    """
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y = make_moons(n_samples=100, noise=0.25, random_state=3)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, stratify=y, random_state=42)
    acts = ("relu", "tanh")
    fig, axes = plt.subplots(len(acts), len(hidden_layers),
                             figsize=(3.3 * len(hidden_layers), 3.0 * len(acts)), squeeze=False)
    for row, act in enumerate(acts):
        for col, depth in enumerate(hidden_layers):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                mlp = MLPClassifier(hidden_layer_sizes=[width] * depth, activation=act, solver="lbfgs",
                                    max_iter=300, random_state=seed).fit(X_tr, y_tr)
            g0, g1, p = _grid_predict(lambda q: mlp.predict_proba(q)[:, 1], X)
            ax = axes[row][col]
            ax.contourf(g0, g1, p, levels=20, cmap="bwr", alpha=0.3)
            ax.contour(g0, g1, p, levels=[0.5], colors="k", linewidths=1)
            ax.scatter(X_tr[:, 0], X_tr[:, 1], c=y_tr, cmap="bwr", s=12, edgecolors="k", linewidths=0.3)
            ax.set_title(f"{act}, {depth} hidden: test acc {mlp.score(X_te, y_te):.2f}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])


def plot_activation_statistics(stats):
    """Std of the activations per layer for each initialization (one panel per activation).

    stats: {activation: {init name: (depth, 2) array of (mean, std)}}.
    """
    fig, axes = plt.subplots(1, len(stats), figsize=(5 * len(stats), 3.3), squeeze=False)
    for ax, (act, by_init) in zip(axes[0], stats.items()):
        for name, values in by_init.items():
            ax.plot(np.arange(1, len(values) + 1), np.maximum(values[:, 1], 1e-12), marker="o", ms=3, label=name)
        ax.set_yscale("log")
        ax.set(title=f"{act} stack", xlabel="hidden layer", ylabel="std of activations")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    plots.show()


def plot_optimizer_paths(paths, surface=None, minimum=(3.0, 0.5)):
    """Trajectories of optimizers on a 2-D surface, over its log-scaled contours.

    paths: {name: (T, 2) array}; surface: f(x, y) on numpy grids (default beale).
    Paths whose name starts with 'your' are drawn as black dashed lines on top of the others.
    """
    from matplotlib.colors import LogNorm

    surface = beale if surface is None else surface
    xs, ys = np.meshgrid(np.linspace(-2, 3.5, 120), np.linspace(-3.5, 2, 120))
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.contour(xs, ys, surface(xs, ys), levels=np.logspace(-0.5, 5, 25), norm=LogNorm(),
               cmap="jet", linewidths=0.6, zorder=-1)
    ax.plot(*minimum, "r*", ms=14)
    colours = plt.cm.tab10(np.arange(len(paths)) % 10)
    for (name, p), colour in zip(paths.items(), colours):
        p = np.asarray(p)
        inside = np.all(np.isfinite(p), axis=1) & (np.abs(p) < 1e3).all(axis=1)
        p = p[inside]
        if name.startswith("your"):  # a hand-written update drawn on top of its torch counterpart
            ax.plot(p[:, 0], p[:, 1], "--", c="k", lw=1.2, label=name, zorder=5)
        else:
            ax.plot(p[:, 0], p[:, 1], "-o", c=colour, ms=2, lw=1.5, label=name)
    ax.set(xlim=(-2, 3.5), ylim=(-3.5, 2), xlabel="x", ylabel="y",
           title="100 steps from (0.8, 1.6); star: the minimum")
    ax.legend(loc="lower left")
    plots.show()


def plot_validation_curves(histories):
    """Training (dashed) and validation (solid) loss per epoch for several runs, best epoch marked.

    histories: {name: history} as returned by an early-stopping training loop
    ({"train_loss": [...], "val_loss": [...], "best_epoch": int}).
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    colours = plt.cm.tab10(np.arange(len(histories)) % 10)
    for (name, h), colour in zip(histories.items(), colours):
        epochs = np.arange(1, len(h["val_loss"]) + 1)
        ax.plot(epochs, h["train_loss"], ls="--", c=colour, lw=1)
        ax.plot(epochs, h["val_loss"], c=colour, lw=2, label=f"{name} (best epoch {h['best_epoch'] + 1})")
        ax.scatter([h["best_epoch"] + 1], [h["val_loss"][h["best_epoch"]]], c=[colour], s=50, zorder=5)
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="cross-entropy", title="dashed: training loss, solid: validation loss")
    ax.legend()
    ax.grid(alpha=0.3)
    plots.show()


# Demos ----------------------------------------------------------------------------------------


def dense_net_widget():
    """Sliders over the number of hidden layers (0-6) and nodes per layer (1-12): draws a dense
    net with 5 inputs and 5 outputs and its weight and bias counts."""
    def show(hidden_layers, nodes):
        draw_neural_net([5] + [nodes] * hidden_layers + [5], weight_count=True)
    return widgets.demo(show, hidden_layers=widgets.slider("int", "hidden layers", min=0, max=6, value=2),
                        nodes=widgets.slider("int", "nodes", min=1, max=12, value=6))
