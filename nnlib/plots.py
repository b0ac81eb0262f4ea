"""Figures used by the notebooks. Each function draws one figure and shows it."""

from matplotlib import gridspec as _gridspec
from matplotlib import colors as _colors
import matplotlib.pyplot as plt
from mpl_toolkits.axes_grid1 import make_axes_locatable
import numpy as np

from nnlib import analysis, arrays, data


_figure_sink = None


def _show():
    """Show the figures drawn so far: plt.show(), or pass them to the demo that is collecting them."""
    if _figure_sink is None:
        plt.show()
        return
    for number in plt.get_fignums():
        figure = plt.figure(number)
        _figure_sink(figure)
        plt.close(figure)


LANDSCAPE_GRID = np.mgrid[-1.9:2.0:0.2, -1.9:2.0:0.2]
DEFAULT_INITS = ([0.5, -0.5], [0.55, -0.45], [-1.8, 1.7])


def plot_x_y_(x_t_, y_t_, x_ev_, y_ev_, loss_log_, weight_log_):
    """Training data with the fitted line, the loss per epoch and the weights per epoch.

    x_t_, y_t_: (N,) training data; x_ev_, y_ev_: (M,) evaluation inputs and predictions;
    loss_log_: (T,) losses; weight_log_: (T, 2) weights.
    """
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    axes[0].scatter(x_t_, y_t_, c="r", label="training data")
    axes[0].plot(x_ev_, y_ev_, c="b", label="test results", linewidth=2)
    axes[0].set(xlabel="x", ylabel="y")
    axes[0].legend()
    axes[1].plot(loss_log_, c="r")
    axes[1].set(xlabel="epochs", ylabel="mean squared error")
    axes[2].plot(weight_log_)
    axes[2].set(xlabel="epochs", ylabel="weights")
    fig.tight_layout()
    _show()


def _trajectory(ax, init_weights, x, y, lr, n_epochs):
    """Scatter the weight trajectory of gradient descent from `init_weights` on `ax`."""
    _, records = analysis.shallow_descent(init_weights, x, y, lr, n_epochs)
    ax.scatter(records[:, 0], records[:, 1], c=np.arange(len(records)), cmap="Greys")
    ax.scatter(*records[0], c="blue", zorder=9)
    ax.scatter(*records[-1], c="red", marker="X", s=100, zorder=9)


def plot_vector_field(what="all", init_weights=None):
    """Gradient field, loss contours and gradient-descent trajectories of the shallow net on y = x.

    what: 'all', 'vectors', 'trajectory' or 'loss'; init_weights: [w1, w2] or None for three
    default starts. The grid is evaluated in one vectorized pass (analysis.shallow_landscape).
    """
    if what not in ("all", "vectors", "trajectory", "loss"):
        raise ValueError(f"plot_vector_field: what must be 'all', 'vectors', 'trajectory' or 'loss', got {what!r}")
    x, y = data.gen_samples(10, 1.0, 0.0)
    ww1, ww2 = LANDSCAPE_GRID
    loss, dw1, dw2 = analysis.shallow_landscape(ww1, ww2, x, y)
    fig, ax = plt.subplots(figsize=(8, 7))
    if what in ("all", "vectors"):
        norm = np.sqrt(dw1 ** 2 + dw2 ** 2)
        unit = np.where(norm > 0, norm, 1.0)
        ax.quiver(ww1, ww2, -dw1 / unit, -dw2 / unit, norm, cmap="plasma",
                  scale=30, width=0.004)
    if what in ("all", "trajectory"):
        starts = DEFAULT_INITS if init_weights is None else [init_weights]
        for start in starts:
            _trajectory(ax, list(start), x, y, lr=0.15, n_epochs=40)
    if what in ("all", "loss"):
        contours = ax.contourf(ww1[:, 0], ww2[0], np.log(loss + 0.001).T, zorder=-1,
                               cmap="coolwarm", levels=100)
        cax = make_axes_locatable(ax).append_axes("right", size="5%", pad=0.05)
        fig.colorbar(contours, cax=cax).set_label("log (Loss)")
    w = np.linspace(0.5, 1.9, 100)
    ax.plot(w, 1 / w, c="c", lw=6, alpha=0.4)
    ax.plot(-w, -1 / w, c="c", lw=6, alpha=0.4)
    ax.set(xlabel="$w_1$", ylabel="$w_2$", xlim=(-1.9, 1.9), ylim=(-1.9, 1.9))
    _show()


def plot_loss_landscape():
    """3-D log-loss surface of the shallow net on y = x with two gradient-descent trajectories."""
    x, y = data.gen_samples(10, 1.0, 0.0)
    ww1, ww2 = LANDSCAPE_GRID
    loss, _, _ = analysis.shallow_landscape(ww1, ww2, x, y)
    fig = plt.figure(figsize=(12, 8))
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    ax.plot_surface(ww1, ww2, np.log(loss + 0.5), cmap="coolwarm", alpha=0.5)
    for start in ([-1.8, 1.7], [1.5, -1.5]):
        losses, weights = analysis.shallow_descent(start, x, y, 0.02, 240)
        ax.scatter3D(weights[:, 0], weights[:, 1], np.log(losses + 0.5), c="k", s=50)
    ax.set_axis_off()
    ax.view_init(45, 260)
    _show()


def _log_loss_axes(ax, title):
    ax.set_title(title, pad=15)
    ax.set_yscale("log")
    ax.set(xlabel="epochs", ylabel="mean squared error (log scale)", ylim=(0.001, 1.0))


def plot_training_curve(losses, depth, lr, init_weight):
    """Loss per epoch of one deep narrow net. losses: (T,) array."""
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.plot(losses, linewidth=3.0, c="m")
    _log_loss_axes(ax, f"Training a {depth}-layer LNN with $\\eta=${lr} initialized with $w_i=${init_weight}")
    _show()


def plot_init_effect(depth=15, lr=0.02, n_epochs=250, inits=np.arange(0.7, 1.09, 0.05)):
    """Loss curves of a deep narrow net for several constant initial weights."""
    x, y = data.gen_samples(100, 2.0, 0.1)
    fig, ax = plt.subplots(figsize=(12, 6))
    for w in inits:
        losses = analysis.train_deep_narrow(depth, lr, w, x, y, n_epochs)
        ax.plot(losses, linewidth=3.0, label=f"initial weights {w:.2f}")
    _log_loss_axes(ax, f"Training a {depth}-layer narrow LNN with $\\eta=${lr}")
    ax.legend(loc="lower left", ncol=4)
    _show()


def plot_depth_lr_registration(losses, depth, lr, registered, max_epochs=analysis.REGISTRATION.n_epochs):
    """Current loss curve above two summaries of registered runs.

    registered: dict depth -> (lr, learning time in epochs).
    """
    fig = plt.figure(figsize=(10, 8))
    grid = fig.add_gridspec(2, 2)
    ax_loss = fig.add_subplot(grid[0, :])
    ax_time = fig.add_subplot(grid[1, 0])
    ax_lr = fig.add_subplot(grid[1, 1])
    ax_loss.plot(losses, linewidth=3.0, c="m")
    _log_loss_axes(ax_loss, f"Training a {depth}-layer LNN with $\\eta=${lr}")
    depths = sorted(registered)
    ax_time.scatter(depths, [registered[d][1] for d in depths], c="r")
    ax_time.set(xlim=(5, 65), ylim=(-10, max_epochs), xlabel="depth",
                ylabel="learning time (epochs)", title="Learning time vs depth")
    ax_lr.scatter(depths, [registered[d][0] for d in depths], c="r")
    ax_lr.set(xlim=(5, 65), ylim=(0.001, 0.105), xlabel="depth",
              ylabel="registered learning rate", title="Registered $\\eta$ vs depth")
    fig.tight_layout()
    _show()


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

    item_names: 8 strings (default data.ITEM_NAMES). feature_array: None for ten named example
    features, or an (8, F) array of +-1 whose LAST n_features columns are shown, the last one
    labelled `new_feature` (str).
    """
    item_names = list(data.ITEM_NAMES if item_names is None else item_names)
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
        _show()
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


def plot_loss(losses, title="Training loss (mean squared error)", phases=1, log=False, c="r"):
    """Loss per epoch. losses: (T,) array; phases: equal training phases to mark with dotted
    lines; log: log-scaled loss axis; c: line colour."""
    losses = np.asarray(losses, dtype=float).ravel()
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(losses, color=c)
    if log:
        ax.set_yscale("log")
    for k in range(1, int(phases)):
        ax.axvline(k * len(losses) / phases, c="grey", ls=":", lw=1)
    ax.set(xlabel="epochs", ylabel="mean squared error", title=title)
    fig.tight_layout()
    _show()


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
    _show()


def _grid_predict(predict, X, steps=80):
    x0, x1 = X[:, 0], X[:, 1]
    g0, g1 = np.meshgrid(np.linspace(x0.min() - 0.5, x0.max() + 0.5, steps),
                         np.linspace(x1.min() - 0.5, x1.max() + 0.5, steps))
    return g0, g1, predict(np.c_[g0.ravel(), g1.ravel()]).reshape(g0.shape)


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


def plot_error_vs_width(widths, test_errors, train_errors, fit=None):
    """Final relative errors against student width on log-log axes.

    widths: (K,) ints; test_errors: (K,) floats; train_errors: (K,) final values or (K, T) curves
    (their last column is used); fit: optional (slope, intercept) of log error = slope log width +
    intercept, drawn as a dashed line.
    """
    widths = np.asarray(widths, dtype=float)
    train = np.asarray(train_errors, dtype=float)
    train = train[:, -1] if train.ndim == 2 else train
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.loglog(widths, test_errors, "o-", label="test")
    ax.loglog(widths, train, "s-", label="train")
    if fit is not None:
        w = np.geomspace(widths.min(), widths.max(), 50)
        ax.loglog(w, np.exp(fit[1]) * w ** fit[0], "k--", lw=1, label=f"fit, slope {fit[0]:.2f}")
    ax.set(xlabel="width of the hidden layer", ylabel="relative error", title="Shallow students")
    ax.legend()
    fig.tight_layout()
    _show()


def plot_loss_sv_rsm(loss_array, sv_array, rsm_array, i_ep, item_names=None):
    """Learning curve and modes with epoch `i_ep` marked, beside the RSM at that epoch.

    loss_array: (T,); sv_array: (T, k); rsm_array: (T, N, N), shown scaled by its maximum;
    i_ep: int in [0, T); item_names: N strings (default data.ITEM_NAMES).
    """
    item_names = list(data.ITEM_NAMES if item_names is None else item_names)
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
    _show()


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


def plot_student_vs_teacher(train_errors, y_teacher, y_student):
    """Relative training error per epoch, and the student's test outputs against the teacher's.

    train_errors: (T,) array; y_teacher, y_student: (N,) or (N, 1) arrays or tensors.
    """
    y_t, y_s = (arrays.to_numpy(v, float).ravel() for v in (y_teacher, y_student))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    axes[0].semilogy(np.asarray(train_errors, dtype=float).ravel(), c="m")
    axes[0].set(xlabel="epochs", ylabel="relative training error")
    axes[1].scatter(y_t, y_s, s=6, alpha=0.5)
    low, high = min(y_t.min(), y_s.min()), max(y_t.max(), y_s.max())
    axes[1].plot([low, high], [low, high], "k--", lw=1)
    axes[1].set(xlabel="teacher output", ylabel="student output", title="test set")
    axes[1].ticklabel_format(style="sci", scilimits=(-2, 2))
    fig.tight_layout()
    _show()


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
    _show()


def plot_optimizer_paths(paths, surface=None, minimum=(3.0, 0.5)):
    """Trajectories of optimizers on a 2-D surface, over its log-scaled contours.

    paths: {name: (T, 2) array}; surface: f(x, y) on numpy grids (default analysis.beale).
    Paths whose name starts with 'your' are drawn as black dashed lines on top of the others.
    """
    from matplotlib.colors import LogNorm

    surface = analysis.beale if surface is None else surface
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
    _show()


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
    _show()


def plot_digit_examples(images, labels, annotate=True):
    """Images (k, side, side) with their labels, each pixel's value written on it when annotate."""
    images = np.asarray(images)
    k = len(images)
    fig, axs = plt.subplots(1, k, figsize=(4 * k, 4))
    for ax, image, label in zip(np.atleast_1d(axs), images, labels):
        ax.matshow(image, cmap="gray_r")
        if annotate and image.shape[0] <= 12:
            for (i, j), z in np.ndenumerate(image):
                ax.text(j, i, f"{z:.1f}", ha="center", va="center", fontsize=7, c="steelblue")
        ax.set_title(f"Label: {int(label)}")
        ax.axis("off")
    _show()


def plot_class_filters(weight, side):
    """The rows of a linear classifier's weight matrix (n_classes, side*side) as side x side images."""
    weight = np.asarray(weight)
    fig, axs = plt.subplots(1, len(weight), figsize=(1.5 * len(weight), 2.2))
    for class_id, (ax, row) in enumerate(zip(axs, weight)):
        ax.imshow(row.reshape(side, side), cmap="gray_r")
        ax.set_title(f"Class {class_id}")
        ax.axis("off")
    _show()


def plot_param_distance(best, trajs, labels, styles, use_log=True, ylim=(-12.0, 1.5)):
    """Distance of each of two parameters to the optimum, along each trajectory.

    best: (2,) optimum; trajs: list of (T, >=2) arrays (columns: weight, bias, ...);
    use_log: natural log of the distance (plus 1e-16).
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    for traj, style, label in zip(trajs, styles, labels):
        for col, name, marker in ((0, "weight", None), (1, "bias", "x")):
            d = np.abs(traj[:, col] - best[col])
            if use_log:
                d = np.log(1e-16 + d)
            ax.plot(d, style, marker=marker, markevery=max(len(d) // 15, 1), label=f"{name} - {label}")
    ax.set_xlabel("Iteration")
    if use_log:
        ax.set_ylabel("log distance to optimum (per dimension)")
        ax.set_ylim(*ylim)
    else:
        ax.set_ylabel("distance to optimum (per dimension)")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    _show()


def plot_surface_trajectories(U, V, Z, best, trajs, labels, colors):
    """Loss surface Z over the (weight, bias) grid U, V with trajectories and the optimum.

    trajs: list of (T, 3) arrays of (weight, bias, loss); best: (2,) optimum.
    """
    from matplotlib.lines import Line2D

    fig = plt.figure(figsize=(8, 6))
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    ax.view_init(45, -130)
    ax.plot_surface(U, V, Z, cmap=plt.cm.coolwarm, linewidth=0, antialiased=True, alpha=0.5)
    for traj, c in zip(trajs, colors):
        ax.plot3D(*traj[:, :3].T, c, linewidth=0.5)
        ax.scatter3D(*traj[:, :3].T, s=2, c=c)
    ax.scatter(best[0], best[1], Z.min(), marker="*", s=120, c="lime")
    handles = [Line2D([0], [0], color=c, linewidth=3, linestyle="--") for c in colors]
    handles.append(Line2D([0], [0], color="lime", linewidth=0, marker="*"))
    ax.legend(handles, list(labels) + ["Optimum"], loc="upper left")
    ax.set_xlabel("Weight")
    ax.set_ylabel("Bias")
    ax.set_zlabel("Loss", rotation=90)
    _show()


def plot_overparam(losses, ylim=(0, 3)):
    """One loss curve per initialisation. losses: (num_inits, T)."""
    fig, ax = plt.subplots(figsize=(5, 4))
    for curve in np.atleast_2d(losses):
        ax.plot(curve)
    ax.set(xlabel="Iteration", ylabel="Loss", ylim=ylim)
    _show()


def plot_computation_times(num_points, times):
    """Forward and backward seconds against the number of examples. times: (len(num_points), 2)."""
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(num_points, times[:, 0], label="Forward")
    ax.plot(num_points, times[:, 1], label="Backward")
    ax.set(xlabel="Number of data points", ylabel="Seconds")
    ax.legend()
    _show()


def plot_minibatch_runs(history):
    """Minibatch loss against wall-clock seconds, one panel per batch size.

    history: {batch_size: (T, 2) array of (seconds, loss)}.
    """
    fig, axs = plt.subplots(1, len(history), figsize=(3.5 * len(history), 3))
    for ax, (batch_size, run) in zip(np.atleast_1d(axs), history.items()):
        ax.plot(run[:, 0], run[:, 1], alpha=0.8)
        ax.set_title(f"Batch size: {batch_size} ({len(run)} steps)")
        ax.set(xlabel="Seconds", ylabel="Loss")
    fig.tight_layout()
    _show()


def plot_optimizer_comparison(history, ylim=(0, 2.5)):
    """Minibatch loss per iteration, one panel per optimizer. history: {name: (T,) losses}."""
    fig, axs = plt.subplots(1, len(history), figsize=(3.3 * len(history), 3))
    for ax, (name, losses) in zip(np.atleast_1d(axs), history.items()):
        ax.plot(losses, alpha=0.8)
        ax.set_title(name)
        ax.set(xlabel="Iteration", ylabel="Loss", ylim=ylim)
    fig.tight_layout()
    _show()


def plot_training_metrics(metrics):
    """Training (per step) and validation (at metrics['val_idx']) loss and accuracy.

    metrics: dict with lists 'train_loss', 'train_acc', 'val_loss', 'val_acc', 'val_idx'.
    """
    fig, axs = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axs[0], "loss", "Loss"), (axs[1], "acc", "Accuracy")):
        ax.plot(metrics["train_" + key], alpha=0.8, label="Train")
        ax.plot(metrics["val_idx"], metrics["val_" + key], label="Valid")
        ax.set(xlabel="Iteration", ylabel=label)
        ax.legend()


def plot_layer_trajectories(layer, trajectories, titles=("$\\sigma = 2$ (chaotic)", "$\\sigma = 0.4$ (quasi-linear)")):
    """The circle's image in one hidden layer of each network, projected to 3-D.

    layer: int index of the hidden layer; trajectories: list of (L, P, 3) arrays (one per network,
    see analysis.circle_trajectories). Segments are coloured by the angle on the circle.
    """
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    fig = plt.figure(figsize=(11, 5))
    fig.suptitle(f"hidden layer {layer + 1}")
    for i, (traj, title) in enumerate(zip(trajectories, titles)):
        pts = np.asarray(traj[layer])
        ax = fig.add_subplot(1, len(trajectories), i + 1, projection="3d")
        segments = np.stack([pts[:-1], pts[1:]], axis=1)
        colors = plt.cm.hsv(np.linspace(0, 1, len(segments)))
        ax.add_collection3d(Line3DCollection(segments, colors=colors, linewidths=1.5))
        span = [(pts[:, k].min(), pts[:, k].max()) for k in range(3)]
        ax.set(xlim=span[0], ylim=span[1], zlim=span[2], title=title)
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_zticklabels([])
    fig.tight_layout()
    _show()
