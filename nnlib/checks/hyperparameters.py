"""Checks for the assignment on learning hyperparameters (shallow and deep narrow linear nets)."""

import functools

import numpy as np

from nnlib import gradcheck
from nnlib.checks import (answer_key, beside, call, expect_close, expect_scalar, fail, neutral, passed, rng,
                          small_number, swap_global)
from nnlib.checks import defined  # noqa: F401 (the notebook's test cells call check.defined)
from nnlib.topics import hyperparameters as topic

key = answer_key("hyperparameters")

DEPTHS = topic.REGISTRATION.depths
POINTS_PER_DEPTH = 0.5


# ---- loss ------------------------------------------------------------------------------------

@neutral
def selfcheck_loss(loss):
    """Properties of the mean squared error, without its formula."""
    __tracebackhide__ = True
    y = np.array([0.5, -1.0, 2.0, 3.0])
    perfect = expect_scalar("loss(y, y)", call("loss", loss, y.copy(), y.copy()))
    if abs(perfect) > 1e-12:
        fail(f"a perfect prediction should have zero loss, got {perfect}")
    p = y + np.array([1.0, -1.0, 0.5, 0.0])
    base = expect_scalar("loss", call("loss", loss, p, y))
    if base <= 0:
        fail(f"the loss of an imperfect prediction should be positive, got {base}")
    doubled = expect_scalar("loss", call("loss", loss, np.tile(p, 2), np.tile(y, 2)))
    if not np.isclose(doubled, base):
        fail("repeating the whole data set twice changed the loss "
             f"({base:.4g} -> {doubled:.4g}): a mean does not grow with the number of samples")
    scaled = expect_scalar("loss", call("loss", loss, y + 2 * (p - y), y))
    if not np.isclose(scaled, 4 * base):
        fail(f"doubling every error should multiply a squared error by 4; it went {base:.4g} -> {scaled:.4g}")
    passed("loss is zero for a perfect fit, a mean, and quadratic in the error")


def grade_loss(loss):
    """Compare `loss` with the reference mean squared error on random inputs."""
    __tracebackhide__ = True
    r = rng(101)
    for n in (1, 7, 50):
        y_pred, y_true = r.normal(size=n), r.normal(size=n)
        got = call("loss", loss, y_pred.copy(), y_true.copy())
        expect_close(f"loss of {n} random samples", expect_scalar("loss", got), key.mse(y_pred, y_true),
                     hint="The mean squared error is the mean over samples of (y_true - y_prediction)**2.")
    passed("loss matches the mean squared error on random inputs")


# ---- ShallowNarrowExercise --------------------------------------------------------------------

def _random_case(seed, n=20):
    r = rng(seed)
    w = list(r.uniform(-1.5, 1.5, size=2))
    x = r.uniform(0, 1, size=n)
    y = 2.0 * x + r.normal(scale=0.2, size=n)
    return w, x, y


def _make(cls, w):
    return call(f"{getattr(cls, '__name__', 'the class')}({w})", cls, list(w))


@neutral
def selfcheck_forward(cls):
    """forward on weights whose product is known, without the formula."""
    __tracebackhide__ = True
    x = np.linspace(0, 1, 5)
    expect_close("forward(x) with w1 = w2 = 1", call("forward", _make(cls, [1.0, 1.0]).forward, x), x,
                 hint="With both weights equal to 1 the net is the identity.")
    out = call("forward", _make(cls, [2.0, -0.5]).forward, x)
    expect_close("forward(x) with w1 = 2, w2 = -0.5", out, -x,
                 hint="The output is the input scaled by each weight in turn.")
    passed("forward behaves as a product of the input and the two weights")


@neutral
def selfcheck_dloss_dw(cls):
    """dloss_dw against centred finite differences of the mean squared error (relative error printed)."""
    __tracebackhide__ = True
    w, x, y = [0.7, -1.2], np.linspace(0, 1, 9), 1.5 * np.linspace(0, 1, 9)
    got = call("dloss_dw", _make(cls, w).dloss_dw, x, y)
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"dloss_dw should return two numbers (dloss_dw1, dloss_dw2), got {got!r}")
    got = np.array([expect_scalar("dloss_dw1", got[0]), expect_scalar("dloss_dw2", got[1])])
    numeric = gradcheck.gradient(lambda v: np.mean((y - v[0] * v[1] * x) ** 2), w)
    rel = gradcheck.relative_error(got, numeric)
    # A right answer is off by round-off only (about 1e-11 here).
    print(f"relative error against centred differences: {small_number(rel, 1e-8)}")
    if rel > 1e-5:
        fail(f"dloss_dw disagrees with a numerical estimate of the gradient of the mean squared error "
             f"(relative error {rel:.2e}; a right answer gives below 1e-5). Check the factor from the "
             "square, the sign, and that you take a mean over samples.")
    passed("dloss_dw agrees with centred finite differences")


def _train_alone(cls):
    """Let only the update step of `cls.train` be the student's: the notebook's `loss` is a plain
    mean squared error while inside (put back after), and `_wire` gives an instance exact forward
    and gradient methods. A mistake elsewhere is not counted twice."""
    return swap_global(cls.train, "loss", _plain_mse)


def _wired(net):
    """`net` (made by the student's class) with exact forward and dloss_dw methods."""
    net.forward = lambda x_: x_ * net.w1 * net.w2
    net.dloss_dw = lambda x_, y_: _plain_grad(net.w1, net.w2, x_, y_)
    return net


def _wire(cls, w):
    """An instance of the student's class with weights `w`, wired by `_wired` where it lives."""
    return beside(cls, _wired, _make(cls, w))


@neutral
def selfcheck_train(cls):
    """train returns records of the right shape and lowers the loss."""
    __tracebackhide__ = True
    x = np.linspace(0, 1, 10)
    net = _wire(cls, [0.5, 0.5])
    with _train_alone(cls):
        result = call("train", net.train, x, 2 * x, 0.1, 30)
    losses, weights = (np.asarray(r, dtype=float) for r in result)
    if weights.shape != (30, 2) or losses.shape != (30,):
        fail(f"train should return losses of shape (30,) and weights of shape (30, 2), got {losses.shape}, {weights.shape}")
    if not losses[-1] < losses[0]:
        fail(f"30 steps of gradient descent should lower the loss, it went {losses[0]:.4g} -> {losses[-1]:.4g}")
    if np.any(weights[-1] == 0.5):
        fail(f"both weights should move during training; they ended at {weights[-1]}")
    passed("train lowers the loss and moves both weights")


def grade_forward(cls):
    """forward(x) against x * w1 * w2 for random weights and inputs."""
    __tracebackhide__ = True
    for seed in (11, 12):
        w, x, _ = _random_case(seed)
        net = _make(cls, w)
        expect_close(f"forward(x) with w1, w2 = {w[0]:.3f}, {w[1]:.3f}", call("forward", net.forward, x.copy()),
                     key.ShallowNarrowLNN(w).forward(x))
    passed("forward matches x * w1 * w2")


def grade_dloss_dw(cls):
    """dloss_dw against the analytical gradient of the mean squared error."""
    __tracebackhide__ = True
    for seed in (21, 22, 23):
        w, x, y = _random_case(seed, n=10 + seed)
        net = _make(cls, w)
        got = call("dloss_dw", net.dloss_dw, x.copy(), y.copy())
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            fail(f"dloss_dw should return (dloss_dw1, dloss_dw2), got {got!r}")
        expected = key.ShallowNarrowLNN(w).dloss_dw(x, y)
        expect_close(f"(dloss_dw1, dloss_dw2) at w = ({w[0]:.3f}, {w[1]:.3f}) on {len(x)} samples",
                     [expect_scalar("dloss_dw1", got[0]), expect_scalar("dloss_dw2", got[1])], expected,
                     hint="Differentiate the MEAN of (y - w1 w2 x)**2 with respect to each weight.")
    passed("dloss_dw matches the analytical gradient of the mean squared error")


def grade_train(cls):
    """train's weight updates, with the reference forward, gradient and loss plugged in.

    Only the update step is the student's here, so a mistake in forward, dloss_dw or loss is not
    counted a second time.
    """
    __tracebackhide__ = True

    ref = key.ShallowNarrowLNN
    with _train_alone(cls):
        for seed, lr, n_ep in ((31, 0.05, 25), (32, 0.2, 10)):
            w, x, y = _random_case(seed)
            net = _wire(cls, w)
            result = call("train", net.train, x.copy(), y.copy(), lr, n_ep)
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                fail(f"train should return (loss_records, weight_records), got {type(result).__name__}")
            expected_losses, expected_weights = ref(w).train(x, y, lr, n_ep)
            expect_close(f"weights after each of {n_ep} steps with lr={lr}", result[1], expected_weights,
                         hint="Each step moves BOTH weights against their gradient: w <- w - lr * dloss_dw, "
                              "using gradients computed before either weight changes.")
            expect_close("loss records", result[0], expected_losses)
    passed("train performs gradient descent on both weights")


def _plain_mse(y_prediction, y_true):
    return float(np.mean((y_true - y_prediction) ** 2))


def _plain_grad(w1, w2, x, y):
    error = y - w1 * w2 * x
    return float(-np.mean(2 * w2 * x * error)), float(-np.mean(2 * w1 * x * error))


# ---- depth vs learning rate -------------------------------------------------------------------

def _as_rates(registered_lrs):
    __tracebackhide__ = True
    if isinstance(registered_lrs, dict):
        keys = {int(k) for k in registered_lrs}
        missing = [d for d in DEPTHS if d not in keys]
        if missing:
            fail(f"registered_lrs has no learning rate for depth(s) {missing}; it needs one for each of {list(DEPTHS)}")
        rates = {d: registered_lrs.get(d, registered_lrs.get(str(d))) for d in DEPTHS}
    else:
        values = list(np.ravel(np.asarray(registered_lrs, dtype=object)))
        if len(values) != len(DEPTHS):
            fail(f"registered_lrs should give one learning rate per depth {list(DEPTHS)}, got {len(values)} values")
        rates = dict(zip(DEPTHS, values))
    for d, lr in rates.items():
        try:
            lr = float(lr)
        except (TypeError, ValueError):
            fail(f"the learning rate for depth {d} should be a number, got {lr!r}")
        if not (np.isfinite(lr) and lr > 0):
            fail(f"the learning rate for depth {d} should be a positive number, got {lr!r}")
        rates[d] = lr
    return rates


@functools.lru_cache(maxsize=4096)
def _converged_epoch(depth, lr, seed):
    """The epoch from which the course's deep narrow net of `depth` trained at `lr` under
    topic.REGISTRATION (its data for `seed`) converges, or None. Nothing of the student's goes
    in, so a grading worker computes it once per (depth, lr, seed) for the whole class: the
    self-check and the hidden test, and students who register the same rates."""
    contract = topic.REGISTRATION
    x, y = contract.data(seed)
    with np.errstate(all="ignore"):
        losses = contract.losses(depth, lr, x, y)
    return contract.converged(losses)


def registration_report(registered_lrs, seed=None):
    """Train each depth with its registered rate under topic.REGISTRATION (seed: None for its
    data set); -> dict depth -> (lr, converged epoch or None)."""
    __tracebackhide__ = True
    return {depth: (lr, _converged_epoch(depth, lr, seed)) for depth, lr in _as_rates(registered_lrs).items()}


def _print_report(report):
    for depth, (lr, epoch) in report.items():
        verdict = f"converges from epoch {epoch}" if epoch is not None else f"does NOT converge in {topic.REGISTRATION.n_epochs} epochs"
        print(f"  depth {depth:2d}, lr {lr:.4g}: {verdict}")


@neutral
def selfcheck_registration(registered_lrs):
    """Say, depth by depth, whether the registered learning rate makes the net converge.

    Fails only on a malformed answer; non-convergence is reported, and costs points at grading.
    """
    __tracebackhide__ = True
    report = registration_report(registered_lrs)
    _print_report(report)
    bad = [d for d, (_, e) in report.items() if e is None]
    if bad:
        print(f"no convergence at depth(s) {bad}: look for a smaller learning rate there")
    else:
        passed("every registered learning rate converges")


def grade_registration(registered_lrs):
    """Points: POINTS_PER_DEPTH for each depth whose registered rate converges (the cell's value)."""
    __tracebackhide__ = True
    report = registration_report(registered_lrs)
    _print_report(report)
    return POINTS_PER_DEPTH * sum(e is not None for _, e in report.values())
