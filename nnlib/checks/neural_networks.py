"""Checks for the assignment on neural networks: weight counts, activations, initialization,
Adam and early stopping."""


from dataclasses import dataclass

import numpy as np

from nnlib import gradcheck, models
from nnlib.checks import (Step, answer_key, beside, call, expect_close, expect_scalar, fail, listed, neutral,
                          passed, rng, small_number, steps, swap_global, to_array)


key = answer_key("neural_networks")


# ---- count_parameters --------------------------------------------------------------------------

def _counts(what, result):
    __tracebackhide__ = True
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        fail(f"{what} should return two numbers (n_weights, n_biases), got {result!r}")
    return expect_scalar(f"{what}[0] (weights)", result[0]), expect_scalar(f"{what}[1] (biases)", result[1])


def _torch_counts(sizes):
    net = models.dense_network(sizes)
    layers = models.linear_layers(net)
    return sum(l.weight.numel() for l in layers), sum(l.bias.numel() for l in layers)


def _drawn_counts(sizes):
    import matplotlib.pyplot as plt

    from nnlib.topics import neural_networks as topic

    fig, ax = plt.subplots()
    try:
        return topic.draw_neural_net(sizes, ax=ax, draw_bias=True, show=False)
    finally:
        plt.close(fig)


@neutral
def selfcheck_count_parameters(count_parameters):
    """Counts of two small nets against the links of their drawings, one against torch."""
    __tracebackhide__ = True
    for sizes in ([2, 3, 1], [5, 10, 10, 5]):
        got = _counts(f"count_parameters({sizes})", call("count_parameters", count_parameters, list(sizes)))
        drawn = _drawn_counts(sizes)
        if tuple(got) != tuple(drawn):
            fail(f"count_parameters({sizes}) gave {got[0]:g} weights and {got[1]:g} biases, but the drawing "
                 f"of that net (topic.draw_neural_net({sizes}, draw_bias=True, weight_count=True)) counts "
                 f"{drawn[0]} weight links and {drawn[1]} bias links.")
    sizes = [4, 7, 3]
    got = _counts(f"count_parameters({sizes})", call("count_parameters", count_parameters, list(sizes)))
    if sum(got) != sum(_torch_counts(sizes)):
        fail(f"count_parameters({sizes}) adds up to {sum(got):g} parameters, but a torch model with these "
             "layers has a different total numel(); build one and compare layer by layer.")
    passed("count_parameters agrees with the drawings and with a torch model")


def grade_count_parameters(count_parameters):
    """Random layer sizes against the reference and against torch's numel()."""
    __tracebackhide__ = True
    r = rng(301)
    cases = [[4, 1], [3, 3], [1, 8, 1]] + [list(r.integers(1, 40, size=n)) for n in (3, 4, 5, 7)]
    for sizes in cases:
        sizes = [int(s) for s in sizes]
        got = _counts(f"count_parameters({sizes})", call("count_parameters", count_parameters, list(sizes)))
        expected = key.count_parameters(sizes)
        assert expected == _torch_counts(sizes)
        expect_close(f"(n_weights, n_biases) of a dense net with layers {sizes}", list(got), list(expected),
                     hint="Each pair of consecutive layers is fully connected; every node except the inputs "
                          "has one bias.")
    passed("count_parameters matches torch's parameter counts on random architectures")


# ---- activation functions -----------------------------------------------------------------------

def _plain_sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def _plain_tanh(z):
    return np.tanh(np.asarray(z, dtype=float))


def _plain_relu(z):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, 0.0)


def _plain(name):
    """Correct activation functions that are not the registered reference (for substitution)."""
    return {"sigmoid": _plain_sigmoid, "tanh": _plain_tanh, "relu": _plain_relu}[name]



_HINTS = {
    "sigmoid": "sigmoid(z) = 1 / (1 + exp(-z)), applied to every element.",
    "sigmoid_derivative": "Differentiate 1 / (1 + exp(-z)) and write the result with sigmoid(z) itself.",
    "tanh": "tanh(z) = 2 / (1 + exp(-2z)) - 1, applied to every element.",
    "tanh_derivative": "Differentiate tanh and write the result with tanh(z) itself.",
    "relu": "relu(z) = max(0, z) for every element (np.max reduces an array; np.maximum does not).",
    "relu_derivative": "The slope of max(0, z): 1 where z > 0 and 0 where z < 0.",
}


def _correct_function_in(fn, name):
    """Run with the student's `name` (e.g. sigmoid) replaced by a correct one in fn's globals, so a
    derivative is graded on its own and a mistake in the function is not counted twice."""
    return swap_global(fn, name, _plain(name))


def _elementwise(what, fn, z):
    __tracebackhide__ = True
    out = to_array(what, call(what, fn, z.copy()))
    if out.shape != z.shape:
        fail(f"{what} of an array of shape {z.shape} should have the same shape, got {out.shape}: "
             "apply the function to every element (vectorized numpy, no reduction).")
    return out


@neutral
def selfcheck_activation(fn, name):
    """Properties of one activation function (name: 'sigmoid', 'tanh' or 'relu'), formula not shown."""
    __tracebackhide__ = True
    z = np.array([[-3.0, -0.5, 0.0], [0.25, 2.0, 8.0]])
    out = _elementwise(name, fn, z)
    if name == "sigmoid":
        if not np.isclose(out[0, 2], 0.5):
            fail(f"sigmoid(0) should be 0.5 (even odds), got {out[0, 2]:.6g}")
        if np.any(out <= 0) or np.any(out >= 1):
            fail(f"sigmoid values lie strictly between 0 and 1, got {out}")
        if not np.allclose(out + _elementwise(name, fn, -z), 1.0):
            fail("sigmoid(z) + sigmoid(-z) should be 1 for every z")
    elif name == "tanh":
        if not np.isclose(out[0, 2], 0.0):
            fail(f"tanh(0) should be 0, got {out[0, 2]:.6g}")
        if np.any(np.abs(out) >= 1):
            fail(f"tanh values lie strictly between -1 and 1, got {out}")
        if not np.allclose(out, -_elementwise(name, fn, -z)):
            fail("tanh is odd: tanh(-z) should be -tanh(z)")
        slope = gradcheck.centred(lambda v: to_array(name, call(name, fn, v)), np.array([0.0]))[0]
        if not np.isclose(slope, 1.0, rtol=1e-4):
            fail(f"tanh should have slope 1 at z = 0, yours has slope {slope:.4g}")
    else:
        if np.any(out[z < 0] != 0):
            fail(f"relu should be exactly 0 for negative inputs, got {out[z < 0]}")
        if not np.allclose(out[z > 0], z[z > 0]):
            fail(f"relu should pass positive inputs through unchanged: relu({z[z > 0]}) gave {out[z > 0]}")
    passed(f"{name} has the right values, shape and symmetry")


def grade_activation(fn, name):
    """The activation against the reference on random arrays of several shapes."""
    __tracebackhide__ = True
    r = rng(401)
    for shape in ((11,), (4, 6), (2, 3, 5)):
        z = r.normal(scale=4.0, size=shape)
        expect_close(f"{name} of a random array of shape {shape}", _elementwise(name, fn, z),
                     getattr(key, name)(z), rtol=1e-6, atol=1e-9, hint=_HINTS[name])
    passed(f"{name} matches the reference on random arrays")


@neutral
def selfcheck_derivative(fn, name):
    """A derivative against centred differences of the (correct) activation; relative error printed."""
    __tracebackhide__ = True
    base = name.replace("_derivative", "")
    z = np.array([[-4.0, -1.3, -0.2], [0.3, 1.1, 3.5]])  # no kink of relu here
    with _correct_function_in(fn, base):
        got = _elementwise(name, fn, z)
    numeric = gradcheck.centred(_plain(base), z)
    rel = gradcheck.relative_error(got, numeric)
    # A right answer is off by round-off only: about 1e-16 / eps relative to the function's value,
    # which can reach 1e-7 of the slope where the slope is small (tanh at -4).
    print(f"relative error against centred differences of {base}: {small_number(rel, 1e-7)}")
    if not rel < 1e-6:
        fail(f"{name} disagrees with the slope of {base} measured by centred differences "
             f"(relative error {rel:.2e}, a right answer gives below 1e-6).")
    passed(f"{name} agrees with centred differences")


def grade_derivative(fn, name):
    """A derivative against the reference on random arrays (the student's activation replaced by a
    correct one, so that only the derivative is graded)."""
    __tracebackhide__ = True
    base = name.replace("_derivative", "")
    r = rng(402)
    with _correct_function_in(fn, base):
        for shape in ((9,), (5, 4), (3, 2, 4)):
            z = r.normal(scale=3.0, size=shape)
            z[np.abs(z) < 1e-3] = 0.5
            expect_close(f"{name} of a random array of shape {shape}", _elementwise(name, fn, z),
                         getattr(key, name)(z), rtol=1e-6, atol=1e-9, hint=_HINTS[name])
        if base == "relu":
            at0 = _elementwise(name, fn, np.zeros(3))
            if np.any(at0 < 0) or np.any(at0 > 1):
                fail(f"relu_derivative(0) is a matter of convention between 0 and 1, got {at0}")
    passed(f"{name} matches the reference on random arrays")


# ---- initialization --------------------------------------------------------------------------------

INITS = {
    "glorot_normal_": ("normal", lambda fi, fo: np.sqrt(2.0 / (fi + fo))),
    "glorot_uniform_": ("uniform", lambda fi, fo: np.sqrt(2.0 / (fi + fo))),  # std of U(-a, a), a = sqrt(6/(fi+fo))
    "he_normal_": ("normal", lambda fi, fo: np.sqrt(2.0 / fi)),
}


def _init_model(sizes, extra=True):
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if extra:
                layers.append(nn.BatchNorm1d(b))
            layers.append(nn.ReLU())
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.weight.fill_(2.0)
                m.bias.fill_(-1.0)
    return net


def _run_init(init, name, sizes):
    """Initialize a fresh model with the student's function; -> (model, [(fan_in, fan_out, W, b)])."""
    __tracebackhide__ = True
    import torch

    net = _init_model(sizes)
    before = {id(p): p.detach().clone() for p in net.parameters()}
    ids = [id(p) for p in net.parameters()]
    call(name, init, net)
    if [id(p) for p in net.parameters()] != ids:
        fail(f"{name} replaced the model's parameter tensors; change them IN PLACE "
             "(under torch.no_grad(): weight.copy_(...) or weight.normal_(...)), so that an optimizer "
             "that already holds them sees the new values.")
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            if not (torch.all(m.weight == 2.0) and torch.all(m.bias == -1.0)):
                fail(f"{name} changed a BatchNorm layer: initialize only the nn.Linear layers.")
    layers = []
    for layer in models.linear_layers(net):
        W = layer.weight.detach().numpy().astype(float)
        if np.array_equal(W, before[id(layer.weight)].numpy()):
            fail(f"{name} left the weights of a {layer.in_features} -> {layer.out_features} layer unchanged")
        if not layer.weight.requires_grad:
            fail(f"{name} switched off requires_grad of the weights; they must stay trainable")
        layers.append((layer.in_features, layer.out_features, W, layer.bias.detach().numpy().astype(float)))
    return net, layers


@neutral
def selfcheck_init(init, name):
    """In place, zero biases, zero mean, the right distribution shape and the right dependence on the
    fans (relative scales between layers, not the absolute formula)."""
    __tracebackhide__ = True
    kind, _ = INITS[name]
    _, layers = _run_init(init, name, [200, 50, 200, 200])
    for fi, fo, W, b in layers:
        if np.any(b != 0):
            fail(f"{name}: the biases of the {fi} -> {fo} layer should be set to 0")
        if abs(W.mean()) > 5 * W.std() / np.sqrt(W.size):
            fail(f"{name}: the weights of the {fi} -> {fo} layer should have mean 0, got {W.mean():.4g}")
        ratio = np.abs(W).max() / W.std()
        if kind == "uniform" and not 1.6 < ratio < 1.8:
            fail(f"{name}: weights from a symmetric uniform distribution have max|w| / std = sqrt(3) = 1.73; "
                 f"yours have {ratio:.2f}")
        if kind == "normal" and ratio < 3:
            fail(f"{name}: weights from a normal distribution have max|w| / std well above 3 in a large layer; "
                 f"yours have {ratio:.2f} (uniform?)")
    stds = [W.std() for _, _, W, _ in layers]
    if name.startswith("glorot"):
        if not np.isclose(stds[0], stds[1], rtol=0.05):
            fail(f"{name}: a 200 -> 50 and a 50 -> 200 layer have the same fan_in + fan_out, so Glorot gives "
                 f"them the same std; yours gave {stds[0]:.4g} and {stds[1]:.4g}")
        if not np.isclose(stds[0] / stds[2], np.sqrt(8 / 5), rtol=0.05):
            fail(f"{name}: going from fan_in + fan_out = 250 to 400 should shrink the std by a factor "
                 f"sqrt(400 / 250) = 1.26; yours changed by {stds[0] / stds[2]:.3g}")
    else:
        if not np.isclose(stds[1] / stds[0], 2.0, rtol=0.05):
            fail(f"{name}: He scales with the fan-in only: a 50 -> 200 layer should have twice the std of a "
                 f"200 -> 50 layer (sqrt(200 / 50)); yours has {stds[1] / stds[0]:.3g} times")
    passed(f"{name} works in place, zeroes the biases and scales the weights with the fans as it should")


def grade_init(init, name):
    """Empirical std (and, for the uniform case, the bound) over large layers against the formula."""
    __tracebackhide__ = True
    kind, std_of = INITS[name]
    # Layers of 8,000 to 80,000 weights: at the smallest, one standard error of the std is 0.8 % and
    # of the share within one std 0.5 %, far inside the bounds (5 % and 3 %); the judge sends each
    # network to the kernel and reads it back, so no more weights than that.
    for sizes in ([300, 200, 400, 50], [64, 800, 10]):
        _, layers = _run_init(init, name, sizes)
        for fi, fo, W, b in layers:
            expected = std_of(fi, fo)
            if np.any(b != 0):
                fail(f"{name}: the biases of the {fi} -> {fo} layer should be 0")
            got = W.std()
            if not np.isclose(got, expected, rtol=0.05):
                fail(f"{name}: the weights of a {fi} -> {fo} layer (fan_in {fi}, fan_out {fo}) should have std "
                     f"{expected:.5g}, got {got:.5g}. Check the formula and which fan goes where.")
            if abs(W.mean()) > 5 * expected / np.sqrt(W.size):
                fail(f"{name}: the weights of the {fi} -> {fo} layer should have mean 0, got {W.mean():.3g}")
            if kind == "uniform":
                bound = np.sqrt(6.0 / (fi + fo))
                top = np.abs(W).max()
                if not (top <= bound * (1 + 1e-5) and top > 0.97 * bound):
                    fail(f"{name}: the weights of a {fi} -> {fo} layer should fill U(-a, a) with "
                         f"a = {bound:.5g}; their largest magnitude is {top:.5g}")
            else:
                inside = np.mean(np.abs(W) < expected)
                if not abs(inside - 0.6827) < 0.03:
                    fail(f"{name}: a normal distribution puts 68% of the weights within one std; the "
                         f"{fi} -> {fo} layer has {100 * inside:.1f}%")
    passed(f"{name}: std, mean and distribution match the formula on large layers")


# ---- Adam ---------------------------------------------------------------------------------------------

class _Loss:
    """A smooth loss of three float64 tensors of shapes (3, 4), (4,) and (2,), made from `seed`:
    loss(params) -> scalar tensor; the same seed gives the same loss wherever it is made."""

    def __init__(self, seed):
        import torch

        r = torch.Generator().manual_seed(seed)
        shapes = ((3, 4), (4,), (2,))
        self.start = [torch.randn(s, generator=r, dtype=torch.float64) for s in shapes]
        self.targets = [torch.randn(s, generator=r, dtype=torch.float64) for s in shapes]
        self.scales = [torch.rand(s, generator=r, dtype=torch.float64) * 3 + 0.5 for s in shapes]
        self.seed = seed

    def __call__(self, params):
        import torch

        return sum(((c * (p - t)) ** 2).sum() + 0.3 * torch.sin(p).sum()
                   for p, t, c in zip(params, self.targets, self.scales))


def _problem(seed):
    """(initial parameters, loss) of the _Loss made from `seed`."""
    loss = _Loss(seed)
    return [p.clone() for p in loss.start], loss


def _leaves(params):
    return [p.clone().requires_grad_(True) for p in params]


def _run_adam(adam_update, params, loss_fn, n_steps, **hyper):
    """Student's adam_update for n_steps, the same lists every step (params updated in place, the
    step number counted from 1); -> (params, grad_m, grad_v) after each step (lists of arrays)."""
    __tracebackhide__ = True
    import torch

    grad_m = [torch.zeros_like(p) for p in params]
    grad_v = [torch.zeros_like(p) for p in params]
    record = listed("adam_update", call("adam_update", steps(adam_update, _Loss, loss_fn.seed), n_steps, params,
                                        grad_m, grad_v, new_lists=False, count_from=1, **hyper), n_steps, Step)
    for step in record:
        if not step.kept:
            fail("adam_update replaced tensors in `params`; update them in place (p -= ... under torch.no_grad())")
        for m, p in zip(step.state[0] + step.state[1], step.params + step.params):
            if not (torch.is_tensor(m) and tuple(m.shape) == tuple(p.shape)):
                fail(f"after adam_update the state lists should still hold tensors shaped like the parameters, "
                     f"got {type(m).__name__} {tuple(getattr(m, 'shape', ()))}")
    return [([p.numpy() for p in step.params], [m.detach().numpy() for m in step.state[0]],
             [v.detach().numpy() for v in step.state[1]]) for step in record]


def _torch_adam(params, loss_fn, n_steps, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    import torch

    opt = torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=epsilon)
    records = []
    for _ in range(n_steps):
        opt.zero_grad()
        loss_fn(params).backward()
        opt.step()
        records.append(([p.detach().numpy().copy() for p in params],
                        [opt.state[p]["exp_avg"].numpy().copy() for p in params],
                        [opt.state[p]["exp_avg_sq"].numpy().copy() for p in params]))
    return records


@neutral
def selfcheck_adam(adam_update):
    """Adam's first step moves each weight by about lr against its gradient; later steps lower the loss."""
    __tracebackhide__ = True
    params, loss_fn = _problem(7)
    start = [p.clone() for p in params]
    leaves = _leaves(params)
    loss_fn(leaves).backward()
    grads = [p.grad.clone() for p in leaves]
    leaves = _leaves(params)
    lr = 0.01
    records = _run_adam(adam_update, leaves, loss_fn, 1, lr=lr)
    moved = np.concatenate([(after - before.numpy()).ravel() for after, before in zip(records[0][0], start)])
    g = np.concatenate([gr.numpy().ravel() for gr in grads])
    if np.all(moved == 0):
        fail("adam_update did not change the parameters")
    if np.any(np.sign(moved) != -np.sign(g)):
        fail("every weight should move against its gradient on the first step")
    if not np.allclose(np.abs(moved), lr, rtol=1e-3):
        fail(f"on the first step, bias-corrected Adam moves every weight by almost exactly lr = {lr}, whatever "
             f"the size of its gradient; yours moved them by {np.abs(moved).min():.3g} to "
             f"{np.abs(moved).max():.3g}")
    leaves = _leaves(params)
    losses = [loss_fn(leaves).item()]
    for n in (30,):
        _run_adam(adam_update, leaves, loss_fn, n, lr=0.05)
        losses.append(loss_fn(leaves).item())
    if not losses[-1] < losses[0]:
        fail(f"30 Adam steps with lr = 0.05 should lower the loss; it went {losses[0]:.4g} -> {losses[-1]:.4g}")
    passed("adam_update's first step has size lr and the loss goes down")


def grade_adam(adam_update):
    """Parameters and both moment estimates after every step, against torch.optim.Adam."""
    __tracebackhide__ = True
    settings = [dict(), dict(lr=0.05, beta1=0.8, beta2=0.99, epsilon=1e-7), dict(lr=0.01, beta1=0.5, beta2=0.9)]
    for seed, hyper in zip((11, 12, 13), settings):
        params, loss_fn = _problem(seed)
        n_steps = 12
        mine = _run_adam(adam_update, _leaves(params), loss_fn, n_steps, **hyper)
        theirs = _torch_adam(_leaves(params), loss_fn, n_steps, **hyper)
        label = ", ".join(f"{k}={v}" for k, v in hyper.items()) or "default hyper-parameters"
        for step, ((p, m, v), (tp, tm, tv)) in enumerate(zip(mine, theirs), start=1):
            for name, got, exp, hint in (
                    ("grad_m (first moment)", m, tm, "m <- beta1 m + (1 - beta1) g, stored in grad_m."),
                    ("grad_v (second moment)", v, tv, "v <- beta2 v + (1 - beta2) g^2, stored in grad_v."),
                    ("parameters", p, tp, "w <- w - lr m_hat / (sqrt(v_hat) + epsilon), with the bias-corrected "
                                          "m_hat = m / (1 - beta1^step) and v_hat = v / (1 - beta2^step).")):
                for i, (a, b) in enumerate(zip(got, exp)):
                    # loose enough for epsilon inside the square root (the lecture's form), tight enough
                    # for everything else
                    expect_close(f"{name}[{i}] after step {step} ({label})", a, b, rtol=1e-4,
                                 atol=1e-6 * max(1.0, float(np.abs(b).max())), hint=hint)
    passed("adam_update follows torch.optim.Adam step by step")


# ---- early stopping -------------------------------------------------------------------------------------

class _Script:
    """A tiny model and scripted losses: epoch e sets the weight to e + 1 (in place) and the
    validation loss of that epoch is val[e]. Made beside the student's fit (see _check_run),
    calling it runs the fit there: script(fit, max_epochs, patience) -> _Fitted."""

    def __init__(self, val):
        import torch

        self.val = list(val)
        self.model = torch.nn.Linear(1, 1, bias=False)
        with torch.no_grad():
            self.model.weight.fill_(0.0)
        self.epochs = 0

    def train_epoch(self, model):
        import torch

        with torch.no_grad():
            model.weight.fill_(float(self.epochs + 1))
        self.epochs += 1
        return 10.0 / self.epochs  # the training loss keeps falling

    def validation_loss(self, model):
        e = int(round(model.weight.item())) - 1
        return self.val[min(e, len(self.val) - 1)]

    def __call__(self, fit, max_epochs, patience):
        history = fit(self.model, self.train_epoch, self.validation_loss, max_epochs=max_epochs, patience=patience)
        return _Fitted(history=history, epochs=self.epochs, weight=self.model.weight.item())


@dataclass(frozen=True)
class _Fitted:
    """What a scripted fit left: what fit returned, the epochs it trained, the model's weight after."""

    history: object
    epochs: int
    weight: float


def _expected_run(val, max_epochs, patience):
    best, best_e, waited, n = float("inf"), None, 0, 0
    for e in range(max_epochs):
        n += 1
        if val[e] < best:
            best, best_e, waited = val[e], e, 0
        else:
            waited += 1
            if waited >= patience:
                break
    return n, best_e


def _check_run(fit, val, max_epochs, patience):
    __tracebackhide__ = True
    fitted = call("fit_early_stopping", beside(fit, _Script, val), fit, max_epochs, patience)
    if not isinstance(fitted, _Fitted):
        fail(f"fit_early_stopping: the scripted run returned {type(fitted).__name__}")
    history = fitted.history
    n, best_e = _expected_run(val, max_epochs, patience)
    shown = ", ".join(f"{v:g}" for v in val[:max_epochs])
    case = f"validation losses [{shown}], patience {patience}, max_epochs {max_epochs}"
    if fitted.epochs != n:
        fail(f"with {case}: training should run {n} epochs and stop, it ran {fitted.epochs}. An epoch improves only "
             f"when its loss is strictly below the best so far; stop after `patience` epochs in a row without "
             "improvement.")
    if not isinstance(history, dict) or not {"train_loss", "val_loss", "best_epoch"} <= set(history):
        fail(f"fit_early_stopping should return a dict with 'train_loss', 'val_loss' and 'best_epoch', got {history!r}")
    expect_close(f"history['val_loss'] with {case}", history["val_loss"], val[:n])
    expect_close(f"history['train_loss'] with {case}", history["train_loss"], [10.0 / (e + 1) for e in range(n)])
    if history["best_epoch"] != best_e:
        fail(f"with {case}: best_epoch should be {best_e} (0-based), got {history['best_epoch']!r}")
    weight = fitted.weight
    if weight != best_e + 1:
        fail(f"with {case}: after training the model should hold the weights of its best epoch ({best_e}, 0-based), "
             f"but it holds those of epoch {int(weight) - 1}. Keep a COPY of the best weights (a state_dict "
             "shares its tensors with the model) and load it back at the end.")


@neutral
def selfcheck_early_stopping(fit):
    """One scripted run: where it stops and which weights it keeps."""
    __tracebackhide__ = True
    _check_run(fit, [1.0, 0.8, 0.9, 0.85, 0.95, 0.7], max_epochs=10, patience=3)
    passed("fit_early_stopping stops after `patience` epochs without improvement and keeps the best weights")


def grade_early_stopping(fit):
    """Scripted validation losses: ties, resets of the patience counter, max_epochs, patience 1."""
    __tracebackhide__ = True
    cases = [
        ([5, 4, 3, 3.5, 3.2, 3.1, 3.05, 3.3, 2, 1], 20, 3),
        ([3, 2, 1, 1, 1, 1, 1, 0.5, 0.4], 20, 3),            # a tie is not an improvement
        ([5, 4, 4.5, 4.6, 3.9, 4.0, 4.1, 4.2, 4.3, 1], 20, 3),  # improvement resets the count
        ([9, 8, 7, 6, 5, 4, 3, 2], 6, 2),                     # max_epochs reached while improving
        ([2, 1, 1.5, 0.5, 0.2], 10, 1),
        ([1, 2, 3, 4, 5, 6, 7], 10, 4),                       # best is the first epoch
    ]
    for val, max_epochs, patience in cases:
        val = [float(v) for v in val] + [float(val[-1])] * 20
        _check_run(fit, val, max_epochs, patience)
    passed("fit_early_stopping stops at the right epoch and restores the best weights in every scripted case")
