"""Assignment 3 (`a3_depth_width`): what its notebook shows around the exercises.

Relative errors and hidden activity of the teacher and student networks, the circle propagated
through random deep tanh nets, the figures and the expressivity demo.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

from nnlib import arrays, models, plots, seeding, widgets


# Measurements and training runs ---------------------------------------------------------------


def progress(iterable, progressbar, **kwargs):
    """`iterable`, in a tqdm progress bar when `progressbar` is true."""
    if not progressbar:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


def relative_error(net, X, y):
    """Mean squared error of net(X) against y divided by the variance of y (unbiased), float.

    0 is a perfect fit; 1 is as good as predicting the mean of y.
    """
    with torch.no_grad():
        return float(torch.mean((net(X) - y) ** 2) / torch.var(y))


def hidden_activity(net, points):
    """The activity of every hidden layer of an nn.Sequential for the inputs `points`.

    net: nn.Sequential alternating Linear and activation modules (as make_MLP builds);
    points: (P, n_in) array or tensor. Returns a list of (P, W) numpy arrays, one per hidden layer,
    each the output of an activation module.
    """
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
    with seeding.kept(seed, ("numpy", "torch")):
        projection = np.random.normal(size=(W, 3))
        theta = np.linspace(0, 2 * np.pi, P)
        points = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        out = []
        for sigma in sigmas:
            net = models.normal_weights_(models.make_MLP(2, W, D), lambda fan_in, _: sigma / np.sqrt(fan_in))
            out.append(np.stack([layer @ projection for layer in hidden_activity(net, points)]))
        return out


# Figures --------------------------------------------------------------------------------------


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
    plots.show()


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
    plots.show()


def plot_layer_trajectories(layer, trajectories, titles=("$\\sigma = 2$ (chaotic)", "$\\sigma = 0.4$ (quasi-linear)")):
    """The circle's image in one hidden layer of each network, projected to 3-D.

    layer: int index of the hidden layer; trajectories: list of (L, P, 3) arrays (one per network,
    see circle_trajectories). Segments are coloured by the angle on the circle.
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
    plots.show()


# Demos ----------------------------------------------------------------------------------------


def expressivity_widget(W=100, D=20, P=400, sigmas=(2.0, 0.4), seed=42):
    """Slider over the hidden layers of two random deep tanh nets fed with a circle of P points.

    The nets (make_MLP(2, W, D), weights N(0, sigma^2 / fan_in) for each sigma) and a random 3-D
    projection are drawn once (circle_trajectories); the slider picks the hidden layer.
    """
    trajectories = circle_trajectories(W=W, D=D, P=P, sigmas=sigmas, seed=seed)
    titles = [f"$\\sigma = {s:g}$" for s in sigmas]

    def show(layer):
        plot_layer_trajectories(layer, trajectories, titles=titles)
    return widgets.demo(show, layer=widgets.slider("int", "layer", min=0, max=D - 2, step=1, value=0))
