"""nnlib's neural-network helpers against independent references: torch, centred differences,
torch.optim and large-sample statistics."""

import copy

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from nnlib import answers, gradcheck, models  # noqa: E402
from nnlib.topics import neural_networks as topic  # noqa: E402


@pytest.mark.parametrize("sizes", [[4, 1], [2, 3, 1], [64, 128, 32, 10], [5, 10, 10, 10, 10, 5]])
def test_count_parameters_matches_torch_and_the_drawing(sizes):
    """Do the formula, torch's numel() and the links of the drawing give the same counts?"""
    net = models.dense_network(sizes)
    layers = models.linear_layers(net)
    torch_counts = (sum(l.weight.numel() for l in layers), sum(l.bias.numel() for l in layers))
    fig, ax = matplotlib.pyplot.subplots()
    drawn = topic.draw_neural_net(sizes, ax=ax, draw_bias=True, show=False)
    undrawn = topic.draw_neural_net(sizes, ax=ax, show=False)
    matplotlib.pyplot.close(fig)
    assert answers.neural_networks.count_parameters(sizes) == torch_counts == drawn == undrawn


@pytest.mark.parametrize("name, torch_fn", [("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu)])
def test_activation_derivatives_match_autograd_and_centred_differences(name, torch_fn):
    """Is each reference derivative the slope of its function (autograd, and centred differences)?"""
    z = np.random.default_rng(0).normal(scale=3, size=(6, 7))
    z[np.abs(z) < 1e-3] = 0.3
    f, df = getattr(answers.neural_networks, name), getattr(answers.neural_networks, name + "_derivative")
    zt = torch.tensor(z, requires_grad=True)
    torch_fn(zt).sum().backward()
    np.testing.assert_allclose(f(z), torch_fn(torch.tensor(z)).numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(df(z), zt.grad.numpy(), rtol=1e-12, atol=1e-15)
    err = gradcheck.relative_error(df(z), gradcheck.centred(f, z), floor=1e-4)
    print(f"{name}: relative error against centred differences {err:.2e}")
    assert err < 1e-6


def test_sigmoid_is_stable_for_large_inputs():
    """Does the reference sigmoid avoid overflow for |z| = 1000?"""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = answers.neural_networks.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("init, std_of, kind", [
    (answers.neural_networks.glorot_normal_, lambda fi, fo: np.sqrt(2 / (fi + fo)), "normal"),
    (answers.neural_networks.glorot_uniform_, lambda fi, fo: np.sqrt(2 / (fi + fo)), "uniform"),
    (answers.neural_networks.he_normal_, lambda fi, fo: np.sqrt(2 / fi), "normal"),
])
def test_initializers_have_the_formula_std_in_place(init, std_of, kind):
    """Do the initializers give the formula's std on large layers, in place, with zero biases?"""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(900, 300), torch.nn.ReLU(), torch.nn.Linear(300, 600))
    ids = [id(p) for p in net.parameters()]
    init(net)
    assert [id(p) for p in net.parameters()] == ids
    for layer in models.linear_layers(net):
        fan_in, fan_out = models.fans(layer)
        assert (fan_in, fan_out) == (layer.in_features, layer.out_features)
        w = layer.weight.detach().numpy()
        assert np.isclose(w.std(), std_of(fan_in, fan_out), rtol=0.02)
        assert torch.all(layer.bias == 0)
        if kind == "uniform":
            assert np.abs(w).max() <= np.sqrt(6 / (fan_in + fan_out))


def test_glorot_and_he_match_torch_nn_init_statistics():
    """Do our initializers and torch.nn.init (xavier_normal_, kaiming_normal_) agree in std?"""
    torch.manual_seed(1)
    a, b = torch.nn.Linear(800, 200), torch.nn.Linear(800, 200)
    answers.neural_networks.glorot_normal_(a)
    torch.nn.init.xavier_normal_(b.weight)
    assert np.isclose(a.weight.std().item(), b.weight.std().item(), rtol=0.02)
    answers.neural_networks.he_normal_(a)
    torch.nn.init.kaiming_normal_(b.weight, nonlinearity="relu")
    assert np.isclose(a.weight.std().item(), b.weight.std().item(), rtol=0.02)


@pytest.mark.parametrize("hyper", [{}, {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}])
def test_adam_update_matches_torch_optim_adam(hyper):
    """Does answers.neural_networks.adam_update follow torch.optim.Adam for 20 steps, moments included?"""
    torch.manual_seed(2)
    A, t = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    w0 = torch.randn(3, dtype=torch.float64)

    def loss_fn(w):
        return ((A @ w - t) ** 2).mean() + torch.cos(w).sum()

    mine = w0.clone().requires_grad_(True)
    m, v = [torch.zeros(3, dtype=torch.float64)], [torch.zeros(3, dtype=torch.float64)]
    theirs = w0.clone().requires_grad_(True)
    opt = torch.optim.Adam([theirs], lr=hyper.get("lr", 1e-3), betas=(hyper.get("beta1", 0.9), hyper.get("beta2", 0.999)),
                           eps=hyper.get("epsilon", 1e-8))
    for step in range(1, 21):
        answers.neural_networks.adam_update(loss_fn(mine), [mine], m, v, step, **hyper)
        opt.zero_grad()
        loss_fn(theirs).backward()
        opt.step()
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(m[0].numpy(), opt.state[theirs]["exp_avg"].numpy(), rtol=1e-12)
        np.testing.assert_allclose(v[0].numpy(), opt.state[theirs]["exp_avg_sq"].numpy(), rtol=1e-12)


def test_update_path_with_adam_retraces_torch_adam_on_the_toy_surface():
    """Does the hand-written Adam path on Beale's function coincide with torch.optim.Adam's?"""
    cls, kw = topic.lecture_optimizers()["adam"]
    theirs = topic.optimizer_path(lambda ps: cls(ps, **kw), n_steps=50)
    mine = topic.update_path(answers.neural_networks.adam_update, n_steps=50, lr=kw["lr"])
    np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    assert topic.beale(*theirs[-1]) < topic.beale(*theirs[0])


def test_beale_minimum():
    """Is (3, 0.5) a zero of the toy surface, with zero gradient (autograd)?"""
    w = torch.tensor([3.0, 0.5], dtype=torch.float64, requires_grad=True)
    value = topic.beale(w[0], w[1])
    value.backward()
    assert value.item() == 0 and torch.all(w.grad.abs() < 1e-12)


def test_fit_early_stopping_stops_after_patience_and_restores_the_best_weights():
    """With validation losses 3, 2, 2.5, 2.2, 2.1, 1.0, does patience 3 stop after epoch 5 with epoch 2's weights?"""
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    val = [3.0, 2.0, 2.5, 2.2, 2.1, 1.0]
    state = {"epoch": 0}

    def train_epoch(m):
        with torch.no_grad():
            m.weight.add_(1.0)  # in place, as an optimizer does
        state["epoch"] += 1
        return 0.0

    history = answers.neural_networks.fit_early_stopping(model, train_epoch, lambda m: val[state["epoch"] - 1],
                                          max_epochs=10, patience=3)
    assert state["epoch"] == 5 and history["best_epoch"] == 1
    assert history["val_loss"] == val[:5]
    assert model.weight.item() == 2.0


def test_fit_early_stopping_trains_digits_and_keeps_its_best_validation_loss():
    """On the digits, is the validation loss of the returned model the best one recorded?"""
    torch.manual_seed(0)
    X, y, Xv, yv, _, _ = topic.digits_split(n_train=200)
    net = models.dense_network([64, 32, 10])
    before = copy.deepcopy(net.state_dict())
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    evaluate = topic.evaluator(Xv, yv)
    history = answers.neural_networks.fit_early_stopping(net, topic.epoch_trainer(X, y, opt), evaluate, max_epochs=15, patience=3)
    assert np.isclose(evaluate(net), min(history["val_loss"]))
    assert not torch.equal(before["0.weight"], net.state_dict()["0.weight"])
    assert topic.accuracy(net, Xv, yv) > 0.8


def test_backprop_gradient_norms_match_autograd():
    """Is the hand-backpropagated gradient of the numpy stack the one torch autograd computes?"""
    depth, width = 6, 12
    norms = topic.backprop_gradient_norms(answers.neural_networks.tanh, answers.neural_networks.tanh_derivative, depth=depth, width=width,
                                          n_samples=5, seed=3)
    r = np.random.default_rng(3)
    weights = [torch.tensor(r.normal(scale=1 / np.sqrt(width), size=(width, width))) for _ in range(depth)]
    x = torch.tensor(r.normal(size=(5, width)), requires_grad=True)
    a = x
    inputs = []
    for W in weights:
        a.retain_grad()
        inputs.append(a)
        a = torch.tanh(a @ W)
    a.sum().backward()
    expected = [inp.grad.abs().mean().item() for inp in inputs]
    np.testing.assert_allclose(norms, expected, rtol=1e-10)


def test_activation_statistics_he_keeps_relu_alive():
    """Does He initialization keep the std of a deep ReLU stack's activations away from 0, unlike N(0, 0.01^2)?"""
    he = topic.activation_statistics(answers.neural_networks.he_normal_, "relu", depth=8, width=64)
    assert he.shape == (8, 2) and he[-1, 1] > 0.2

    def tiny(model):
        for layer in models.linear_layers(model):
            torch.nn.init.normal_(layer.weight, std=0.01)
            torch.nn.init.zeros_(layer.bias)
        return model
    assert topic.activation_statistics(tiny, "relu", depth=8, width=64)[-1, 1] < 1e-6


def test_dense_net_demo_draws_headless_and_redraws_for_its_sliders():
    """Does the dense-net demo draw its default net, and a new drawing when a slider moves?"""
    box = topic.dense_net_widget()
    first = [o["data"]["image/png"] for o in box.canvas.outputs if o["output_type"] == "display_data"]
    box.controls["nodes"].value = 3
    second = [o["data"]["image/png"] for o in box.canvas.outputs if o["output_type"] == "display_data"]
    assert len(first) == len(second) == 1 and first != second
