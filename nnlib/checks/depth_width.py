"""Checks for the assignment on depth versus width (teacher-student fitting of deep tanh nets).

Every check keeps the global random generators (numpy and torch) as it found them, so that a
notebook draws the same numbers whether or not the checks ran, and sends anything a student's
code prints on stderr (progress bars) to nowhere: nbgrader scores a test cell with stderr zero.
"""

import contextlib
import io
import math

import numpy as np

from nnlib import arrays, models, seeding
from nnlib.checks import (answer_key, beside, call, expect_close, expect_scalar, fail, neutral, passed,
                          seed_torch, to_array)

key = answer_key("depth_width")

SEED_FIRST_WEIGHT = 0.609                 # make_MLP(10, 3, 2), set_seed(42), sigma 1: first weight
SEED_FIRST_INPUT = 1.927                  # set_seed(42), make_data(net, 10, n): X[0][0]
SEED_TEACHER_INPUT = 0.19076240062713623  # the teacher set-up: X_test[0][0]
# torch's normal sampler has a vectorised path (AVX2 and up) and a plain one whose float32 results
# differ in the last bits, so the course's X_test[0][0] is matched up to this distance.
SEED_TEACHER_TOLERANCE = 1e-6
QUASI_FACTOR = 1.5   # quasi-linear error at least this many times below the best chaotic (the course: 1.8)


@contextlib.contextmanager
def _quiet_and_same_rng():
    """Restore numpy's and torch's generators afterwards; swallow stderr (progress bars)."""
    with seeding.kept(generators=("numpy", "torch")), contextlib.redirect_stderr(io.StringIO()):
        yield


def _tensor(what, value, shape=None):
    """`value` must be a float torch tensor (of `shape`, if given)."""
    __tracebackhide__ = True
    import torch

    if not isinstance(value, torch.Tensor):
        fail(f"{what} should be a torch tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        fail(f"{what} should hold floating-point numbers, got dtype {value.dtype}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(f"{what} should have shape {tuple(shape)}, got {tuple(value.shape)}")
    return value


def _std_and_kurtosis(values):
    v = np.asarray(values, dtype=float).ravel()
    mean, std = v.mean(), v.std()
    return mean, std, float(np.mean(((v - mean) / std) ** 4) - 3.0)


# ---- Exercise 1: get_num_params -------------------------------------------------------------------

def _count(n_in, W, D):
    return models.parameter_count(models.make_MLP(n_in, W, D))


def _as_int(what, value):
    __tracebackhide__ = True
    number = expect_scalar(what, value)
    if number != round(number):
        fail(f"{what} should be a whole number of parameters, got {number}")
    return int(round(number))


@neutral
def selfcheck_get_num_params(get_num_params):
    """The course's visible value and one property, without the formula."""
    __tracebackhide__ = True
    got = _as_int("get_num_params(10, 3, 2)", call("get_num_params", get_num_params, 10, 3, 2))
    if got != 33:
        fail(f"get_num_params(10, 3, 2) should be 33 (a net 10 -> 3 -> 1 without biases), got {got}")
    deeper = _as_int("get_num_params(10, 3, 3)", call("get_num_params", get_num_params, 10, 3, 3))
    if deeper - got != 9:
        fail(f"one more hidden layer of width 3 should add 3 x 3 = 9 weights: expected "
             f"get_num_params(10, 3, 3) - get_num_params(10, 3, 2) = 9, got {deeper - got}")
    passed("get_num_params(10, 3, 2) == 33, and a hidden layer adds W**2 weights")


def grade_get_num_params(get_num_params):
    """Against the number of weights of nets that make_MLP builds, for random sizes."""
    __tracebackhide__ = True
    r = np.random.default_rng(301)
    cases = [(1, 1, 2), (5, 5, 5), (2, 100, 20)] + [tuple(int(v) for v in (r.integers(1, 30), r.integers(1, 60),
                                                                          r.integers(2, 9))) for _ in range(5)]
    for n_in, W, D in cases:
        got = _as_int(f"get_num_params({n_in}, {W}, {D})", call("get_num_params", get_num_params, n_in, W, D))
        expected = _count(n_in, W, D)
        if got != expected:
            fail(f"get_num_params({n_in}, {W}, {D}): expected {expected} (the weights of "
                 f"make_MLP({n_in}, {W}, {D})), got {got}. Depth D has D - 1 hidden layers, "
                 "the first fed by the input, and one output unit; there are no biases.")
    passed("get_num_params counts the weights of make_MLP for every size tried")


# ---- Exercise 2: initialize_layers ----------------------------------------------------------------

def _initialised(initialize_layers, net, sigma, seed):
    """Run the student's initialize_layers on `net` under fixed seeds; -> list of weight arrays."""
    __tracebackhide__ = True
    import torch

    with _quiet_and_same_rng():
        torch.manual_seed(seed)
        np.random.seed(seed)
        before = [p.detach().clone() for p in net.parameters()]
        call("initialize_layers", initialize_layers, net, sigma)
    after = list(net.parameters())
    if len(after) != len(before):
        fail(f"initialize_layers changed the number of weight matrices ({len(before)} -> {len(after)})")
    for i, (p, old) in enumerate(zip(after, before)):
        if not isinstance(p, torch.Tensor) or tuple(p.shape) != tuple(old.shape):
            fail(f"weight matrix {i} changed shape or type")
        if not p.requires_grad:
            fail(f"weight matrix {i} no longer requires a gradient after initialize_layers: "
                 "the network could not be trained")
        if torch.equal(p.detach(), old):
            fail(f"weight matrix {i} of shape {tuple(p.shape)} was not changed: initialize_layers must "
                 "redraw every weight of the network it is given, in place (it returns nothing)")
    return [p.detach().numpy().astype(float) for p in after]


def _check_layer(i, w, sigma, tol_sigmas=5.0, kurtosis=True):
    __tracebackhide__ = True
    fan_in = w.shape[1]
    expected = sigma / math.sqrt(fan_in)
    mean, std, excess = _std_and_kurtosis(w)
    n = w.size
    if abs(std / expected - 1) > tol_sigmas / math.sqrt(2 * n):
        fail(f"weight matrix {i} of shape {w.shape} (fan-in {fan_in}) with sigma={sigma}: expected standard "
             f"deviation sigma/sqrt(fan-in) = {expected:.4g}, got {std:.4g}. The fan-in is the number of "
             "inputs of the layer, the second dimension of its weight.")
    if abs(mean) > tol_sigmas * expected / math.sqrt(n):
        fail(f"weight matrix {i}: the weights should have mean 0, their mean is {mean:.4g}")
    if kurtosis and abs(excess) > 0.4:
        fail(f"weight matrix {i}: the weights do not look normally distributed (excess kurtosis {excess:.2f}, "
             "a normal distribution has 0, a uniform one -1.2)")


@neutral
def selfcheck_initialize_layers(initialize_layers):
    """Spread of each layer of a mid-sized net, and the course's value 0.609 reported."""
    __tracebackhide__ = True
    weights = _initialised(initialize_layers, models.make_MLP(30, 200, 3), 1.5, 0)
    for i, w in enumerate(weights):
        _check_layer(i, w, 1.5, kurtosis=w.size > 5000)
    import torch

    net = models.make_MLP(10, 3, 2)
    with _quiet_and_same_rng():
        torch.manual_seed(42)
        np.random.seed(42)
        call("initialize_layers", initialize_layers, net, 1)
        first = float(next(net.parameters()).detach()[0][0])
    if abs(first - SEED_FIRST_WEIGHT) < 1e-3:
        print(f"after set_seed(42), make_MLP(10, 3, 2) with sigma 1 starts with the weight {first:.3f}, "
              "as in the course")
    else:
        print(f"note: after set_seed(42) your first weight of make_MLP(10, 3, 2) is {first:.3f}, the course's is "
              f"{SEED_FIRST_WEIGHT}: fine if you draw the numbers another way, but then your data will not "
              "match the numbers quoted in the text")
    passed("every layer gets normal weights of mean 0 and standard deviation sigma/sqrt(fan-in)")


def grade_initialize_layers(initialize_layers):
    """Each layer's mean, spread and shape of distribution, for nets whose fan-in and fan-out differ."""
    __tracebackhide__ = True
    for (n_in, W, D, sigma, seed) in ((40, 300, 3, 2.0, 1), (7, 60, 6, 0.7, 2), (120, 25, 2, 0.4, 3)):
        weights = _initialised(initialize_layers, models.make_MLP(n_in, W, D), sigma, seed)
        for i, w in enumerate(weights):
            _check_layer(i, w, sigma, kurtosis=w.size > 5000)
    weights = _initialised(initialize_layers, models.make_MLP(9, 80, 3, nonlin="relu"), 1.2, 4)
    for i, w in enumerate(weights):
        _check_layer(i, w, 1.2, kurtosis=False)
    passed("initialize_layers draws N(0, sigma^2/fan-in) in every layer, in place")


# ---- Exercise 3: make_data --------------------------------------------------------------------------

def _teacher(n_in, seed, sigma=1.0, W=8, D=3):
    import torch

    with _quiet_and_same_rng():
        torch.manual_seed(seed)
        net = models.make_MLP(n_in, W, D)
        key.initialize_layers(net, sigma)
    return net


def _check_data(make_data, net, n_in, n, seed):
    __tracebackhide__ = True
    import torch

    with _quiet_and_same_rng():
        torch.manual_seed(seed)
        np.random.seed(seed)
        result = call("make_data", make_data, net, n_in, n)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        fail(f"make_data should return two things, X and y; got {type(result).__name__}")
    X, y = result
    _tensor("X", X, (n, n_in))
    _tensor("y", y, (n, 1))
    if y.requires_grad:
        fail("y still requires a gradient: detach the teacher's outputs (`.detach()` or torch.no_grad()), "
             "otherwise training the student would backpropagate into the teacher")
    with torch.no_grad():
        expected = net(X)
    expect_close(f"y for {n} examples", y, expected, rtol=1e-5, atol=1e-6,
                 hint="y should be the network's output for the inputs X.")
    return X.detach().numpy().astype(float)


@neutral
def selfcheck_make_data(make_data):
    """Shapes, detached outputs, standard normal inputs; the course's value 1.927 reported."""
    __tracebackhide__ = True
    import torch

    X = _check_data(make_data, _teacher(4, 0), 4, 3000, 0)
    mean, std, _ = _std_and_kurtosis(X)
    if abs(mean) > 0.05 or abs(std - 1) > 0.05:
        fail(f"the inputs should be standard normal (mean 0, standard deviation 1); got mean {mean:.3f}, "
             f"standard deviation {std:.3f}")
    small = models.make_MLP(10, 3, 2)
    with _quiet_and_same_rng():
        torch.manual_seed(42)
        np.random.seed(42)
        X, _ = call("make_data", make_data, small, 10, 100)
    first = float(X[0][0])
    if abs(first - SEED_FIRST_INPUT) < 1e-3:
        print(f"after set_seed(42), X[0][0] = {first:.3f}, as in the course")
    else:
        print(f"note: after set_seed(42) your X[0][0] is {first:.3f}, the course's is {SEED_FIRST_INPUT}")
    passed("make_data returns X of shape (n_examples, n_in) and detached outputs y = net(X)")


def grade_make_data(make_data):
    """Outputs against the network on the student's inputs; inputs against N(0, 1) statistics."""
    __tracebackhide__ = True
    for n_in, n, seed in ((3, 20000, 11), (7, 500, 12), (1, 50, 13)):
        X = _check_data(make_data, _teacher(n_in, seed + 100), n_in, n, seed)
        if n * n_in >= 10000:
            mean, std, excess = _std_and_kurtosis(X)
            if abs(mean) > 0.03 or abs(std - 1) > 0.03 or abs(excess) > 0.3:
                fail(f"the inputs should be standard normal: got mean {mean:.3f}, standard deviation "
                     f"{std:.3f}, excess kurtosis {excess:.2f} (a normal distribution has 0, 1, 0; a uniform "
                     "one on [0, 1) has 0.5, 0.29, -1.2)")
    net = _teacher(2, 7)
    with _quiet_and_same_rng():
        first = call("make_data", make_data, net, 2, 200)[0]
        again = call("make_data", make_data, net, 2, 200)[0]
    if np.allclose(arrays.to_numpy(first), arrays.to_numpy(again)):
        fail("two calls of make_data returned the same inputs: do not seed the generator inside make_data, "
             "or the training and test sets would be the same")
    passed("make_data draws standard normal inputs and the network's detached outputs")


# ---- Exercise 4: train_model and compute_loss --------------------------------------------------------

def _problem(seed, n=64, n_in=3, W=6, D=3):
    """A small teacher-student problem: a student net, X, y, all under fixed seeds."""
    import torch

    with _quiet_and_same_rng():
        torch.manual_seed(seed)
        teacher = models.make_MLP(n_in, W, D)
        key.initialize_layers(teacher, 1.5)
        X, y = key.make_data(teacher, n_in, n)
        student = models.make_MLP(n_in, W, D)
    return student, X, y


def _copy(net):
    import copy

    return copy.deepcopy(net)


def _run_train(train_model, net, X, y, n_epochs, lr):
    __tracebackhide__ = True
    with _quiet_and_same_rng():
        losses = call("train_model", train_model, net, X, y, n_epochs, lr, progressbar=False)
    if not isinstance(losses, np.ndarray):
        fail(f"train_model should return a numpy array of losses, got {type(losses).__name__}")
    losses = to_numpy_float("train_model's losses", losses)
    if losses.shape != (n_epochs,):
        fail(f"train_model should return one loss per epoch, shape ({n_epochs},); got shape {losses.shape}")
    return losses


def to_numpy_float(what, value):
    __tracebackhide__ = True
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(f"{what} should be numbers (floats), got an array of {np.asarray(value).dtype}")


@neutral
def selfcheck_train_model(train_model):
    """Shape, type, a falling loss; the loss of a net on its own outputs is zero."""
    __tracebackhide__ = True
    student, X, y = _problem(0)
    losses = _run_train(train_model, student, X, y, 50, 0.03)
    if not np.all(np.isfinite(losses)):
        fail(f"the losses are not all finite: {losses[:5]} ...")
    if not losses[-1] < 0.5 * losses[0]:
        fail(f"50 epochs of Adam with lr=0.03 should at least halve the loss; it went {losses[0]:.4g} -> "
             f"{losses[-1]:.4g}")
    with _quiet_and_same_rng():
        X_own = X[:16]
        import torch
        with torch.no_grad():
            y_own = student(X_own)
    own = _run_train(train_model, student, X_own, y_own, 3, 1e-3)
    if abs(own[0]) > 1e-10:
        fail(f"a net trained on its own outputs should start at zero loss, got {own[0]:.3g}")
    passed("train_model returns one loss per epoch, as a numpy array, and lowers the loss")


def grade_train_model(train_model):
    """Loss records and final weights against Adam on the mean squared error, from the same start."""
    __tracebackhide__ = True
    import torch

    for seed, n_epochs, lr in ((21, 20, 3e-3), (22, 12, 0.03)):
        student, X, y = _problem(seed)
        mine, theirs = _copy(student), _copy(student)
        with _quiet_and_same_rng():
            expected = key.train_model(mine, X, y, n_epochs, lr, progressbar=False)
        got = _run_train(train_model, theirs, X.clone(), y.clone(), n_epochs, lr)
        if np.allclose(got, expected * len(y), rtol=1e-3):
            fail("the losses are the SUM of squared errors over the examples; use the mean squared error "
                 "(nn.MSELoss() with its default reduction)")
        expect_close(f"losses of {n_epochs} epochs with lr={lr}", got, expected, rtol=2e-3, atol=1e-7,
                     hint="Entry n is the mean squared error computed at the start of epoch n, before the "
                          "update; train with torch.optim.Adam(net.parameters(), lr=lr), created once, and "
                          "zero the gradients every epoch.")
        for i, (p, q) in enumerate(zip(theirs.parameters(), mine.parameters())):
            expect_close(f"weight matrix {i} after training", p.detach(), q.detach(), rtol=2e-3, atol=1e-5,
                         hint="The network passed in must be the one trained, with Adam.")
        if not torch.is_tensor(next(theirs.parameters())):
            fail("the network's parameters are no longer tensors")
    passed("train_model trains with Adam on the mean squared error and records the loss of every epoch")


def _loss_cases():
    for seed in (31, 32):
        student, X, y = _problem(seed, n=50 + seed)
        yield student, X, y


@neutral
def selfcheck_compute_loss(compute_loss):
    """A float; zero on a net's own outputs; quadratic in the error."""
    __tracebackhide__ = True
    import torch

    student, X, y = _problem(0)
    value = call("compute_loss", compute_loss, student, X, y)
    if not isinstance(value, float):
        fail(f"compute_loss should return a Python float (float(...)), got {type(value).__name__}")
    with torch.no_grad():
        own = student(X)
    zero = call("compute_loss", compute_loss, student, X, own)
    if abs(zero) > 1e-12:
        fail(f"the loss of a net on its own outputs should be 0, got {zero}")
    shifted = call("compute_loss", compute_loss, student, X, own + 0.5)
    doubled = call("compute_loss", compute_loss, student, X, own + 1.0)
    if not np.isclose(doubled, 4 * shifted, rtol=1e-4):
        fail(f"doubling every error should multiply a squared error by 4; it went {shifted:.4g} -> {doubled:.4g}")
    more = call("compute_loss", compute_loss, student, torch.cat([X, X]), torch.cat([own, own]) + 0.5)
    if not np.isclose(more, shifted, rtol=1e-4):
        fail(f"repeating the data set changed the loss ({shifted:.4g} -> {more:.4g}): use the mean, not the sum")
    passed("compute_loss is a float, zero for a perfect fit, a mean and quadratic in the error")


def grade_compute_loss(compute_loss):
    """Against the mean squared error on random nets and data; the net must be left unchanged."""
    __tracebackhide__ = True
    import torch

    for student, X, y in _loss_cases():
        before = [p.detach().clone() for p in student.parameters()]
        got = call("compute_loss", compute_loss, student, X, y)
        if not isinstance(got, float):
            fail(f"compute_loss should return a Python float, got {type(got).__name__}")
        expected = key.compute_loss(student, X, y)
        expect_close(f"loss on {len(y)} examples", got, expected, rtol=1e-5,
                     hint="The mean over examples of (net(X) - y)**2.")
        if not all(torch.equal(p.detach(), b) for p, b in zip(student.parameters(), before)):
            fail("compute_loss changed the network's weights: it should only evaluate it")
    passed("compute_loss returns the mean squared error as a float")


# ---- Exercise 5 (and 9): the teacher set-up ----------------------------------------------------------

TEACHER = dict(n_in=5, W=5, D=5, N_train=4000, N_test=1000, seed=-1)


def _check_setup(names, values, sigma):
    """Sizes, sigma, the teacher's architecture and spread, and data labelled by the teacher.

    names: what the notebook calls teacher, X_train, ...; values: dict name -> object.
    Returns X_test[0][0] as a float.
    """
    __tracebackhide__ = True
    import torch

    g = {k: values.get(v) for k, v in names.items()}
    for key in ("n_in", "W_teacher", "D_teacher", "N_train", "N_test"):
        if key in names and g[key] is not None:
            want = {"n_in": 5, "W_teacher": 5, "D_teacher": 5, "N_train": 4000, "N_test": 1000}[key]
            if g[key] != want:
                fail(f"{names[key]} should be {want}, got {g[key]!r}")
    if not np.isclose(expect_scalar(names["sigma"], g["sigma"]), sigma):
        fail(f"{names['sigma']} should be {sigma}, got {g['sigma']!r}")
    teacher = g["teacher"]
    if not isinstance(teacher, torch.nn.Module):
        fail(f"{names['teacher']} should be a network made with make_MLP, got {type(teacher).__name__}")
    shapes = [tuple(p.shape) for p in teacher.parameters()]
    want = [tuple(p.shape) for p in models.make_MLP(5, 5, 5).parameters()]
    if shapes != want:
        fail(f"{names['teacher']} should be make_MLP(5, 5, 5), weight shapes {want}; got {shapes}")
    scaled = np.concatenate([p.detach().numpy().ravel() * math.sqrt(p.shape[1]) for p in teacher.parameters()])
    ratio = scaled.std() / sigma
    if not 0.65 < ratio < 1.45:
        fail(f"{names['teacher']}'s weights have {ratio:.2f} times the spread of initialize_layers with "
             f"sigma={sigma}: initialise the teacher with {names['sigma']}")
    for split, n in (("train", 4000), ("test", 1000)):
        X, y = g[f"X_{split}"], g[f"y_{split}"]
        _tensor(names[f"X_{split}"], X, (n, 5))
        _tensor(names[f"y_{split}"], y, (n, 1))
        with torch.no_grad():
            expect_close(f"{names[f'y_{split}']} against {names['teacher']}({names[f'X_{split}']})", y, teacher(X),
                         rtol=1e-5, atol=1e-6, hint="Both sets come from the teacher via make_data.")
    return float(g["X_test"][0][0])


def _check_draws(names, values, initialize_layers, make_data, sigma):
    """The set-up's data are the course's sequence of draws, redone with the student's own functions."""
    __tracebackhide__ = True
    import torch

    with _quiet_and_same_rng():
        seed_torch(initialize_layers, -1)
        net = beside(initialize_layers, models.make_MLP, 5, 5, 5)   # its default weights draw too
        call("initialize_layers", initialize_layers, net, sigma)
        X_train, _ = call("make_data", make_data, net, 5, 4000)
        X_test, _ = call("make_data", make_data, net, 5, 1000)
    # (the teacher's weights are not compared: an initialize_layers drawing from numpy would not repeat them)
    if not (torch.equal(X_train, values[names["X_train"]]) and torch.equal(X_test, values[names["X_test"]])):
        fail(f"{names['X_train']} and {names['X_test']} are not the draws of the set-up: seed torch with "
             "torch.manual_seed(-1) first, then make the teacher, initialise it, and draw the training set "
             "before the test set with make_data")


def _setup_values(ns, suffix=""):
    names = {"n_in": "n_in", "W_teacher": "W_teacher", "D_teacher": "D_teacher", "N_train": "N_train",
             "N_test": "N_test", "sigma": "sigma_teacher" + suffix, "teacher": "teacher" + suffix,
             "X_train": "X_train" + suffix, "y_train": "y_train" + suffix,
             "X_test": "X_test" + suffix, "y_test": "y_test" + suffix}
    if suffix:
        for k in ("n_in", "W_teacher", "D_teacher", "N_train", "N_test"):
            names.pop(k)
    missing = [v for v in names.values() if v not in ns]
    if missing:
        fail(f"the set-up should define {', '.join(missing)}")
    return names, {v: ns[v] for v in names.values()}


@neutral
def selfcheck_teacher_setup(ns):
    """ns: the notebook's globals(). Sizes, sigma, shapes, labels; the course's X_test[0][0] reported."""
    __tracebackhide__ = True
    names, values = _setup_values(ns)
    first = _check_setup(names, values, 2.0)
    if abs(first - SEED_TEACHER_INPUT) < SEED_TEACHER_TOLERANCE:
        print(f"X_test[0][0] = {first:.6f}, as in the course ({SEED_TEACHER_INPUT!r})")
    else:
        print(f"note: X_test[0][0] = {first:.6f}, the course's is {SEED_TEACHER_INPUT!r} (seed, order of the "
              "draws, or your functions draw their random numbers differently)")
    passed("the teacher is make_MLP(5, 5, 5) with sigma 2, and 4000 training / 1000 test examples come from it")


def grade_teacher_setup(ns):
    """The self-check's properties, and the set-up redone with the student's functions gives the same data."""
    __tracebackhide__ = True
    names, values = _setup_values(ns)
    _check_setup(names, values, 2.0)
    _check_draws(names, values, ns["initialize_layers"], ns["make_data"], 2.0)
    passed("teacher and data follow the set-up")


@neutral
def selfcheck_quasi_setup(ns):
    """The quasi-linear teacher (names ending in _ql): sizes, sigma 0.4, shapes, labels."""
    __tracebackhide__ = True
    names, values = _setup_values(ns, "_ql")
    _check_setup(names, values, 0.4)
    passed("the quasi-linear teacher is make_MLP(5, 5, 5) with sigma 0.4, with its own data")


def grade_quasi_setup(ns):
    """The self-check's properties, and the draws of the set-up (seed -1, same order) under the _ql names."""
    __tracebackhide__ = True
    names, values = _setup_values(ns, "_ql")
    _check_setup(names, values, 0.4)
    _check_draws(names, values, ns["initialize_layers"], ns["make_data"], 0.4)
    passed("the quasi-linear teacher and its data follow the set-up")


# ---- Exercises 6 to 9: training runs ------------------------------------------------------------------
#
# The self-checks test the shape of what the cells record and that each number is roughly what it
# claims to be (never printing a value the checks computed); the hidden tests recompute every number
# exactly, check the records against the trained networks and check the course's epochs and results.

EPOCHS = 1500               # the course's epochs per run (per phase for the deep student)
DEEP_TARGET = 0.02          # relative test error the deep student stays below (the course's run: about 0.005)
LOOSE = 3.0                 # the self-checks' factor between a recorded error and the recomputed one


def _rel(net, X, y):
    import torch

    with torch.no_grad():
        return float(torch.mean((net(X) - y) ** 2)) / float(y.var())


def _student_arch(what, net, W, D):
    __tracebackhide__ = True
    import torch

    if not isinstance(net, torch.nn.Module):
        fail(f"{what} should be a network made with make_MLP, got {type(net).__name__}")
    shapes = [tuple(p.shape) for p in net.parameters()]
    want = [tuple(p.shape) for p in models.make_MLP(5, W, D).parameters()]
    if shapes != want:
        fail(f"{what} should be make_MLP(5, {W}, {D}) with weight shapes {want}; got {shapes}")


def _needs(ns, names, exercise):
    """The notebook defines every name in `names` (made by `exercise`), or CheckFailed saying so."""
    __tracebackhide__ = True
    missing = [name for name in names if name not in ns]
    if missing:
        fail(f"{', '.join(missing)} not defined: run {exercise} first")


def _finite(what, values, source):
    """`values` as a float array of finite numbers; else CheckFailed naming the `source` that made them."""
    __tracebackhide__ = True
    arr = to_array(what, values)
    if not np.all(np.isfinite(arr)):
        fail(f"{what} holds NaN or infinite values: {source} produced them; fix it first")
    return arr


def _recorded_error(what, got, net, X, y, source):
    """The relative error of `net` on (X, y), after checking it is finite; -> float."""
    __tracebackhide__ = True
    value = _rel(net, X, y)
    if not math.isfinite(value):
        fail(f"the network behind {what} outputs NaN or infinite values: {source} produced it; fix it first")
    got = expect_scalar(what, got)
    if not math.isfinite(got):
        fail(f"{what} is {got}: it should be the network's relative error, a finite number")
    return got, value


def _roughly(what, got, value, hint):
    """Self-check: `got` within a factor LOOSE of `value` (the checks' number is not shown)."""
    __tracebackhide__ = True
    if not (value / LOOSE <= got <= value * LOOSE):
        fail(f"{what} = {got:.3g} is not what its network scores. {hint}")


def _exactly(what, got, value, hint):
    """Hidden test: `got` equals `value` up to float32 round-off."""
    __tracebackhide__ = True
    if not np.isclose(got, value, rtol=1e-4, atol=0):
        fail(f"{what}: expected {value:.6g}, got {got:.6g}. {hint}")


# How far the last recorded training loss may be from the network's final training error: the
# record is taken before each epoch's step, so the last step's change is not in it. The chaotic
# teacher's runs end within 30 %. The quasi-linear run ends oscillating (Adam at a tiny error: its
# last ten losses span a factor of 20, and where in the oscillation it stops depends on the CPU's
# rounding), so its check allows the largest change between two consecutive losses of the record's
# last RECENT entries, with a margin, and at least a factor of 4 either way. A record of another
# scale is still far out: y_test_ql.var() is about 5e-5.
LAST_STEP = (0.7, 1.5)
LAST_STEP_QUASI = (0.25, 4.0)
RECENT, MARGIN = 100, 1.5


def _step_bounds(losses, floor=LAST_STEP_QUASI):
    """(low, high) ratios of final error to last loss: the largest consecutive change among the last
    RECENT losses (a 1-D float array, all positive) times MARGIN, never tighter than `floor`."""
    recent = np.asarray(losses[-RECENT:], dtype=float)
    steps = recent[1:] / recent[:-1] if recent.size > 1 else np.ones(1)
    jump = MARGIN * float(max(steps.max(), 1.0 / steps.min()))
    return min(floor[0], 1.0 / jump), max(floor[1], jump)


def _last_loss_matches(what, losses, net, X, y, y_scale, hint, bounds=LAST_STEP):
    """Hidden test: the last recorded training loss is the network's final error, up to what the
    last step changed (`bounds`: lowest and highest ratio): losses of another network, or scaled
    otherwise, are farther off."""
    __tracebackhide__ = True
    final = _rel(net, X, y) * float(y.var()) / y_scale
    last = float(losses[-1])
    low, high = bounds
    if not low * final < last < high * final + 1e-9:
        fail(f"{what} should record the training losses of its network: the last entry is {last:.3g}, the "
             f"network's error on the training set, scaled as the text says, is {final:.3g}. {hint}")


def _course_epochs(name, value):
    """Hidden test: `value` is the course's number of epochs."""
    __tracebackhide__ = True
    if int(value) != EPOCHS:
        fail(f"{name} should be {EPOCHS}, the course's number of epochs, got {value!r}")


# ---- Exercise 6: the deep student --------------------------------------------------------------------

_DEEP_HINT = "loss_deep is the student's mean squared error on the TEST set divided by float(y_test.var())."


def _same_student(Es, n_epochs):
    """Fail when a phase of Es (phases of n_epochs losses, one after the other) starts higher than
    the last ended, beyond the record's own recent swings (at losses near 1e-6 these depend on the
    CPU's rounding): a phase that trains the same student goes on from where the last ended, a new
    student starts again near the first phase's opening loss."""
    __tracebackhide__ = True
    for k in range(1, len(Es) // n_epochs):
        end, start = Es[k * n_epochs - 1], Es[k * n_epochs]
        if start > end * _step_bounds(Es[:k * n_epochs], floor=LAST_STEP)[1]:
            fail(f"the loss jumps from {end:.3g} to {start:.3g} when phase {k + 1} starts: every phase should go "
                 "on training the same student")


def _deep_records(ns):
    """Self-check part: the student, Es_deep of the four phases, loss_deep; -> (Es, got, value)."""
    __tracebackhide__ = True
    _needs(ns, ["X_test", "y_test"], "the teacher set-up (exercise 5)")
    _needs(ns, ["student", "n_epochs_deep", "Es_deep", "loss_deep"], "the deep student's cell (exercise 6)")
    student, n_epochs = ns["student"], int(ns["n_epochs_deep"])
    _student_arch("student", student, 5, 5)
    Es = ns["Es_deep"]
    if not isinstance(Es, np.ndarray) or Es.shape != (4 * n_epochs,):
        fail(f"Es_deep should be a numpy array of the 4 x {n_epochs} losses one after the other, shape "
             f"({4 * n_epochs},); got {type(Es).__name__} of shape {np.shape(Es)}")
    Es = _finite("Es_deep", Es, "train_model (exercise 4)")
    got, value = _recorded_error("loss_deep", ns["loss_deep"], student, ns["X_test"], ns["y_test"],
                                 "train_model (exercise 4)")
    _same_student(Es, n_epochs)
    if not Es[-1] < Es[0]:
        fail(f"the training loss should fall over the four phases; it went {Es[0]:.3g} -> {Es[-1]:.3g}")
    return Es, got, value


@neutral
def selfcheck_deep_student(ns):
    """Shapes of the records, four continuous phases, loss_deep roughly the student's relative test error."""
    __tracebackhide__ = True
    _, got, value = _deep_records(ns)
    _roughly("loss_deep", got, value, _DEEP_HINT)
    passed("the deep student is trained in four phases and loss_deep is about its relative test error")


def grade_deep_student(ns):
    """loss_deep exactly, Es_deep the student's own losses, the course's epochs and a deep student's accuracy."""
    __tracebackhide__ = True
    Es, got, value = _deep_records(ns)
    _exactly("loss_deep", got, value, _DEEP_HINT)
    _last_loss_matches("Es_deep", Es, ns["student"], ns["X_train"], ns["y_train"], 1.0,
                       "Keep the losses train_model returns, unscaled.")
    _course_epochs("n_epochs_deep", ns["n_epochs_deep"])
    if not value < DEEP_TARGET:
        fail(f"after 4 x {EPOCHS} epochs the deep student should reach a relative test error below {DEEP_TARGET}; "
             f"it has {value:.3g}: start at lr = 0.003 and divide by 3 after every phase")
    passed("loss_deep is the deep student's relative test error, and the student learnt the teacher")


# ---- Exercise 7: the width sweep ---------------------------------------------------------------------

_SWEEP_HINT = "The relative TEST error: compute_loss on X_test, y_test divided by float(y_test.var())."


def _sweep_records(ns):
    """Self-check part: widths, students, record shapes; -> (widths, Es_train, Es_test, recomputed errors)."""
    __tracebackhide__ = True
    _needs(ns, ["X_train", "y_train", "X_test", "y_test"], "the teacher set-up (exercise 5)")
    _needs(ns, ["Ws_student", "shallow_students", "n_epochs", "Es_shallow_train", "Es_shallow_test"],
           "the width sweep (exercise 7)")
    widths = [int(w) for w in np.ravel(ns["Ws_student"])]
    if widths != [5, 15, 45, 135]:
        fail(f"Ws_student should be [5, 15, 45, 135], got {widths}")
    students, n_epochs = ns["shallow_students"], int(ns["n_epochs"])
    if len(students) != 4:
        fail(f"shallow_students should hold the 4 trained students, one per width; it holds {len(students)}")
    Es_train, Es_test = to_array("Es_shallow_train", ns["Es_shallow_train"]), to_array("Es_shallow_test",
                                                                                          ns["Es_shallow_test"])
    if Es_train.shape != (4, n_epochs) or Es_test.shape != (4,):
        fail(f"Es_shallow_train should have shape (4, {n_epochs}) and Es_shallow_test (4,); got "
             f"{Es_train.shape} and {Es_test.shape}")
    if len({id(s) for s in students}) != 4:
        fail("shallow_students holds the same network more than once: make a new student for every width")
    _finite("Es_shallow_train", Es_train, "train_model (exercise 4)")
    values = []
    for i, (W, net) in enumerate(zip(widths, students)):
        _student_arch(f"shallow_students[{i}]", net, W, 2)
        values.append(_recorded_error(f"Es_shallow_test[{i}]", Es_test[i], net, ns["X_test"], ns["y_test"],
                                      "train_model (exercise 4)")[1])
    if not Es_test[-1] < Es_test[0]:
        fail(f"the widest student should fit better than the narrowest: test errors {np.round(Es_test, 4)}")
    return widths, Es_train, Es_test, values


@neutral
def selfcheck_width_sweep(ns):
    """Every student's architecture, the records' shapes, each test error roughly its student's."""
    __tracebackhide__ = True
    widths, _, Es_test, values = _sweep_records(ns)
    for i, W in enumerate(widths):
        _roughly(f"Es_shallow_test[{i}] (width {W})", Es_test[i], values[i], _SWEEP_HINT)
    passed("four shallow students of widths 5, 15, 45, 135 trained, with their test errors recorded")


def grade_width_sweep(ns):
    """Test errors exactly, training records against each student, the course's epochs, errors falling with width."""
    __tracebackhide__ = True
    widths, Es_train, Es_test, values = _sweep_records(ns)
    for i, W in enumerate(widths):
        _exactly(f"Es_shallow_test[{i}] (width {W})", Es_test[i], values[i], _SWEEP_HINT)
        _last_loss_matches(f"Es_shallow_train[{i}]", Es_train[i], ns["shallow_students"][i], ns["X_train"],
                           ns["y_train"], float(ns["y_test"].var()),
                           "Divide the losses train_model returns by float(y_test.var()).")
    _course_epochs("n_epochs", ns["n_epochs"])
    if not np.all(np.diff(Es_test) < 0):
        fail(f"each wider student should reach a lower test error than the one before: {np.round(Es_test, 4)}")
    passed("the sweep records each student's relative errors, and they fall with width")


# ---- Exercise 8: network-size prediction ---------------------------------------------------------------

def _sweep_errors(ns):
    """The widths and test errors of the sweep, which the fit needs finite and positive."""
    __tracebackhide__ = True
    _needs(ns, ["Ws_student", "Es_shallow_test"], "the width sweep (exercise 7)")
    widths = to_array("Ws_student", ns["Ws_student"])
    errors = _finite("Es_shallow_test", ns["Es_shallow_test"], "the width sweep (exercise 7)")
    if not np.all(errors > 0):
        fail(f"the width sweep (exercise 7) gave test errors {np.round(errors, 4)}: a log-log fit needs positive "
             "errors; fix exercise 7 first")
    return widths, errors


def _prediction(ns):
    """Self-check part: m negative, predicted_width on the student's own line; -> (m, predicted_width)."""
    __tracebackhide__ = True
    _sweep_errors(ns)
    _needs(ns, ["m", "b", "predicted_width", "error_target"], "the size prediction (exercise 8)")
    m = expect_scalar("m", ns["m"])
    b = expect_scalar("b", ns["b"])
    width = expect_scalar("predicted_width", ns["predicted_width"])
    if not (math.isfinite(m) and m < 0):
        fail(f"the slope m is {m:.3g}: the errors of the sweep fall with width, so a fit of log(error) against "
             "log(width) has a negative slope")
    if not (math.isfinite(width) and width > 0):
        fail(f"predicted_width is {width!r}: it should be a positive width")
    target = float(ns["error_target"])
    # the slope is the same in every base of logarithm; b is not: natural and base-10 logarithms are both fine
    if not any(np.isclose(m * log(width) + b, log(target), rtol=1e-6, atol=1e-6) for log in (math.log, math.log10)):
        fail(f"your line m log(W) + b gives log(error) = {m * math.log(width) + b:.4g} at W = predicted_width, not "
             "log(error_target): solve log(error_target) = m log(W) + b for W")
    return m, b, width


@neutral
def selfcheck_size_prediction(ns):
    """m is a falling slope and predicted_width solves the student's own line for error_target."""
    __tracebackhide__ = True
    _prediction(ns)
    passed("m is negative and predicted_width lies on your line at error_target")


def grade_size_prediction(ns):
    """m, b and predicted_width against np.polyfit of log test error on log width of the sweep."""
    __tracebackhide__ = True
    m, b, width = _prediction(ns)
    widths, errors = _sweep_errors(ns)
    slope, intercept = np.polyfit(np.log(widths), np.log(errors), 1)
    hint = "Fit log(error) = m log(width) + b to all four test errors of the sweep with np.polyfit(..., 1)."
    expect_close("the slope m", m, slope, rtol=1e-6, hint=hint)
    per_base = intercept / math.log(10) if np.isclose(b, intercept / math.log(10), rtol=1e-6) else intercept
    expect_close("the intercept b", b, per_base, rtol=1e-6, hint=hint)
    expected = float(np.exp((np.log(ns["error_target"]) - intercept) / slope))
    expect_close("predicted_width", width, expected, rtol=1e-6, hint="Solve log(error_target) = m log(W) + b for W.")
    passed("m, b and predicted_width are the log-log fit of the sweep and its solution")


# ---- Exercise 9: the quasi-linear student ---------------------------------------------------------------

_QL_HINT = "The student's test error on the quasi-linear data divided by float(y_test_ql.var())."


def _quasi_records(ns):
    """Self-check part: the student, Es_ql_train, loss_ql; -> (Es, got, value)."""
    __tracebackhide__ = True
    _needs(ns, ["X_test_ql", "y_test_ql", "X_train_ql", "y_train_ql"], "the quasi-linear set-up (exercise 9)")
    _needs(ns, ["student_ql", "n_epochs_ql", "Es_ql_train", "loss_ql"], "the quasi-linear student's cell")
    student = ns["student_ql"]
    _student_arch("student_ql", student, 10, 2)
    Es = _finite("Es_ql_train", ns["Es_ql_train"], "train_model (exercise 4)")
    if Es.shape != (int(ns["n_epochs_ql"]),):
        fail(f"Es_ql_train should hold one loss per epoch, shape ({int(ns['n_epochs_ql'])},); got {Es.shape}")
    got, value = _recorded_error("loss_ql", ns["loss_ql"], student, ns["X_test_ql"], ns["y_test_ql"],
                                 "train_model (exercise 4)")
    return Es, got, value


@neutral
def selfcheck_quasi_student(ns):
    """A width-10 shallow student, one loss per epoch, loss_ql roughly its relative test error."""
    __tracebackhide__ = True
    _, got, value = _quasi_records(ns)
    _roughly("loss_ql", got, value, _QL_HINT)
    passed("a width-10 student is trained on the quasi-linear teacher and loss_ql is about its test error")


def grade_quasi_student(ns):
    """loss_ql exactly, the training record, the course's epochs, and far below the chaotic teacher's best."""
    __tracebackhide__ = True
    Es, got, value = _quasi_records(ns)
    _exactly("loss_ql", got, value, _QL_HINT)
    _, chaotic = _sweep_errors(ns)
    best = float(np.min(chaotic))
    if not value < best / QUASI_FACTOR:
        fail(f"the quasi-linear teacher should be far easier to fit: relative test error {value:.3g}, against "
             f"{best:.3g} for the best shallow student of the chaotic teacher (up to 135 units); expected at "
             f"least {QUASI_FACTOR} times lower")
    _last_loss_matches("Es_ql_train", Es, ns["student_ql"], ns["X_train_ql"], ns["y_train_ql"],
                       float(ns["y_test_ql"].var()), "Divide the losses train_model returns by float(y_test_ql.var()).",
                       bounds=_step_bounds(Es))
    _course_epochs("n_epochs_ql", ns["n_epochs_ql"])
    passed("10 units fit the quasi-linear teacher far better than 135 fit the chaotic one")
