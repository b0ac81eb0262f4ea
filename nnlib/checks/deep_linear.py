"""Checks for the assignment on deep linear networks: initialization, SVD of the total weight,
representational similarity, illusory correlations and linear regression."""

import math

import numpy as np
import torch
from torch import nn

from nnlib import models, seeding
from nnlib.checks import call, expect_close, fail, neutral, optional, passed, rng, to_array
from nnlib.checks import defined  # noqa: F401 (the notebook's test cells call check.defined)
from nnlib.topics import deep_linear as topic

EXAMPLE_LABELS = ("has_bones", "cannot_speak")   # the notebook's own illusions


# ---- ex_initializer_ -------------------------------------------------------------------------

def _weights(model):
    return [p for p in model.parameters()]


def _init_and_inspect(fn, model, gamma, seed):
    """Run fn(model, gamma) and check that it changed every weight in place; -> list of weights."""
    __tracebackhide__ = True
    before = _weights(model)
    copies = [p.detach().clone() for p in before]
    with seeding.kept(seed, ("torch",)):
        call(f"ex_initializer_(model, gamma={gamma:.3g})", fn, model, gamma)
    after = _weights(model)
    if len(after) != len(before) or any(a is not b for a, b in zip(after, before)):
        fail("ex_initializer_ replaced the model's parameters with new ones; it should overwrite the "
             "values of the existing weights in place (e.g. with a function whose name ends in _).")
    for i, (p, old) in enumerate(zip(after, copies)):
        if tuple(p.shape) != tuple(old.shape):
            fail(f"weight {i} changed shape from {tuple(old.shape)} to {tuple(p.shape)}")
        if torch.equal(p.detach(), old):
            fail(f"weight {i} of shape {tuple(p.shape)} still holds its old values after "
                 "ex_initializer_(model, gamma): the function must re-draw the weights in place, "
                 "not build new tensors that the model never sees.")
    return after


def _std_message(i, shape, gamma, expected, got):
    return (f"weight {i} of shape {shape} (n_out, n_in) with gamma = {gamma:.3g}: expected a standard "
            f"deviation of {expected:.4g}, got {got:.4g} (ratio {got / expected:.3g}).")


@neutral
def selfcheck_initializer(ex_initializer_):
    """The spread of the drawn weights for gamma = 1 and gamma = 3, and that they change in place."""
    __tracebackhide__ = True
    model = topic.LNNet(600, 200, 1)
    stds = []
    for gamma in (1.0, 3.0):
        weight = _init_and_inspect(ex_initializer_, model, gamma, seed=7)[0].detach().double()
        stds.append(weight.std().item())
    expected = 1.0 / math.sqrt(800)
    if not abs(stds[0] / expected - 1) < 0.02:
        fail(_std_message(0, (200, 600), 1.0, expected, stds[0])
             + " Check sigma: which sizes does it use, and does nn.init.normal_ take a variance or a standard deviation?")
    if not abs(stds[1] / stds[0] - 3) < 0.06:
        fail(f"tripling gamma should triple the standard deviation of the weights; it went "
             f"{stds[0]:.4g} -> {stds[1]:.4g}")
    passed("ex_initializer_ re-draws the weights in place with the right spread")


def _kurtosis(x):
    x = x - x.mean()
    return float((x ** 4).mean() / (x ** 2).mean() ** 2)


def grade_initializer(ex_initializer_):
    """Large layers with random gamma: in place, mean 0, std gamma / sqrt(n_in + n_out), normal shape."""
    __tracebackhide__ = True
    # Layers of 32,000 to 250,000 weights: the spread to 0.4 % and the kurtosis to 0.03 (one standard
    # error at the smallest), well inside the bounds, at a tenth of the data the judge sends and reads.
    r = rng(301)
    nets = [nn.Sequential(nn.Linear(1000, 250, bias=False), nn.Linear(250, 400, bias=False),
                          nn.Linear(400, 80, bias=False)),
            topic.LNNet(500, 500, 200)]
    gammas = [1e-12, float(10 ** r.uniform(-3, 1))]
    gammas += [float(10 ** r.uniform(-3, 1))]
    for k, (net, gamma) in enumerate([(nets[0], gammas[1]), (nets[1], gammas[0]), (nets[1], gammas[2])]):
        for i, weight in enumerate(_init_and_inspect(ex_initializer_, net, gamma, seed=310 + k)):
            w = weight.detach().double().flatten()
            n_out, n_in = weight.shape
            expected = gamma / math.sqrt(n_in + n_out)
            std = w.std().item()
            if not abs(std / expected - 1) < 0.02:
                fail(_std_message(i, (n_out, n_in), gamma, expected, std))
            mean = w.mean().item()
            if abs(mean) > 6 * expected / math.sqrt(w.numel()):
                fail(f"weight {i} of shape {(n_out, n_in)}: the mean should be 0, got {mean:.4g} "
                     f"(std {std:.4g})")
            kurt = _kurtosis(w / expected)
            if not 2.85 < kurt < 3.15:
                fail(f"weight {i} of shape {(n_out, n_in)}: the values do not look normally distributed "
                     f"(kurtosis {kurt:.3f}; a normal distribution has 3, a uniform one 1.8)")
    passed("ex_initializer_ draws N(0, (gamma / sqrt(n_in + n_out))^2) in place, for every layer")


# ---- ex_net_svd --------------------------------------------------------------------------------

def _svd_parts(result):
    __tracebackhide__ = True
    if not (isinstance(result, (tuple, list)) or type(result).__name__.endswith("SVD")) or len(result) != 3:
        fail(f"ex_net_svd should return three things (U, S, V), got {type(result).__name__}")
    return [to_array(name, part) for name, part in zip(("U", "S", "V"), result)]


def _compare_svd(what, parts, w_tot, tol):
    """Shapes as torch.svd's, S, orthonormal columns and U diag(S) V^T == W_tot."""
    __tracebackhide__ = True
    u, s, v = parts
    ref_u, ref_s, ref_v = (t.numpy() for t in torch.svd(torch.from_numpy(w_tot)))
    for name, got, ref in (("U", u, ref_u), ("S", s, ref_s), ("V", v, ref_v)):
        if got.shape != ref.shape:
            fail(f"{what}: {name} should have shape {ref.shape} for a total weight of shape {w_tot.shape}, "
                 f"got {got.shape}. torch.svd returns the reduced U, S and V (V itself, not its transpose).")
    scale = max(float(np.abs(ref_s).max()), 1e-12)
    expect_close(f"{what}: singular values S", s, ref_s, rtol=tol, atol=tol * scale,
                 hint="S should hold the singular values of the product of ALL weight matrices, last layer on the left.")
    k = len(ref_s)
    for name, m in (("U", u), ("V", v)):
        if not np.allclose(m.T @ m, np.eye(k), atol=1e-3):
            fail(f"{what}: the columns of {name} should be orthonormal ({name}^T {name} = I); they are not")
    expect_close(f"{what}: U diag(S) V^T (the reconstructed total weight)", (u * s) @ v.T, w_tot,
                 rtol=tol, atol=tol * scale,
                 hint="U diag(S) V^T should give back the total weight W_tot = W_L ... W_1. "
                      "Check the order of the product and that V is returned, not V^T.")


def _net_with_total(seed, in_dim, hid_dim, out_dim):
    with seeding.kept(seed, ("torch",)):
        model = models.normal_weights_(topic.LNNet(in_dim, hid_dim, out_dim),
                                       lambda fan_in, _: 1.0 / math.sqrt(fan_in))
    w1, w2 = (p.detach().double().numpy() for p in model.parameters())
    return model, w2 @ w1


@neutral
def selfcheck_net_svd(ex_net_svd):
    """A net whose total weight has singular values 3, 2 and 0.5."""
    __tracebackhide__ = True
    r = rng(5)
    q_out, _ = np.linalg.qr(r.normal(size=(5, 3)))
    q_in, _ = np.linalg.qr(r.normal(size=(3, 3)))
    target = q_out @ np.diag([3.0, 2.0, 0.5]) @ q_in.T
    model = topic.LNNet(3, 4, 5)
    with torch.no_grad():
        w1 = np.vstack([np.eye(3), np.zeros((1, 3))])                   # (4, 3): copies the input
        w2 = np.hstack([target, r.normal(size=(5, 1))])                 # (5, 4)
        model.in_hid.weight.copy_(torch.from_numpy(w1))
        model.hid_out.weight.copy_(torch.from_numpy(w2))
    parts = _svd_parts(call("ex_net_svd(model, 3)", ex_net_svd, model, 3))
    expect_close("singular values of the 3 -> 4 -> 5 test net", parts[1], [3.0, 2.0, 0.5], rtol=1e-4, atol=1e-5,
                 hint="The test net's total weight has singular values 3, 2 and 0.5.")
    _compare_svd("3 -> 4 -> 5 test net", parts, w2 @ w1, 1e-4)
    passed("ex_net_svd decomposes the total weight of a small net")


def grade_net_svd(ex_net_svd):
    """Random nets of several shapes: shapes, S, orthonormality, and U diag(S) V^T == W2 W1."""
    __tracebackhide__ = True
    for seed, dims in ((401, (8, 30, 100)), (402, (6, 6, 6)), (403, (12, 7, 5)), (404, (5, 9, 3))):
        model, w_tot = _net_with_total(seed, *dims)
        what = f"LNNet{dims}"
        parts = _svd_parts(call(f"ex_net_svd({what}, {dims[0]})", ex_net_svd, model, dims[0]))
        _compare_svd(what, parts, w_tot, 1e-4)
    passed("ex_net_svd returns U, S, V of the total weight with U diag(S) V^T == W_tot")


# ---- ex_net_rsm --------------------------------------------------------------------------------

@neutral
def selfcheck_net_rsm(ex_net_rsm):
    """Shape, symmetry, and how the similarity changes when one item's activity is scaled."""
    __tracebackhide__ = True
    h = torch.from_numpy(rng(6).normal(size=(4, 7))).float()
    got = to_array("ex_net_rsm(h)", call("ex_net_rsm(h) for h of shape (4, 7)", ex_net_rsm, h.clone()))
    if got.shape != (4, 4):
        fail(f"for hidden activity of 4 items x 7 units the RSM should be 4 x 4 (item by item), got {got.shape}")
    if not np.allclose(got, got.T, rtol=1e-5, atol=1e-6):
        fail("the RSM should be symmetric: item i is as similar to item j as j is to i")
    h2 = h.clone()
    h2[0] *= 2
    got2 = to_array("ex_net_rsm(h)", call("ex_net_rsm(h)", ex_net_rsm, h2))
    if not np.allclose(got2[0, 1:], 2 * got[0, 1:], rtol=1e-4, atol=1e-6):
        fail("doubling item 0's hidden activity should double its similarity with every other item "
             "(this RSM uses plain dot products, not normalised ones)")
    passed("ex_net_rsm gives a symmetric item-by-item matrix of dot products")


def grade_net_rsm(ex_net_rsm):
    """Random hidden activities of random shapes against h h^T."""
    __tracebackhide__ = True
    r = rng(501)
    shapes = [(8, 30), (5, 5), (13, 4), (1, 9), (int(r.integers(2, 20)), int(r.integers(2, 40)))]
    for shape in shapes:
        h = r.normal(size=shape).astype(np.float32)
        expected = h.astype(float) @ h.astype(float).T
        got = call(f"ex_net_rsm(h) for h of shape {shape}", ex_net_rsm, torch.from_numpy(h.copy()))
        expect_close(f"RSM of a random h of shape {shape}", got, expected, rtol=1e-4,
                     atol=1e-4 * np.abs(expected).max(),
                     hint="Each entry (i, j) is the dot product of item i's and item j's hidden activity.")
    passed("ex_net_rsm matches h h^T on random activities")


# ---- your own illusory correlation -------------------------------------------------------------

def illusion_groups(index, n_items=8):
    """The groups the tree puts item `index` in, widest first: all items, its half, its pair."""
    size = n_items
    groups = []
    while size > 1:
        start = (index // size) * size
        groups.append(list(range(start, start + size)))
        size //= 2
    return groups


def illusion_problems(item_names, illusion_idx, new_feature, label):
    """Why (item_names, illusion_idx, new_feature, label) is not a valid illusion; [] if it is.

    Valid: 8 distinct names, an integer index 0-7, 8 values each +1 or -1, a new label, the item's
    value differs from its sibling's (its nearest relative), and the mean of the feature over a
    wider group that holds the item (its half of the tree, or all items) has the opposite sign of
    the item's value: the modes a deep linear net learns first then predict the wrong value.
    """
    problems = []
    names = list(item_names) if isinstance(item_names, (list, tuple, np.ndarray)) else None
    if names is None or len(names) != 8 or not all(isinstance(n, str) and n.strip() for n in names):
        problems.append(f"item names should be a list of 8 non-empty strings, got {item_names!r}")
    elif len(set(names)) != 8:
        problems.append(f"item names should be 8 different names, got {names}")
    if isinstance(illusion_idx, bool) or not isinstance(illusion_idx, (int, np.integer)):
        problems.append(f"the index should be an integer, got {illusion_idx!r}")
        return problems
    if not 0 <= illusion_idx < 8:
        problems.append(f"the index should pick one of the 8 items (0 to 7), got {illusion_idx}")
        return problems
    try:
        f = np.asarray(new_feature, dtype=float)
    except (TypeError, ValueError):
        return problems + [f"the feature should be 8 numbers, +1 or -1, got {new_feature!r}"]
    if f.shape != (8,):
        return problems + [f"the feature should hold one value per item (shape (8,)), got shape {f.shape}"]
    if not np.all(np.isin(f, (-1.0, 1.0))):
        return problems + [f"every value of the feature should be +1 (has it) or -1 (has not), got {f.tolist()}"]
    if not (isinstance(label, str) and label.strip()):
        problems.append(f"the feature's label should be a non-empty string, got {label!r}")
    elif label.strip().lower() in EXAMPLE_LABELS:
        problems.append(f"'{label}' is one of the notebook's examples: make up an illusion of your own")
    i = int(illusion_idx)
    value = f[i]
    sibling = i ^ 1
    who = names[i] if names and len(names) == 8 else f"item {i}"
    if f[sibling] == value:
        problems.append(f"{who} and its nearest relative (item {sibling}) have the same value; an "
                        "illusion needs a feature that sets your item apart from the items the tree groups it with")
    elif not any(np.sign(f[g].mean()) == -value for g in illusion_groups(i)[:2]):
        problems.append(f"averaged over {who}'s half of the tree, and over all items, the feature does not "
                        f"lean against {who}'s own value ({value:+.0f}), so the modes the net learns first "
                        "predict the right value from the start: no illusion arises")
    return problems


def _check_illusion(item_names, illusion_idx, new_feature, label):
    __tracebackhide__ = True
    problems = illusion_problems(item_names, illusion_idx, new_feature, label)
    if problems:
        fail("; ".join(problems))


@neutral
def selfcheck_illusion(item_names, illusion_idx, new_feature, label):
    """Validity of your illusion (the same rules as the grade)."""
    __tracebackhide__ = True
    _check_illusion(item_names, illusion_idx, new_feature, label)
    passed(f"'{label}' for {item_names[illusion_idx]} can give an illusory correlation")


def grade_illusion(item_names, illusion_idx, new_feature, label):
    """Validity: names, index, +-1 feature, a new label, and a feature that contradicts the item's relatives."""
    __tracebackhide__ = True
    _check_illusion(item_names, illusion_idx, new_feature, label)
    f = np.asarray(new_feature, dtype=float)
    early = {len(g): f[g].mean() for g in illusion_groups(int(illusion_idx))}
    print("mean of the feature over the item's groups:",
          ", ".join(f"{n} items {m:+.2f}" for n, m in early.items()))
    passed("your illusion is valid")


# ---- linear_regression -------------------------------------------------------------------------

def _regression_case(r, m, n, s, noise):
    w_true = r.integers(0, 10, size=(n, m)).astype(float)
    x = r.random((m, s))
    return w_true, x, w_true @ x + noise * r.normal(size=(n, s))


@neutral
@optional
def selfcheck_linear_regression(linear_regression):
    """Noise-free data from a known 2 x 3 map: the map should come back exactly."""
    __tracebackhide__ = True
    w_true, x, y = _regression_case(rng(8), 3, 2, 37, 0.0)
    got = call("linear_regression(X, Y)", linear_regression, x.copy(), y.copy())
    expect_close("linear_regression on noise-free data Y = W X with W of shape (2, 3)", got, w_true,
                 rtol=1e-6, atol=1e-6,
                 hint="Without noise the least-squares map is the map that made the data; it has one row "
                      "per target and one column per input.")
    passed("linear_regression recovers a known map from noise-free data")


def grade_linear_regression(linear_regression):
    """Random noisy data of several shapes against the least-squares solution."""
    __tracebackhide__ = True
    r = rng(601)
    for m, n, s in ((3, 3, 37), (4, 2, 50), (2, 5, 9), (8, 6, 8)):
        _, x, y = _regression_case(r, m, n, s, 0.3)
        expected = np.linalg.lstsq(x.T, y.T, rcond=None)[0].T
        got = call("linear_regression(X, Y)", linear_regression, x.copy(), y.copy())
        expect_close(f"least-squares map for X of shape {x.shape}, Y of shape {y.shape}", got, expected,
                     rtol=1e-6, atol=1e-7 * np.abs(expected).max(),
                     hint="W should minimise the squared error ||Y - W X||^2: set its gradient to zero.")
    passed("linear_regression matches the least-squares solution on noisy data")
