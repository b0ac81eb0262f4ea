"""Assignment 1 (`a1_hyperparameters`): what its notebook shows around the exercises.

The shallow and deep narrow nets' data, their loss landscape and gradient descent on it, the
registration contract the widget, the demos and the check share (`REGISTRATION`), the figures and
the demos (depth, learning rate, initial weight, `InterPlay`).
"""

import dataclasses

import matplotlib.pyplot as plt
from mpl_toolkits.axes_grid1 import make_axes_locatable
import numpy as np
from IPython.display import display
import ipywidgets as w

from nnlib import plots, seeding, widgets


# Data -----------------------------------------------------------------------------------------


def gen_samples(n, a, sigma):
    """Noisy samples of the line y = a x.

    n: int > 0; a: float slope; sigma: float >= 0 noise std.
    With sigma > 0, x ~ U[0, 1) and y = a x + N(0, sigma^2) (numpy's global RNG);
    with sigma == 0, x is n evenly spaced points on [0, 1] and y = a x exactly.
    Returns x, y: (n,) float arrays.
    """
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"gen_samples: n must be a positive integer, got {n!r}")
    if sigma < 0:
        raise ValueError(f"gen_samples: sigma must be >= 0, got {sigma!r}")
    if sigma > 0:
        x = np.random.rand(n)
        y = a * x + np.random.normal(scale=sigma, size=n)
    else:
        x = np.linspace(0.0, 1.0, n, endpoint=True)
        y = a * x
    return x, y


def seeded_samples(n, a, sigma, seed):
    """`gen_samples(n, a, sigma)` drawn under numpy seed `seed`, leaving the global RNG as it was."""
    with seeding.kept(seed, ("numpy",)):
        return gen_samples(n, a, sigma)


def deep_narrow_data(seed):
    """The deep-narrow-net data set: 100 noisy samples of y = 2x (noise std 0.1) drawn under numpy
    seed `seed` (a1's is REGISTRATION.seed). -> x, y: (100,)"""
    return seeded_samples(100, 2.0, 0.1, seed)


# Measurements and training runs ---------------------------------------------------------------


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


def shallow_descent(start, x, y, lr, n_epochs):
    """Gradient descent of the shallow narrow net y = x * w1 * w2 on the mean squared error.

    start: (w1, w2); x, y: (N,) data; lr: float; n_epochs: int. Returns losses: (n_epochs,) the
    loss before each step, and weights: (n_epochs, 2) the weights after each step.
    """
    w = np.array(start, dtype=float)
    losses, weights = np.empty(n_epochs), np.empty((n_epochs, 2))
    for i in range(n_epochs):
        loss, dw1, dw2 = shallow_landscape(w[0], w[1], x, y)
        losses[i] = loss
        w = w - lr * np.array([dw1, dw2])
        weights[i] = w
    return losses, weights


@dataclasses.dataclass(frozen=True)
class DepthRegistration:
    """a1's graded registration, stated once: for each depth, a learning rate at which a deep narrow
    net of that many weights, all starting at `init_weight`, converges (`converged_epoch` with
    `threshold`) within `n_epochs` of gradient descent on `deep_narrow_data(seed)`.

    The widget (`InterPlay`), its demos and the check (`checks.hyperparameters`) read it
    from `REGISTRATION`, so they cannot disagree.
    """

    depths: tuple = (10, 20, 30, 40, 50, 60)
    init_weight: float = 0.9
    n_epochs: int = 600
    threshold: float = 1e-2
    seed: int = 2021

    def data(self, seed=None):
        """The registration's data set: x, y of shape (100,) (seed: None for the contract's)."""
        return deep_narrow_data(self.seed if seed is None else seed)

    def losses(self, depth, lr, x, y):
        """Loss per epoch of a deep narrow net of `depth` weights trained with `lr` on x, y."""
        return train_deep_narrow(depth, lr, self.init_weight, x, y, self.n_epochs)

    def converged(self, losses):
        """The epoch from which `losses` stay below the threshold, or None."""
        return converged_epoch(losses, self.threshold)


REGISTRATION = DepthRegistration()


def converged_epoch(losses, threshold=REGISTRATION.threshold):
    """The first epoch with loss below `threshold`, if the loss stays below from then on; else None.

    This is the course's rule for convergence: a run that dips below and comes back up has not
    converged. losses: (T,) array (NaN counts as not below).
    """
    below = np.asarray(losses) < threshold
    if not below.any():
        return None
    first = int(np.argmax(below))
    return first if below[first:].all() else None


def _leave_one_out_products(w):
    """w: (n,) array -> (n,) array whose entry i is the product of all w_j with j != i."""
    before = np.concatenate(([1.0], np.cumprod(w[:-1])))
    after = np.concatenate((np.cumprod(w[::-1][:-1])[::-1], [1.0]))
    return before * after


class DeepNarrowLNN:
    """Linear net with one neuron per layer: y = x * w_1 * ... * w_n, loss mean((y - p)^2) / 2."""

    def __init__(self, init_ws):
        """init_ws: array of n initial weights (any shape; flattened to (1, n))."""
        init_ws = np.asarray(init_ws, dtype=float)
        self.n = init_ws.size
        self.W = init_ws.reshape(1, -1).copy()

    def forward(self, x):
        """x: (N,) array -> (N,) predictions x * prod(W)."""
        return np.prod(self.W) * x

    def loss(self, y_p, y_t):
        """Half mean squared error of predictions y_p against targets y_t (equal shapes) -> float.

        Predictions first, as in ShallowNarrowLNN.loss and the graded `loss(y_prediction, y_true)`.
        """
        return float(np.mean((y_p - y_t) ** 2 / 2))

    def dloss_dw(self, x, y_t, y_p):
        """Gradient w.r.t. W: -mean(x (y_t - y_p)) * prod_{j != i} w_j, shape (1, n)."""
        ex = np.mean(x * (y_t - y_p))
        with np.errstate(over="ignore", invalid="ignore"):
            return -ex * _leave_one_out_products(self.W[0]).reshape(1, -1)

    def train(self, x, y_t, eta, n_epochs):
        """Gradient descent for n_epochs; returns (n_epochs,) losses, NaN after a divergence."""
        losses = np.full(n_epochs, np.nan)
        for i in range(n_epochs):
            with np.errstate(over="ignore", invalid="ignore"):
                y_p = self.forward(x)
                losses[i] = self.loss(y_p, y_t)
            grad = self.dloss_dw(x, y_t, y_p)
            if not np.all(np.isfinite(grad)):
                break
            self.W -= eta * grad
        return losses


def train_deep_narrow(depth, lr, init_weight, x, y, n_epochs=REGISTRATION.n_epochs):
    """Train a DeepNarrowLNN of `depth` weights all set to `init_weight`; -> (n_epochs,) losses."""
    net = DeepNarrowLNN(np.full((1, depth), float(init_weight)))
    return net.train(x, y, lr, n_epochs)


# Figures --------------------------------------------------------------------------------------


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
    plots.show()


def _trajectory(ax, init_weights, x, y, lr, n_epochs):
    """Scatter the weight trajectory of gradient descent from `init_weights` on `ax`."""
    _, records = shallow_descent(init_weights, x, y, lr, n_epochs)
    ax.scatter(records[:, 0], records[:, 1], c=np.arange(len(records)), cmap="Greys")
    ax.scatter(*records[0], c="blue", zorder=9)
    ax.scatter(*records[-1], c="red", marker="X", s=100, zorder=9)


@plots.illustration
def plot_vector_field(what="all", init_weights=None):
    """Gradient field, loss contours and gradient-descent trajectories of the shallow net on y = x.

    what: 'all', 'vectors', 'trajectory' or 'loss'; init_weights: [w1, w2] or None for three
    default starts. The grid is evaluated in one vectorized pass (shallow_landscape).
    """
    if what not in ("all", "vectors", "trajectory", "loss"):
        raise ValueError(f"plot_vector_field: what must be 'all', 'vectors', 'trajectory' or 'loss', got {what!r}")
    x, y = gen_samples(10, 1.0, 0.0)
    ww1, ww2 = LANDSCAPE_GRID
    loss, dw1, dw2 = shallow_landscape(ww1, ww2, x, y)
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
    plots.show()


@plots.illustration
def plot_loss_landscape():
    """3-D log-loss surface of the shallow net on y = x with two gradient-descent trajectories."""
    x, y = gen_samples(10, 1.0, 0.0)
    ww1, ww2 = LANDSCAPE_GRID
    loss, _, _ = shallow_landscape(ww1, ww2, x, y)
    fig = plt.figure(figsize=(12, 8))
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    ax.plot_surface(ww1, ww2, np.log(loss + 0.5), cmap="coolwarm", alpha=0.5)
    for start in ([-1.8, 1.7], [1.5, -1.5]):
        losses, weights = shallow_descent(start, x, y, 0.02, 240)
        ax.scatter3D(weights[:, 0], weights[:, 1], np.log(losses + 0.5), c="k", s=50)
    ax.set_axis_off()
    ax.view_init(45, 260)
    plots.show()


def _log_loss_axes(ax, title):
    ax.set_title(title, pad=15)
    ax.set_yscale("log")
    ax.set(xlabel="epochs", ylabel="mean squared error (log scale)", ylim=(0.001, 1.0))


def plot_training_curve(losses, depth, lr, init_weight):
    """Loss per epoch of one deep narrow net. losses: (T,) array."""
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.plot(losses, linewidth=3.0, c="m")
    _log_loss_axes(ax, f"Training a {depth}-layer LNN with $\\eta=${lr} initialized with $w_i=${init_weight}")
    plots.show()


@plots.illustration
def plot_init_effect(depth=15, lr=0.02, n_epochs=250, inits=np.arange(0.7, 1.09, 0.05)):
    """Loss curves of a deep narrow net for several constant initial weights."""
    x, y = gen_samples(100, 2.0, 0.1)
    fig, ax = plt.subplots(figsize=(12, 6))
    for weight in inits:
        losses = train_deep_narrow(depth, lr, weight, x, y, n_epochs)
        ax.plot(losses, linewidth=3.0, label=f"initial weights {weight:.2f}")
    _log_loss_axes(ax, f"Training a {depth}-layer narrow LNN with $\\eta=${lr}")
    ax.legend(loc="lower left", ncol=4)
    plots.show()


def plot_depth_lr_registration(losses, depth, lr, registered, max_epochs=REGISTRATION.n_epochs):
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
    plots.show()


# Demos ----------------------------------------------------------------------------------------


def _curve(depth, lr, init_weight, n_epochs=REGISTRATION.n_epochs):
    """Train a net with `depth` hidden layers (depth + 1 weights) and plot its loss curve."""
    x, y = gen_samples(100, 2.0, 0.1)
    losses = train_deep_narrow(depth + 1, lr, init_weight, x, y, n_epochs)
    plot_training_curve(losses, depth, lr, init_weight)


def depth_widget():
    """Slider over depth (0-50): loss curves of deep narrow nets initialised at 0.9."""
    def show(depth):
        _curve(depth, 0.02 if depth == 0 else 0.01, REGISTRATION.init_weight)
    return widgets.demo(show, depth=widgets.slider("int", "depth", min=0, max=51, step=5, value=0))


def lr_widget():
    """Slider over the learning rate for a 50-layer narrow net initialised at 0.9."""
    def show(lr):
        _curve(50, lr, REGISTRATION.init_weight)
    return widgets.demo(show, lr=widgets.slider("float", "eta", min=0.005, max=0.045, step=0.005, value=0.005))


def hyperparameter_widget():
    """Bonus: depth, learning rate and initial weight together."""
    def show(depth, lr, init_weights):
        _curve(depth, lr, init_weights)
    return widgets.demo(
        show,
        depth=widgets.slider("int", "depth", min=10, max=51, step=5, value=25),
        lr=widgets.slider("float", "eta", min=0.001, max=0.1, step=0.005, value=0.005),
        init_weights=widgets.slider("float", "initial weights", min=0.1, max=3.0, step=0.1,
                                    value=REGISTRATION.init_weight),
    )


class InterPlay:
    """Find, depth after depth, a learning rate at which the deep narrow net converges.

    The runs are those the check grades (`REGISTRATION`: depths 10, 20, ..., 60, every
    weight starting at 0.9, 600 epochs on `REGISTRATION.data()`, converged when the loss drops
    below 1e-2 and stays there). Press Register to record the learning rate and move deeper;
    `learning_rates()` gives what was recorded, ready to copy into the graded cell.
    """

    depths = REGISTRATION.depths

    def __init__(self, seed=None):
        self.x, self.y = REGISTRATION.data(seed)
        self.registered = {}
        self.i_depth = 0
        self.slider = widgets.slider("float", "eta", min=0.005, max=0.105, step=0.005, value=0.005,
                                     layout=w.Layout(width="500px"))
        self.button = w.Button(description="Register", disabled=True)
        self.out = widgets.Canvas()
        self.slider.observe(lambda change: self.try_lr(change["new"]), names="value")
        self.button.on_click(lambda _: self.register())
        self._last = None
        self.try_lr(self.slider.value)

    @property
    def depth(self):
        return self.depths[self.i_depth] if self.i_depth < len(self.depths) else None

    def try_lr(self, lr):
        """Train the current depth with learning rate `lr`, plot it, enable Register if it converged."""
        if self.depth is None:
            return None
        losses = REGISTRATION.losses(self.depth, lr, self.x, self.y)
        epoch = REGISTRATION.converged(losses)
        self._last = (round(float(lr), 6), epoch)
        self.button.disabled = epoch is None
        self.button.button_style = "success" if epoch is not None else "danger"
        self.button.description = "Register!" if epoch is not None else "Explore!"
        widgets.redraw(self.out, plot_depth_lr_registration, losses=losses, depth=self.depth, lr=lr,
                       registered=self.registered)
        return epoch

    def register(self):
        """Record the last converged learning rate for the current depth and move deeper."""
        if self.depth is None or self._last is None or self._last[1] is None:
            return
        self.registered[self.depth] = self._last
        self.i_depth += 1
        if self.depth is None:
            self.button.disabled, self.button.description = True, "Done!"
        else:
            self.try_lr(self.slider.value)

    def learning_rates(self):
        """Registered learning rate per depth: dict depth -> float."""
        return {depth: lr for depth, (lr, _) in self.registered.items()}

    def show(self):
        """Display the slider, the button and the figure."""
        display(w.VBox([w.HBox([self.slider, self.button]), self.out]))
        return self
