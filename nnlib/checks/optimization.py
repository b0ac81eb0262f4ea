"""Checks for the assignment on optimization techniques (minibatches, momentum, RMSprop)."""

import numpy as np
import torch

from nnlib import seeding
from nnlib.checks import (Step, answer_key, call, expect_close, fail, is_remote, listed, neutral, optional, passed,
                          repeat, steps)
from nnlib.topics import optimization as topic

key = answer_key("optimization")

BONUS_THRESHOLDS = {"digits": (0.93, 0.97), "mnist": (0.95, 0.98)}   # test accuracy for 1 and 2 points


# ---- sample_minibatch -------------------------------------------------------------------------

def _coded_data(n, shape=(2, 2), dtype=torch.float32):
    """Inputs whose every value encodes its row (row i is filled with i) and targets y[i] = i."""
    X = torch.arange(n, dtype=dtype).reshape(n, *([1] * len(shape))).expand(n, *shape).contiguous()
    return X, torch.arange(n)


def _sample(fn, X, y, *num_points):
    __tracebackhide__ = True
    return _batch(call("sample_minibatch", fn, X, y, *num_points))


def _batch(out):
    """sample_minibatch's result checked to be (batch_inputs, batch_targets), two tensors."""
    __tracebackhide__ = True
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        fail(f"sample_minibatch should return two tensors (batch_inputs, batch_targets), got {type(out).__name__}")
    xb, yb = out
    if not (torch.is_tensor(xb) and torch.is_tensor(yb)):
        fail(f"sample_minibatch should return torch tensors, got {type(xb).__name__} and {type(yb).__name__}")
    return xb, yb


def _check_batch(xb, yb, X, y, k):
    """Shapes, real rows, and inputs and targets taken from the same rows."""
    __tracebackhide__ = True
    if tuple(xb.shape) != (k, *X.shape[1:]) or tuple(yb.shape) != (k,):
        fail(f"a minibatch of {k} from inputs of shape {tuple(X.shape)} and targets of shape {tuple(y.shape)}: "
             f"expected shapes {(k, *X.shape[1:])} and {(k,)}, got {tuple(xb.shape)} and {tuple(yb.shape)}")
    if yb.dtype != y.dtype or xb.dtype != X.dtype:
        fail(f"the minibatch should keep the data's dtypes ({X.dtype}, {y.dtype}), got {xb.dtype}, {yb.dtype}")
    rows = xb.reshape(k, -1)
    if not torch.all(rows == rows[:, :1]) or not torch.all((yb >= 0) & (yb < len(y))):
        fail("the minibatch holds values that are not whole rows of the data: index the first dimension only")
    if not torch.equal(rows[:, 0].long(), yb.long()):
        fail("inputs and targets of the minibatch come from different rows: "
             "use the same indices for both, or each image gets another image's label")


@neutral
def selfcheck_sample_minibatch(fn):
    """Shapes, the default size, input/target pairing, and that two calls differ."""
    __tracebackhide__ = True
    X, y = _coded_data(1000)
    with seeding.kept(4):
        xb, yb = _sample(fn, X, y, 100)
        _check_batch(xb, yb, X, y, 100)
        xd, yd = _sample(fn, X, y)
        _check_batch(xd, yd, X, y, 100)
        x5, y5 = _sample(fn, X, y, 5)
        _check_batch(x5, y5, X, y, 5)
    if torch.equal(yb, torch.arange(100)):
        fail("the minibatch is the first 100 rows: draw the indices at random from all rows")
    if torch.equal(yb, yd):
        fail("two calls returned the same minibatch: each call should draw new random indices")
    passed("minibatches have the right shapes and size, pair each input with its own target, and change between calls")


def grade_sample_minibatch(fn):
    """Seeded, so deterministic: shapes and pairing for several sizes and data shapes, and the
    frequency of every row over many calls (each row equally likely)."""
    __tracebackhide__ = True
    with seeding.kept(2021):
        for n, shape, k in ((1000, (2, 2), 1), (1000, (2, 2), 64), (500, (8, 8), 100), (300, (64,), 300)):
            X, y = _coded_data(n, shape)
            xb, yb = _sample(fn, X, y, k)
            _check_batch(xb, yb, X, y, k)
        X, y = _coded_data(60, (3,), dtype=torch.float64)
        draws = [_batch(out) for out in listed("sample_minibatch", call("sample_minibatch", repeat(fn), 100, X, y, 30), 100)]
        for xb, yb in draws[:5]:
            _check_batch(xb, yb, X, y, 30)
        counts = np.bincount(torch.cat([yb for _, yb in draws]).numpy(), minlength=60)
        distinct = len({tuple(yb.tolist()) for _, yb in draws})
    if distinct < 95:
        fail(f"100 calls gave only {distinct} different minibatches: draw new random indices on every call")
    # 3000 draws over 60 rows: about 50 each (std 7 drawn with replacement, less without); a row seen
    # fewer than 15 or more than 85 times (5 std) is not drawn uniformly.
    if counts.min() < 15 or counts.max() > 85:
        fail(f"over 100 minibatches of 30 from 60 rows, every row should be drawn about 50 times; got "
             f"between {counts.min()} and {counts.max()} (rows never drawn: {list(np.flatnonzero(counts == 0))[:8]}). "
             "Draw the indices uniformly from ALL rows of the data.")
    passed("sample_minibatch draws uniformly from all rows, with paired inputs and targets")


# ---- momentum and RMSprop: shared machinery ----------------------------------------------------

class _Loss:
    """A small smooth, non-quadratic loss of a (3, 4) weight and a (3,) bias, in float64, made
    from `seed`: loss(params) -> scalar tensor. The same seed gives the same loss wherever it is
    made (here, or in the grading kernel next to the student's update)."""

    def __init__(self, seed):
        g = torch.Generator().manual_seed(seed)
        self.seed = seed
        self.start = [torch.randn(3, 4, generator=g, dtype=torch.float64),
                      torch.randn(3, generator=g, dtype=torch.float64)]
        self.x = torch.randn(8, 4, generator=g, dtype=torch.float64)
        self.t = torch.randn(8, 3, generator=g, dtype=torch.float64)

    def __call__(self, params):
        W, b = params
        return torch.mean((torch.tanh(self.x @ W.T + b) - self.t) ** 2) + 0.05 * torch.sum(W ** 2)


def _problem(seed):
    """(initial [W (3, 4), b (3,)], loss) of the _Loss made from `seed`."""
    loss = _Loss(seed)
    return [p.clone() for p in loss.start], loss


def _run(update, what, params0, loss_fn, state0, n_steps, kwargs, stale_grads=True, student=True):
    """n_steps of update(loss, params, state, **kwargs); each call gets NEW lists holding the SAME
    tensors, so only state updated in place persists. Before each call the parameters carry a
    stale .grad (as after an earlier backward). -> [(params, state) after each step]."""
    __tracebackhide__ = True
    params = [p.clone().requires_grad_(True) for p in params0]
    state = [s.clone() for s in state0]
    stale = 3.0 if stale_grads else None
    run = steps(update, _Loss, loss_fn.seed)
    if student:
        record = listed(what, call(what, run, n_steps, params, state, stale_grad=stale, **kwargs), n_steps, Step)
    else:
        record = run(n_steps, params, state, stale_grad=stale, **kwargs)
    for number, step in enumerate(record, start=1):
        if not step.leaves:
            fail(f"after step {number} a parameter is no longer a leaf tensor that requires grad: "
                 "update the parameters without recording the update in autograd "
                 "(inside `with torch.no_grad():` or through `.data`)")
    return [(step.params, step.state[0]) for step in record]


def _compare(what, got, expected, state_name, rtol=1e-6, atol=1e-10, hint=""):
    __tracebackhide__ = True
    for step, ((gp, gs), (ep, es)) in enumerate(zip(got, expected), start=1):
        for i, (a, b) in enumerate(zip(gs, es)):
            expect_close(f"{what}: {state_name} tensor {i} (shape {tuple(b.shape)}) after step {step}",
                         a.numpy(), b.numpy(), rtol=rtol, atol=atol, hint=hint)
        for i, (a, b) in enumerate(zip(gp, ep)):
            expect_close(f"{what}: parameter {i} (shape {tuple(b.shape)}) after step {step}",
                         a.numpy(), b.numpy(), rtol=rtol, atol=atol, hint=hint)


def _grads(params0, loss_fn):
    params = [p.clone().requires_grad_(True) for p in params0]
    return torch.autograd.grad(loss_fn(params), params)


def _state_in_place(what, fn, params0, loss_fn, kwargs, state_name):
    """One step from zero state: the caller's state tensors must have changed."""
    __tracebackhide__ = True
    zero = [torch.zeros_like(p) for p in params0]
    (_, state), = _run(fn, what, params0, loss_fn, zero, 1, kwargs)
    if all(torch.all(s == 0) for s in state):
        fail(f"after one step the {state_name} tensors passed in are still zero: update them IN PLACE "
             f"(e.g. `{state_name[0]}.data = ...`, `{state_name[0]}.copy_(...)`, `{state_name[0]} *= ...`); "
             "assigning to a loop variable or a list element creates a new tensor the caller never sees")


def _against_torch(fn, what, seed, kw, label, make_optimizer, steps=6, rtol=1e-6, atol=1e-10):
    """`steps` calls of the student's `fn` from zero state against a torch.optim optimizer, step by step."""
    __tracebackhide__ = True
    params0, loss_fn = _problem(seed)
    got = _run(fn, what, params0, loss_fn, [torch.zeros_like(p) for p in params0], steps, kw)
    params = [p.clone().requires_grad_(True) for p in params0]
    optimizer = make_optimizer(params)
    for step in range(steps):
        optimizer.zero_grad()
        loss_fn(params).backward()
        optimizer.step()
        for i, p in enumerate(params):
            expect_close(f"parameter {i} after step {step + 1}, against torch.optim.{label}",
                         got[step][0][i].numpy(), p.detach().numpy(), rtol=rtol, atol=atol)


def _stale_grad_check(what, fn, params0, loss_fn, state0, kwargs):
    __tracebackhide__ = True
    clean = _run(fn, what, params0, loss_fn, state0, 1, kwargs, stale_grads=False)
    stale = _run(fn, what, params0, loss_fn, state0, 1, kwargs, stale_grads=True)
    if not torch.allclose(clean[0][0][0], stale[0][0][0]):
        fail(f"{what} moves the parameters differently when their .grad still holds an earlier gradient: "
             "zero the gradients before calling loss.backward(), or the old gradients add up")


def _first_step(update, name, seed, kw, state):
    """Shared opening of a stateful self-check: state updated in place, fresh gradients, one step
    from zero state. Returns (params0, loss_fn, zero state, (params, state) after it, gradients)."""
    __tracebackhide__ = True
    params0, loss_fn = _problem(seed)
    _state_in_place(name, update, params0, loss_fn, kw, state)
    zero = [torch.zeros_like(p) for p in params0]
    _stale_grad_check(name, update, params0, loss_fn, zero, kw)
    (first,) = _run(update, name, params0, loss_fn, zero, 1, kw)
    return params0, loss_fn, zero, first, _grads(params0, loss_fn)


# ---- momentum ---------------------------------------------------------------------------------

@neutral
def selfcheck_momentum(momentum_update):
    """In-place velocities, zeroed gradients, a plain gradient step from zero velocity, and the
    velocity's memory on the second step."""
    __tracebackhide__ = True
    kw = {"lr": 0.1, "beta": 0.9}
    params0, loss_fn, zero, (p1, v1), g = _first_step(momentum_update, "momentum_update", 7, kw, "vel")
    expect_close("parameters after one step from zero velocity", p1[0].numpy(), (params0[0] - 0.1 * g[0]).numpy(),
                 hint="From zero velocity the first momentum step is a plain gradient-descent step, w - lr * grad.")
    expect_close("velocity after one step from zero velocity", v1[0].numpy(), (-0.1 * g[0]).numpy(),
                 hint="The velocity is the step just taken: w_{t+1} - w_t.")
    two = _run(momentum_update, "momentum_update", params0, loss_fn, zero, 2, kw)
    step2 = two[1][0][0] - two[0][0][0]
    if torch.allclose(step2, two[0][1][0] * 0 - 0.1 * _grads(two[0][0], loss_fn)[0]):
        fail("the second step ignores the previous velocity: momentum adds beta times the last velocity")
    passed("velocities are updated in place, gradients are fresh, and steps carry momentum")


def grade_momentum(momentum_update):
    """Several consecutive steps against the reference (state persisting across calls, stale
    gradients present), the default hyper-parameters, and torch.optim.SGD with momentum."""
    __tracebackhide__ = True
    for seed, kw, steps in ((11, {"lr": 0.1, "beta": 0.9}, 5), (12, {"lr": 0.03, "beta": 0.5}, 4), (13, {}, 3)):
        params0, loss_fn = _problem(seed)
        g = torch.Generator().manual_seed(seed + 100)
        vel0 = [0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype) for p in params0]
        got = _run(momentum_update, "momentum_update", params0, loss_fn, vel0, steps, kw)
        expected = _run(key.momentum_update, "reference", params0, loss_fn, vel0, steps, kw, student=False)
        _compare(f"momentum_update with {kw or 'default lr and beta'}", got, expected, "velocity",
                 hint="v <- -lr * grad + beta * v, then w <- w + v, on gradients of THIS loss only.")
    # torch.optim.SGD keeps b <- beta * b + grad and steps w <- w - lr * b: from zero, v = -lr * b.
    _against_torch(momentum_update, "momentum_update", 14, {"lr": 0.05, "beta": 0.8}, "SGD(momentum=0.8)",
                   lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8), rtol=1e-6, atol=1e-10)
    passed("momentum_update matches the reference over consecutive steps and torch.optim.SGD with momentum")


# ---- RMSprop ----------------------------------------------------------------------------------

@neutral
def selfcheck_rmsprop(rmsprop_update):
    """In-place averages, zeroed gradients, the first step from a zero average."""
    __tracebackhide__ = True
    kw = {"lr": 0.01, "alpha": 0.8}
    params0, _, _, (p1, s1), g = _first_step(rmsprop_update, "rmsprop_update", 8, kw, "gsq")
    expect_close("moving average after one step from zero", s1[1].numpy(), (0.2 * g[1] ** 2).numpy(),
                 hint="From zero, the average after one step is (1 - alpha) times the squared gradient.")
    moved = (params0[1] - p1[1]).numpy()
    expected = 0.01 / np.sqrt(0.2) * np.sign(g[1].numpy())
    expect_close("the first step from a zero average", moved, expected, rtol=2e-2,
                 hint="From a zero average every parameter moves by about lr / sqrt(1 - alpha), "
                      "AGAINST the sign of its gradient, whatever the gradient's size.")
    passed("averages are updated in place, gradients are fresh, and the first step is normalised")


def grade_rmsprop(rmsprop_update):
    """Several consecutive steps against the reference (state persisting across calls, stale
    gradients present), the defaults, and torch.optim.RMSprop (epsilon outside the root there)."""
    __tracebackhide__ = True
    for seed, kw, steps in ((21, {"lr": 0.01, "alpha": 0.8}, 5), (22, {"lr": 0.003, "alpha": 0.9}, 4),
                            (23, {}, 3), (24, {"lr": 0.01, "alpha": 0.7, "epsilon": 1e-8}, 3)):
        params0, loss_fn = _problem(seed)
        g = torch.Generator().manual_seed(seed + 100)
        sq0 = [0.01 * torch.rand(p.shape, generator=g, dtype=p.dtype) for p in params0]
        got = _run(rmsprop_update, "rmsprop_update", params0, loss_fn, sq0, steps, kw)
        expected = _run(key.rmsprop_update, "reference", params0, loss_fn, sq0, steps, kw, student=False)
        _compare(f"rmsprop_update with {kw or 'default lr, alpha and epsilon'}", got, expected, "squared-gradient average",
                 rtol=1e-5, atol=1e-9,
                 hint="v <- alpha * v + (1 - alpha) * grad**2, then w <- w - lr * grad / sqrt(v + epsilon).")
    _against_torch(rmsprop_update, "rmsprop_update", 25, {"lr": 0.01, "alpha": 0.9}, "RMSprop(alpha=0.9)",
                   lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-8), rtol=1e-4, atol=1e-6)
    passed("rmsprop_update matches the reference over consecutive steps and torch.optim.RMSprop")


# ---- bonus: beat the benchmark ----------------------------------------------------------------

def _held_out_digits(dataset_name):
    """The test images that topic.handwritten_digits keeps out of the notebook: X (N, in_dim), y (N,)."""
    X_train, y_train, X_test, y_test = topic._all_digits(dataset_name)
    n = topic._visible_test_size(len(y_test))
    return X_test[n:], y_test[n:]


def _accuracy(my_model, dataset_name, X, y):
    """Accuracy of the student's model on (X, y), after checking it maps images to 10 scores."""
    __tracebackhide__ = True
    if dataset_name not in BONUS_THRESHOLDS:
        fail(f"unknown data set {dataset_name!r}: expected one of {sorted(BONUS_THRESHOLDS)}")
    if not (isinstance(my_model, torch.nn.Module)
            or is_remote(my_model) and my_model.judge_isinstance("torch.nn:Module")):
        fail(f"my_model should be a torch model (nn.Module), got {type(my_model).__name__}")
    out = call("my_model", my_model, X[:2])
    if not (torch.is_tensor(out) and tuple(out.shape) == (2, 10)):
        fail(f"my_model should map a batch of {X.shape[1]}-pixel images to 10 class scores per image, "
             f"got {getattr(out, 'shape', type(out).__name__)} for 2 images")
    _, acc = call("evaluating my_model", topic.evaluate, my_model, X, y)
    return acc


@neutral
@optional
def selfcheck_bonus(my_model, dataset_name="digits"):
    """Report the accuracy on the notebook's test images and the thresholds (the bonus is optional).

    my_model: the student's model, or None when the notebook does not define `my_model`.
    """
    __tracebackhide__ = True
    if my_model is None:
        fail("my_model is not defined: the bonus is left out (it costs nothing)")
    if dataset_name not in BONUS_THRESHOLDS:
        fail(f"unknown data set {dataset_name!r}: expected one of {sorted(BONUS_THRESHOLDS)}")
    dataset = topic.handwritten_digits(dataset_name)
    acc = _accuracy(my_model, dataset_name, dataset.X_test, dataset.y_test)
    low, high = BONUS_THRESHOLDS[dataset_name]
    print(f"accuracy on this notebook's test images: {100 * acc:.2f}%. The hidden test scores images held "
          f"out from this notebook: 1 point from {100 * low:.0f}%, 2 points from {100 * high:.0f}%")


def grade_bonus(my_model, dataset_name="digits"):
    """Points for the accuracy on digits held out of the notebook: 1 from the low threshold, 2 from the high."""
    __tracebackhide__ = True
    if dataset_name not in BONUS_THRESHOLDS:
        fail(f"unknown data set {dataset_name!r}: expected one of {sorted(BONUS_THRESHOLDS)}")
    X, y = _held_out_digits(dataset_name)
    acc = _accuracy(my_model, dataset_name, X, y)
    low, high = BONUS_THRESHOLDS[dataset_name]
    return 2.0 if acc >= high else 1.0 if acc >= low else 0.0
