"""Figures used by the notebooks. Each function draws one figure and shows it."""

import matplotlib.pyplot as plt
import numpy as np
from mpl_toolkits.axes_grid1 import make_axes_locatable

from nnlib import analysis, data, models

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
    plt.show()


def _trajectory(ax, init_weights, x, y, lr, n_epochs):
    """Scatter the weight trajectory of gradient descent from `init_weights` on `ax`."""
    _, records = models.ShallowNarrowLNN(init_weights).train(x, y, lr, n_epochs)
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
    plt.show()


def plot_loss_landscape():
    """3-D log-loss surface of the shallow net on y = x with two gradient-descent trajectories."""
    x, y = data.gen_samples(10, 1.0, 0.0)
    ww1, ww2 = LANDSCAPE_GRID
    loss, _, _ = analysis.shallow_landscape(ww1, ww2, x, y)
    fig = plt.figure(figsize=(12, 8))
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    ax.plot_surface(ww1, ww2, np.log(loss + 0.5), cmap="coolwarm", alpha=0.5)
    for start in ([-1.8, 1.7], [1.5, -1.5]):
        losses, weights = models.ShallowNarrowLNN(start).train(x, y, 0.02, 240)
        ax.scatter3D(weights[:, 0], weights[:, 1], np.log(losses + 0.5), c="k", s=50)
    ax.set_axis_off()
    ax.view_init(45, 260)
    plt.show()


def _log_loss_axes(ax, title):
    ax.set_title(title, pad=15)
    ax.set_yscale("log")
    ax.set(xlabel="epochs", ylabel="mean squared error (log scale)", ylim=(0.001, 1.0))


def plot_training_curve(losses, depth, lr, init_weight):
    """Loss per epoch of one deep narrow net. losses: (T,) array."""
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.plot(losses, linewidth=3.0, c="m")
    _log_loss_axes(ax, f"Training a {depth}-layer LNN with $\\eta=${lr} initialized with $w_i=${init_weight}")
    plt.show()


def plot_init_effect(depth=15, lr=0.02, n_epochs=250, inits=np.arange(0.7, 1.09, 0.05)):
    """Loss curves of a deep narrow net for several constant initial weights."""
    x, y = data.gen_samples(100, 2.0, 0.1)
    fig, ax = plt.subplots(figsize=(12, 6))
    for w in inits:
        losses = analysis.train_deep_narrow(depth, lr, w, x, y, n_epochs)
        ax.plot(losses, linewidth=3.0, label=f"initial weights {w:.2f}")
    _log_loss_axes(ax, f"Training a {depth}-layer narrow LNN with $\\eta=${lr}")
    ax.legend(loc="lower left", ncol=4)
    plt.show()


def plot_depth_lr_registration(losses, depth, lr, registered, max_epochs=600):
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
    plt.show()


# ---- depth vs width ---------------------------------------------------------------------------

def plot_loss(losses, phases=1, title="Training loss"):
    """Loss per epoch on a log scale. losses: (T,) array; phases: int, equal training phases to mark."""
    losses = np.asarray(losses, dtype=float).ravel()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.semilogy(losses, c="m")
    for k in range(1, int(phases)):
        ax.axvline(k * len(losses) / phases, c="grey", ls=":", lw=1)
    ax.set(xlabel="epochs", ylabel="mean squared error", title=title)
    fig.tight_layout()
    plt.show()


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
    plt.show()


def plot_student_vs_teacher(train_errors, y_teacher, y_student):
    """Relative training error per epoch, and the student's test outputs against the teacher's.

    train_errors: (T,) array; y_teacher, y_student: (N,) or (N, 1) arrays or tensors.
    """
    def flat(v):
        return np.asarray(v.detach() if hasattr(v, "detach") else v, dtype=float).ravel()

    y_t, y_s = flat(y_teacher), flat(y_student)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    axes[0].semilogy(np.asarray(train_errors, dtype=float).ravel(), c="m")
    axes[0].set(xlabel="epochs", ylabel="relative training error")
    axes[1].scatter(y_t, y_s, s=6, alpha=0.5)
    low, high = min(y_t.min(), y_s.min()), max(y_t.max(), y_s.max())
    axes[1].plot([low, high], [low, high], "k--", lw=1)
    axes[1].set(xlabel="teacher output", ylabel="student output", title="test set")
    axes[1].ticklabel_format(style="sci", scilimits=(-2, 2))
    fig.tight_layout()
    plt.show()


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
    plt.show()
