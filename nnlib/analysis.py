"""Quantities computed from models and training runs."""

import contextlib
import dataclasses
import math

import numpy as np
import torch

from nnlib import data, models, optim, seeding


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
    `threshold`) within `n_epochs` of gradient descent on `data.deep_narrow_data(seed)`.

    The widget (`widgets.InterPlay`), its demos and the check (`checks.hyperparameters`) read it
    from `REGISTRATION`, so they cannot disagree.
    """

    depths: tuple = (10, 20, 30, 40, 50, 60)
    init_weight: float = 0.9
    n_epochs: int = 600
    threshold: float = 1e-2
    seed: int = 2021

    def data(self, seed=None):
        """The registration's data set: x, y of shape (100,) (seed: None for the contract's)."""
        return data.deep_narrow_data(self.seed if seed is None else seed)

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


def train_deep_narrow(depth, lr, init_weight, x, y, n_epochs=REGISTRATION.n_epochs):
    """Train a DeepNarrowLNN of `depth` weights all set to `init_weight`; -> (n_epochs,) losses."""
    net = models.DeepNarrowLNN(np.full((1, depth), float(init_weight)))
    return net.train(x, y, lr, n_epochs)


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
    model = models.LNNet(inputs.size(1), hidden, targets.size(1))
    # N(0, (gamma / sqrt(n_in + n_out))^2), the course's small start
    models.normal_weights_(model, lambda fan_in, fan_out: gamma / math.sqrt(fan_out + fan_in))
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
    import torch.nn.functional as F

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
    import torch.nn.functional as F

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
    import time

    import torch.nn.functional as F

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
    import torch.nn.functional as F

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


def overparam_runs(base_model, X, y, update_fn, max_steps=150, lr=5e-2, num_inits=7, noise_scale=2e-1,
                   progressbar=True):
    """Full-batch training of num_inits perturbed copies of base_model -> (num_inits, max_steps) losses.

    Each copy gets models.random_update(copy, noise_scale) (torch's global RNG), then max_steps
    steps of update_fn(loss, params, lr=lr) on (X, y).
    """
    import copy
    import itertools

    import torch.nn.functional as F
    from tqdm.auto import tqdm

    losses = np.zeros((num_inits, max_steps))
    for i in tqdm(range(num_inits), disable=not progressbar, desc="initialisations"):
        model = copy.deepcopy(base_model)
        models.random_update(model, noise_scale=noise_scale)
        losses[i] = optim.train_steps(model.parameters(), itertools.repeat((X, y), max_steps),
                                      lambda batch: F.nll_loss(model(batch[0]), batch[1]), update_fn, lr=lr)
    return losses


def minibatch_runs(base_model, X, y, sampler, update_fn, batch_sizes, lrs, time_budget, progressbar=True):
    """Train a copy of base_model per batch size for time_budget seconds each.

    sampler(X, y, batch_size) -> minibatch; update_fn(loss, params, lr=...). The clock stops before
    a step that would start after the budget. Returns {batch_size: (T, 2) array of
    (seconds since start, minibatch loss)}.
    """
    import copy
    import time

    import torch.nn.functional as F
    from tqdm.auto import tqdm

    history = {}
    for batch_size, lr in tqdm(list(zip(batch_sizes, lrs)), disable=not progressbar, desc="batch sizes"):
        model = copy.deepcopy(base_model)
        params = list(model.parameters())
        log = []
        start = time.perf_counter()
        while time.perf_counter() - start < time_budget:
            data, labels = sampler(X, y, batch_size)
            loss = F.nll_loss(model(data), labels)
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
    import copy

    import torch.nn.functional as F
    from tqdm.auto import tqdm

    batches = [sampler(X, y, batch_size) for _ in range(max_steps)]
    history = {}
    for name, (update_fn, kwargs) in tqdm(list(optimizers.items()), disable=not progressbar, desc="optimizers"):
        model = copy.deepcopy(base_model)
        history[name] = optim.train_steps(model.parameters(), batches,
                                          lambda batch: F.nll_loss(model(batch[0]), batch[1]), update_fn, **kwargs)
    return history


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
