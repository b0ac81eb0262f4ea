"""Assignment 4 (`a4_optimization`): what its notebook shows around the exercises.

The handwritten digits as the notebook gets them (`handwritten_digits`: scikit-learn's 8x8 digits
or local MNIST files, part of the test images held out for the bonus check), the loss of a
linear classifier in two of its parameters, the timed and repeated training runs, the figures and
the demos (momentum, overparameterization, computation time, minibatches, optimizers).
"""

import copy
import itertools
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import ipywidgets as w

from nnlib import data, models, optim, plots, runtime, widgets


# Data -----------------------------------------------------------------------------------------


MNIST_ENV = "NNLIB_MNIST_DIR"


_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_idx(path):
    """One IDX file (optionally gzipped) as a numpy array of its stored dtype and shape.

    IDX: 2 zero bytes, a type byte (0x08 = uint8, ...), the number of dimensions, then one
    big-endian int32 per dimension and the values (big-endian).
    """
    import gzip
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (it does not start with two zero bytes)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX value type 0x{raw[2]:02x}")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    values = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * ndim)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{os.path.basename(str(path))}: header says {shape}, file holds {values.size} values")
    return values.reshape(shape)


def mnist_folder(path=None):
    """The folder holding the MNIST IDX files: `path`, else $NNLIB_MNIST_DIR, else None."""
    return path if path is not None else os.environ.get(MNIST_ENV) or None


def load_mnist(path=None):
    """The real MNIST digits (60,000 + 10,000 images of 28x28) from IDX files on this machine.

    Nothing is downloaded. `path` (or the environment variable NNLIB_MNIST_DIR) names a folder
    with the four files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
    and t10k-labels-idx1-ubyte (each may end in .gz; torchvision's MNIST/raw folder has them).
    Pixels are standardised with the TRAINING set's mean and std (one scalar each).
    Returns X_train (60000, 784) float32 tensor, y_train (60000,) int64 tensor, X_test, y_test.
    Raises FileNotFoundError that says what to do when the folder or a file is missing.
    """
    folder = mnist_folder(path)
    how = (f"Put the four MNIST IDX files ({', '.join(_MNIST_FILES.values())}, optionally .gz) in a "
           f"folder and pass it as load_mnist(path=...) or set the environment variable {MNIST_ENV} "
           "to it. Nothing is downloaded; without them use load_digits() (scikit-learn's digits).")
    if folder is None:
        raise FileNotFoundError(f"No MNIST folder given. {how}")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"MNIST folder {folder!r} does not exist. {how}")
    arrays = {}
    for key, name in _MNIST_FILES.items():
        found = [os.path.join(folder, n) for n in (name, name + ".gz") if os.path.isfile(os.path.join(folder, n))]
        if not found:
            raise FileNotFoundError(f"{name}(.gz) is missing from {folder!r}. {how}")
        arrays[key] = read_idx(found[0])
    X_train = arrays["train_images"].reshape(len(arrays["train_images"]), -1).astype(np.float32)
    X_test = arrays["test_images"].reshape(len(arrays["test_images"]), -1).astype(np.float32)
    mean, std = X_train.mean(), X_train.std()
    return (torch.from_numpy((X_train - mean) / std), torch.from_numpy(arrays["train_labels"].astype(np.int64)),
            torch.from_numpy((X_test - mean) / std), torch.from_numpy(arrays["test_labels"].astype(np.int64)))


class DigitSet:
    """A handwritten-digit data set and what the notebooks derive from it.

    name: 'digits' or 'mnist'; X_train, X_test: (N, side*side) float32 tensors (standardised);
    y_train, y_test: (N,) int64 tensors; side: image side in pixels; in_dim = side * side;
    n_classes = 10.
    """

    def __init__(self, name, X_train, y_train, X_test, y_test):
        self.name = name
        self.X_train, self.y_train, self.X_test, self.y_test = X_train, y_train, X_test, y_test
        self.in_dim = int(X_train.shape[1])
        self.side = int(round(self.in_dim ** 0.5))
        self.n_classes = 10

    @property
    def centre_pixel(self):
        """Flat index of the pixel just above and right of the image centre (378 for 28x28, 28 for 8x8)."""
        return (self.side // 2 - 1) * self.side + self.side // 2

    def images(self, X):
        """(N, in_dim) -> (N, side, side) view."""
        return X.reshape(-1, self.side, self.side)

    def __repr__(self):
        return (f"DigitSet({self.name!r}: {len(self.y_train)} training and {len(self.y_test)} test images "
                f"of {self.side}x{self.side} pixels)")


def _all_digits(name, path=None, test_fraction=0.25, seed=0):
    """X_train, y_train, X_test, y_test of 'digits' or 'mnist' (see load_digits, load_mnist)."""
    if name == "digits":
        return data.load_digits(test_fraction=test_fraction, seed=seed)
    if name == "mnist":
        return load_mnist(path)
    raise ValueError(f"handwritten_digits: name must be 'digits' or 'mnist', got {name!r}")


def _visible_test_size(n_test):
    """How many of the n_test test images a notebook gets; the others are held out for grading."""
    return n_test - n_test // 2


def handwritten_digits(name="digits", path=None, test_fraction=0.25, seed=0):
    """The data set `name` as a DigitSet: 'digits' (scikit-learn's, always there) or 'mnist' (local files).

    path: MNIST folder (else $NNLIB_MNIST_DIR); test_fraction, seed: the digits split (load_digits).
    The test set is the first half of the split's test images (of the shuffled digits; of MNIST's
    file order): the second half is held out, read only by the optimization assignment's bonus
    check (`nnlib.checks.optimization`), so a model is scored on images no notebook hands out.
    """
    X_train, y_train, X_test, y_test = _all_digits(name, path, test_fraction, seed)
    n = _visible_test_size(len(y_test))
    return DigitSet(name, X_train, y_train, X_test[:n], y_test[:n])


# Measurements and training runs ---------------------------------------------------------------


def loss_2d(model, u, v, X, y, mask_idx=(0, 378), bias_id=7):
    """Loss of a linear MLP with all parameters frozen except one weight and one bias.

    model: MLP without hidden layers (main[0] is its nn.Linear); u: replaces the weight at
    mask_idx = (class, pixel) of the weight matrix; v: replaces the bias of class bias_id;
    X: (N, in_dim) inputs, y: (N,) labels. u and v are floats or tensors of one shape S
    (gradients flow through them); the result is the mean negative log-likelihood, shape S.
    Computed in the dtype of X.
    """
    layer = model.main[0]
    X = X.reshape(len(X), -1)
    weight = layer.weight.detach().to(X.dtype).clone()
    bias = (layer.bias.detach().to(X.dtype).clone() if layer.bias is not None
            else torch.zeros(weight.shape[0], dtype=X.dtype))
    u, v = torch.as_tensor(u, dtype=X.dtype), torch.as_tensor(v, dtype=X.dtype)
    row, col = mask_idx
    weight[row, col] = 0.0
    bias[bias_id] = 0.0
    base = X @ weight.T + bias                                   # (N, C) without u and v
    e_row = torch.zeros(weight.shape[0], dtype=X.dtype)
    e_row[row] = 1.0
    e_bias = torch.zeros(weight.shape[0], dtype=X.dtype)
    e_bias[bias_id] = 1.0
    logits = (base + u[..., None, None] * X[:, col, None] * e_row
              + v[..., None, None] * e_bias)                    # (*S, N, C)
    log_p = torch.log_softmax(logits, dim=-1)
    picked = torch.gather(log_p, -1, y.expand(*log_p.shape[:-1])[..., None])[..., 0]
    return -picked.mean(dim=-1)


def loss_surface(fn, us, vs):
    """fn(U, V) on the grid us x vs (1-D arrays), fn taking tensors of one shape.

    Returns U, V, Z: (len(vs), len(us)) numpy arrays.
    """
    U, V = np.meshgrid(us, vs)
    with torch.no_grad():
        Z = fn(torch.from_numpy(U), torch.from_numpy(V))
    return U, V, np.asarray(Z, dtype=float)


def newton_optimum(fn, init=(0.0, 0.0), max_iter=50, tol=1e-12):
    """Minimiser of a smooth convex fn(u, v) by Newton's method: w <- w - H^{-1} grad.

    fn: callable on two 0-d float64 tensors; returns (u*, v*) as a (2,) numpy array.
    Stops when the step is shorter than tol.
    """
    def g(w):
        return fn(w[0], w[1])

    w = torch.tensor(init, dtype=torch.float64)
    for _ in range(max_iter):
        w_ = w.clone().requires_grad_(True)
        grad = torch.autograd.grad(g(w_), w_)[0]
        hess = torch.autograd.functional.hessian(g, w)
        step = torch.linalg.solve(hess, grad)
        w = w - step
        if float(step.abs().max()) < tol:
            break
    return w.numpy()


def measure_update_time(model, X, y, num_points):
    """Seconds of one forward pass (loss included) and one backward pass on the first num_points examples.

    Returns (forward_seconds, backward_seconds).
    """
    model.zero_grad()
    start = time.perf_counter()
    loss = F.nll_loss(model(X[:num_points]), y[:num_points])
    middle = time.perf_counter()
    loss.backward()
    end = time.perf_counter()
    return middle - start, end - middle


def computation_times(model, X, y, num_points, repeats=5):
    """Mean forward and backward seconds for each size in num_points -> (len(num_points), 2) array."""
    runs = [[measure_update_time(model, X, y, n) for n in num_points] for _ in range(repeats)]
    return np.mean(np.array(runs), axis=0)


def evaluate(model, X, y, batch_size=1000):
    """Mean negative log-likelihood and accuracy of `model` on X (N, ...), y (N,) -> (loss, accuracy) floats."""
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            out = model(X[start:start + batch_size])
            labels = y[start:start + batch_size]
            total_loss += float(F.nll_loss(out, labels, reduction="sum"))
            correct += int((out.argmax(dim=1) == labels).sum())
    model.train()
    return total_loss / len(y), correct / len(y)


def random_update(model, noise_scale=0.1, normalized=False):
    """Add noise_scale * N(0, 1) noise to every parameter of `model` in place (torch's global RNG).

    normalized: divide each noise tensor by its norm first.
    """
    with torch.no_grad():
        for par in model.parameters():
            noise = torch.randn_like(par)
            if normalized:
                noise /= torch.norm(noise)
            par += noise_scale * noise


BENCHMARK_HIDDEN = (200, 100, 50)


def benchmark_path(dataset_name):
    """Where the benchmark classifier of a data set ('digits' or 'mnist') is stored."""
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "assets" / f"{dataset_name}_benchmark_mlp.npz"


def save_benchmark(model, dataset_name):
    """Store an MLP's parameters as float16 in a compressed .npz (see benchmark_path)."""
    path = benchmark_path(dataset_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name: p.detach().cpu().numpy().astype(np.float16) for name, p in model.state_dict().items()}
    arrays["in_dim"] = np.array(model.in_dim)
    arrays["hidden_dims"] = np.array([m.out_features for m in model.main if isinstance(m, torch.nn.Linear)][:-1])
    np.savez_compressed(path, **arrays)
    return path


def load_benchmark(dataset_name="digits"):
    """The pre-trained benchmark MLP of a data set (float32, eval mode).

    Made by the course's `python benchmarks/make_benchmark_model.py --data NAME` (deterministic,
    seconds on a CPU); digits' is shipped with nnlib. Raises FileNotFoundError when there is none.
    """
    path = benchmark_path(dataset_name)
    if not path.is_file():
        raise FileNotFoundError(f"no benchmark model for {dataset_name!r}: nnlib ships one for the digits only "
                                f"(the course's staff can add others at {path}).")
    stored = np.load(path)
    model = models.MLP(in_dim=int(stored["in_dim"]), out_dim=10, hidden_dims=[int(h) for h in stored["hidden_dims"]])
    state = {k: torch.from_numpy(stored[k].astype(np.float32)) for k in model.state_dict()}
    model.load_state_dict(state)
    return model.eval()


def overparam_runs(base_model, X, y, update_fn, max_steps=150, lr=5e-2, num_inits=7, noise_scale=2e-1,
                   progressbar=True):
    """Full-batch training of num_inits perturbed copies of base_model -> (num_inits, max_steps) losses.

    Each copy gets random_update(copy, noise_scale) (torch's global RNG), then max_steps
    steps of update_fn(loss, params, lr=lr) on (X, y).
    """
    from tqdm.auto import tqdm

    losses = np.zeros((num_inits, max_steps))
    for i in tqdm(range(num_inits), disable=not progressbar, desc="initialisations"):
        model = copy.deepcopy(base_model)
        random_update(model, noise_scale=noise_scale)
        losses[i] = optim.train_steps(model.parameters(), itertools.repeat((X, y), max_steps),
                                      lambda batch: F.nll_loss(model(batch[0]), batch[1]), update_fn, lr=lr)
    return losses


def minibatch_runs(base_model, X, y, sampler, update_fn, batch_sizes, lrs, time_budget, progressbar=True):
    """Train a copy of base_model per batch size for time_budget seconds each.

    sampler(X, y, batch_size) -> minibatch; update_fn(loss, params, lr=...). The clock stops before
    a step that would start after the budget. Returns {batch_size: (T, 2) array of
    (seconds since start, minibatch loss)}.
    """
    from tqdm.auto import tqdm

    history = {}
    for batch_size, lr in tqdm(list(zip(batch_sizes, lrs)), disable=not progressbar, desc="batch sizes"):
        model = copy.deepcopy(base_model)
        params = list(model.parameters())
        log = []
        start = time.perf_counter()
        while time.perf_counter() - start < time_budget:
            inputs, labels = sampler(X, y, batch_size)
            loss = F.nll_loss(model(inputs), labels)
            update_fn(loss, params, lr=lr)
            log.append((time.perf_counter() - start, loss.item()))
        history[batch_size] = np.array(log).reshape(-1, 2)
    return history


def optimizer_runs(base_model, X, y, sampler, optimizers, batch_size, max_steps, progressbar=True):
    """Train a copy of base_model with each optimizer on the same sequence of minibatches.

    optimizers: dict name -> (update_fn, hyper-parameter dict); update functions follow
    nnlib.optim's interface (state tensors start at zero). The minibatches are drawn once with
    sampler(X, y, batch_size). Returns {name: (max_steps,) minibatch losses}.
    """

    from tqdm.auto import tqdm

    batches = [sampler(X, y, batch_size) for _ in range(max_steps)]
    history = {}
    for name, (update_fn, kwargs) in tqdm(list(optimizers.items()), disable=not progressbar, desc="optimizers"):
        model = copy.deepcopy(base_model)
        history[name] = optim.train_steps(model.parameters(), batches,
                                          lambda batch: F.nll_loss(model(batch[0]), batch[1]), update_fn, **kwargs)
    return history


# Figures --------------------------------------------------------------------------------------


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
    plots.show()


def plot_class_filters(weight, side):
    """The rows of a linear classifier's weight matrix (n_classes, side*side) as side x side images."""
    weight = np.asarray(weight)
    fig, axs = plt.subplots(1, len(weight), figsize=(1.5 * len(weight), 2.2))
    for class_id, (ax, row) in enumerate(zip(axs, weight)):
        ax.imshow(row.reshape(side, side), cmap="gray_r")
        ax.set_title(f"Class {class_id}")
        ax.axis("off")
    plots.show()


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
    plots.show()


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
    plots.show()


def plot_overparam(losses, ylim=(0, 3)):
    """One loss curve per initialisation. losses: (num_inits, T)."""
    fig, ax = plt.subplots(figsize=(5, 4))
    for curve in np.atleast_2d(losses):
        ax.plot(curve)
    ax.set(xlabel="Iteration", ylabel="Loss", ylim=ylim)
    plots.show()


def plot_computation_times(num_points, times):
    """Forward and backward seconds against the number of examples. times: (len(num_points), 2)."""
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(num_points, times[:, 0], label="Forward")
    ax.plot(num_points, times[:, 1], label="Backward")
    ax.set(xlabel="Number of data points", ylabel="Seconds")
    ax.legend()
    plots.show()


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
    plots.show()


def plot_optimizer_comparison(history, ylim=(0, 2.5)):
    """Minibatch loss per iteration, one panel per optimizer. history: {name: (T,) losses}."""
    fig, axs = plt.subplots(1, len(history), figsize=(3.3 * len(history), 3))
    for ax, (name, losses) in zip(np.atleast_1d(axs), history.items()):
        ax.plot(losses, alpha=0.8)
        ax.set_title(name)
        ax.set(xlabel="Iteration", ylabel="Loss", ylim=ylim)
    fig.tight_layout()
    plots.show()


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


# Demos ----------------------------------------------------------------------------------------


def _run_once(fn, **controls):
    """A demo that redraws when its Run button is pressed, drawn once now with the default values."""
    return widgets.demo(fn, run_button=True, **controls)


def _hidden(text):
    return [int(s) for s in str(text).split(",") if s.strip()]


def momentum_widget(eval_fn, best, surface, gradient_update, momentum_update, inits=(2.5, 3.7)):
    """Gradient descent against momentum on a two-parameter loss, from `inits`.

    eval_fn(u, v): the loss; best: (2,) its minimiser; surface: (U, V, Z) grid for the 3-D plot;
    gradient_update, momentum_update: update functions (nnlib.optim interface).
    Sliders: steps, learning rate, beta. Shows the distance to the optimum per parameter and the
    trajectories on the surface.
    """
    labels, colors, styles = ["GD", "Momentum"], ["black", "red"], ["-", "--"]

    def show(max_steps, lr, beta):
        trajs = [optim.run_optimizer(list(inits), eval_fn, gradient_update, max_steps, {"lr": lr}),
                 optim.run_optimizer(list(inits), eval_fn, momentum_update, max_steps, {"lr": lr, "beta": beta})]
        plot_param_distance(best, trajs, labels, styles, use_log=True)
        plot_surface_trajectories(*surface, best, trajs, labels, colors)

    return _run_once(
        show,
        max_steps=w.IntSlider(value=100 if runtime.grading() else 300, min=50, max=500, step=5,
                              description="steps", continuous_update=False),
        lr=w.FloatLogSlider(value=1e-1, min=-3, max=0.7, step=0.1, description="lr", continuous_update=False),
        beta=w.FloatSlider(value=0.9, min=0.0, max=1.0, step=0.01, description="beta", continuous_update=False),
    )


def overparam_widget(X, y, gradient_update, in_dim, out_dim=10):
    """Full-batch training of several slightly perturbed copies of one MLP: how far apart do they end?

    X, y: the training data; gradient_update: update function; in_dim, out_dim: the MLP's sizes.
    """
    quick = runtime.grading()

    def show(max_steps, hidden_dims, lr, num_inits):
        base_model = models.MLP(in_dim=in_dim, out_dim=out_dim, hidden_dims=_hidden(hidden_dims))
        losses = overparam_runs(base_model, X, y, gradient_update, max_steps=max_steps, lr=lr,
                                num_inits=num_inits, progressbar=False)
        plot_overparam(losses)
        print(f"Number of parameters in the model: {models.parameter_count(base_model)}")

    torch.manual_seed(2021)
    return _run_once(
        show,
        max_steps=w.IntSlider(value=40 if quick else 150, min=20 if quick else 50, max=500, step=5,
                              description="steps", continuous_update=False),
        hidden_dims=w.Dropdown(options=["10", "20, 20", "100, 100"], value="10", description="hidden"),
        lr=w.FloatLogSlider(value=5e-2, min=-3, max=0, step=0.1, description="lr", continuous_update=False),
        num_inits=w.IntSlider(value=3 if quick else 7, min=3 if quick else 5, max=10, step=1,
                              description="inits", continuous_update=False),
    )


def computation_widget(X, y, in_dim, out_dim=10):
    """Seconds of a forward and a backward pass against the number of examples, for a few MLPs."""
    quick = runtime.grading()
    n = len(y)
    sizes = [k for k in (1, 5, 10, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000) if k < n] + [n]

    def show(hidden_dims):
        model = models.MLP(in_dim=in_dim, out_dim=out_dim, hidden_dims=_hidden(hidden_dims))
        times = computation_times(model, X, y, sizes, repeats=1 if quick else 5)
        plot_computation_times(sizes, times)

    return widgets.demo(show, hidden_dims=w.Dropdown(options=["1", "100", "50, 50"], value="100", description="hidden"))


def minibatch_widget(X, y, sample_minibatch, gradient_update, in_dim, out_dim=10):
    """SGD with several minibatch sizes, each for the same wall-clock budget (seconds).

    Text boxes: comma-separated batch sizes and learning rates; dropdown: the budget per batch
    size. While grading, every run gets 0.2 s whatever the dropdown says.
    """
    quick = runtime.grading()

    def show(batch_sizes, lrs, time_budget):
        sizes = _hidden(batch_sizes)
        rates = [float(s) for s in str(lrs).split(",") if s.strip()]
        if len(rates) != len(sizes):
            print(f"give one learning rate per batch size: {len(sizes)} sizes, {len(rates)} rates")
            return
        base_model = models.MLP(in_dim=in_dim, out_dim=out_dim, hidden_dims=[100, 100])
        budget = 0.2 if quick else float(time_budget)
        history = minibatch_runs(base_model, X, y, sample_minibatch, gradient_update, sizes, rates,
                                 budget, progressbar=False)
        plot_minibatch_runs(history)

    torch.manual_seed(2021)
    return _run_once(
        show,
        batch_sizes=w.Text(value="20, 250, 1000", description="batch sizes"),
        lrs=w.Text(value="5e-3, 5e-3, 5e-3", description="lrs"),
        time_budget=w.Dropdown(options=["2.5", "5", "10"], value="2.5", description="seconds"),
    )


def compare_optimizers_widget(X, y, sample_minibatch, gradient_update, momentum_update, rmsprop_update,
                              in_dim, out_dim=10):
    """SGD, momentum (beta 0.9) and RMSprop (alpha 0.8) on the same minibatches of an MLP [100, 100]."""
    quick = runtime.grading()

    def show(batch_size, lr, max_steps):
        optimizers = {
            "SGD": (gradient_update, {"lr": lr}),
            "Momentum": (momentum_update, {"lr": lr, "beta": 0.9}),
            "RMSprop": (rmsprop_update, {"lr": lr, "alpha": 0.8}),
        }
        base_model = models.MLP(in_dim=in_dim, out_dim=out_dim, hidden_dims=[100, 100])
        history = optimizer_runs(base_model, X, y, sample_minibatch, optimizers, batch_size, max_steps,
                                 progressbar=False)
        plot_optimizer_comparison(history)

    torch.manual_seed(2021)
    return _run_once(
        show,
        batch_size=w.IntSlider(value=135, min=25, max=250, step=5, description="batch size",
                               continuous_update=False),
        lr=w.FloatLogSlider(value=2e-3, min=-5, max=0, step=0.1, description="lr", continuous_update=False),
        max_steps=w.IntSlider(value=30 if quick else 275, min=30 if quick else 50, max=500, step=5,
                              description="steps", continuous_update=False),
    )
