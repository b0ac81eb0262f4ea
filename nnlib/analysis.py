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


# ---- optimization of digit classifiers (optimization assignment) -------------------------------

def loss_2d(model, u, v, X, y, mask_idx=(0, 378), bias_id=7):
    """Loss of a linear MLP with all parameters frozen except one weight and one bias.

    model: MLP without hidden layers (main[0] is its nn.Linear); u: replaces the weight at
    mask_idx = (class, pixel) of the weight matrix; v: replaces the bias of class bias_id;
    X: (N, in_dim) inputs, y: (N,) labels. u and v are floats or tensors of one shape S
    (gradients flow through them); the result is the mean negative log-likelihood, shape S.
    Computed in the dtype of X.
    """
    import torch

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
    import torch

    U, V = np.meshgrid(us, vs)
    with torch.no_grad():
        Z = fn(torch.from_numpy(U), torch.from_numpy(V))
    return U, V, np.asarray(Z, dtype=float)


def newton_optimum(fn, init=(0.0, 0.0), max_iter=50, tol=1e-12):
    """Minimiser of a smooth convex fn(u, v) by Newton's method: w <- w - H^{-1} grad.

    fn: callable on two 0-d float64 tensors; returns (u*, v*) as a (2,) numpy array.
    Stops when the step is shorter than tol.
    """
    import torch

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
    import torch
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

    import torch.nn.functional as F
    from tqdm.auto import tqdm

    from nnlib import models

    losses = np.zeros((num_inits, max_steps))
    for i in tqdm(range(num_inits), disable=not progressbar, desc="initialisations"):
        model = copy.deepcopy(base_model)
        models.random_update(model, noise_scale=noise_scale)
        params = list(model.parameters())
        for step in range(max_steps):
            loss = F.nll_loss(model(X), y)
            update_fn(loss, params, lr=lr)
            losses[i, step] = loss.item()
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

    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    from nnlib import optim

    batches = [sampler(X, y, batch_size) for _ in range(max_steps)]
    history = {}
    for name, (update_fn, kwargs) in tqdm(list(optimizers.items()), disable=not progressbar, desc="optimizers"):
        model = copy.deepcopy(base_model)
        params = list(model.parameters())
        state = [[torch.zeros_like(p) for p in params] for _ in range(optim.n_state(update_fn))]
        losses = np.zeros(max_steps)
        for step, (data, labels) in enumerate(batches):
            loss = F.nll_loss(model(data), labels)
            update_fn(loss, params, *state, **kwargs)
            losses[step] = loss.item()
        history[name] = losses
    return history
