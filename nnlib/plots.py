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


# ---- optimization of digit classifiers (optimization assignment) -------------------------------

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
    plt.show()


def plot_class_filters(weight, side):
    """The rows of a linear classifier's weight matrix (n_classes, side*side) as side x side images."""
    weight = np.asarray(weight)
    fig, axs = plt.subplots(1, len(weight), figsize=(1.5 * len(weight), 2.2))
    for class_id, (ax, row) in enumerate(zip(axs, weight)):
        ax.imshow(row.reshape(side, side), cmap="gray_r")
        ax.set_title(f"Class {class_id}")
        ax.axis("off")
    plt.show()


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
    plt.show()


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
    plt.show()


def plot_overparam(losses, ylim=(0, 3)):
    """One loss curve per initialisation. losses: (num_inits, T)."""
    fig, ax = plt.subplots(figsize=(5, 4))
    for curve in np.atleast_2d(losses):
        ax.plot(curve)
    ax.set(xlabel="Iteration", ylabel="Loss", ylim=ylim)
    plt.show()


def plot_computation_times(num_points, times):
    """Forward and backward seconds against the number of examples. times: (len(num_points), 2)."""
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(num_points, times[:, 0], label="Forward")
    ax.plot(num_points, times[:, 1], label="Backward")
    ax.set(xlabel="Number of data points", ylabel="Seconds")
    ax.legend()
    plt.show()


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
    plt.show()


def plot_optimizer_comparison(history, ylim=(0, 2.5)):
    """Minibatch loss per iteration, one panel per optimizer. history: {name: (T,) losses}."""
    fig, axs = plt.subplots(1, len(history), figsize=(3.3 * len(history), 3))
    for ax, (name, losses) in zip(np.atleast_1d(axs), history.items()):
        ax.plot(losses, alpha=0.8)
        ax.set_title(name)
        ax.set(xlabel="Iteration", ylabel="Loss", ylim=ylim)
    fig.tight_layout()
    plt.show()


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
    fig.tight_layout()
    plt.show()
