"""nnlib's deep-linear-network code (assignment 2) against independent references."""

import itertools
import math

import numpy as np
import pytest
import torch

from nnlib import answers
from nnlib.topics import deep_linear as topic
from nnlib.checks import deep_linear as check


@pytest.fixture(scope="module")
def tree():
    state = np.random.get_state()
    np.random.seed(2021)
    try:
        return topic.generate_hsd()
    finally:
        np.random.set_state(state)


def test_tree_layout_matches_the_branching_process():
    """Does build_tree number a 3-level binary tree breadth first, each node pointing to its parent?"""
    t = topic.build_tree(3, 2, 0.15)
    assert list(t["level"]) == [0] + [1] * 2 + [2] * 4 + [3] * 8
    assert list(t["parent"]) == [None, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert np.all(t["pflip"] == 0.15)


def test_sampled_features_follow_the_tree_statistics():
    """Do two items agree on a feature with probability (1 + (1 - 2p)^(2d)) / 2, d the levels up to their common ancestor?"""
    state = np.random.get_state()
    np.random.seed(0)
    try:
        t = topic.build_tree(3, 2, 0.15)
        t["pflip"] = t["pflip"].astype(float)
        t["pflip"][0] = 0.5
        x = topic.sample_from_tree(t, 200000)
    finally:
        np.random.set_state(state)
    assert set(np.unique(x)) == {-1.0, 1.0}
    q = 1 - 2 * 0.15
    for (i, j), d in {(0, 1): 1, (0, 2): 2, (0, 4): 3, (5, 7): 2}.items():
        expected = (1 + q ** (2 * d)) / 2
        got = np.mean(x[:, i] == x[:, j])
        print(f"items {i},{j}: agreement {got:.4f}, expected {expected:.4f}")
        assert abs(got - expected) < 5e-3
    assert abs(x.mean()) < 5e-3   # root flip 0.5: every feature is +1 as often as -1


def test_generate_hsd_shapes_and_reproducibility(tree):
    """Is the data 8 one-hot items by 10,000 +-1 features, identical under the same numpy seed?"""
    labels, features = tree
    assert labels.shape == (8, 8) and np.array_equal(labels, np.eye(8))
    assert features.shape == (8, 10000)
    state = np.random.get_state()
    np.random.seed(2021)
    try:
        assert np.array_equal(topic.generate_hsd()[1], features)
    finally:
        np.random.set_state(state)


def test_add_feature_uses_its_argument():
    """Does add_feature append the column to the array it is given (and leave that array alone)?"""
    base = -np.ones((8, 3))
    out = topic.add_feature(base, [1, -1, 1, 1, -1, -1, -1, -1])
    assert out.shape == (8, 4) and np.array_equal(out[:, :3], base) and out[1, -1] == -1 and out[0, -1] == 1
    assert base.shape == (8, 3)
    with pytest.raises(ValueError):
        topic.add_feature(base, [1, 1])


def test_initializer_std_and_in_place():
    """Does initializer_ re-draw each weight in place with std gamma / sqrt(n_in + n_out)?"""
    torch.manual_seed(0)
    net = topic.LNNet(2000, 1000, 500)
    params = list(net.parameters())
    answers.deep_linear.initializer_(net, 0.3)
    assert all(a is b for a, b in zip(params, net.parameters()))
    for w in net.parameters():
        n_out, n_in = w.shape
        expected = 0.3 / math.sqrt(n_in + n_out)
        got = w.detach().double().std().item()
        print(f"{tuple(w.shape)}: std {got:.5g}, expected {expected:.5g}")
        assert abs(got / expected - 1) < 0.01


@pytest.mark.parametrize("dims", [(8, 30, 100), (6, 6, 6), (12, 7, 5)])
def test_total_weight_is_the_forward_map(dims):
    """Is total_weight the matrix the network applies (checked by running the net on the identity)?"""
    torch.manual_seed(1)
    net = topic.LNNet(*dims)
    out, hid = net(torch.eye(dims[0]))
    assert hid.shape == (dims[0], dims[1])
    torch.testing.assert_close(answers.deep_linear.total_weight(net, dims[0]), out.detach().T)


def test_net_svd_reconstructs_the_map():
    """Does net_svd give U diag(S) V^T == W_tot, with S equal to numpy's singular values?"""
    torch.manual_seed(2)
    net = topic.LNNet(8, 30, 100)
    w = answers.deep_linear.total_weight(net, 8)
    u, s, v = answers.deep_linear.net_svd(net, 8)
    torch.testing.assert_close(u @ torch.diag(s) @ v.T, w, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(w.double().numpy(), compute_uv=False), rtol=1e-5)


def test_net_rsm_against_a_loop():
    """Is net_rsm's entry (i, j) the dot product of rows i and j?"""
    h = torch.randn(5, 11, generator=torch.Generator().manual_seed(3))
    loop = torch.tensor([[float(h[i] @ h[j]) for j in range(5)] for i in range(5)])
    torch.testing.assert_close(answers.deep_linear.net_rsm(h), loop)


def test_linear_regression_against_lstsq():
    """Does linear_regression equal numpy's least-squares solution?"""
    r = np.random.default_rng(4)
    x, y = r.normal(size=(4, 30)), r.normal(size=(3, 30))
    np.testing.assert_allclose(answers.deep_linear.linear_regression(x, y), np.linalg.lstsq(x.T, y.T, rcond=None)[0].T,
                               rtol=1e-10)


def test_training_step_is_sgd_on_the_mse():
    """Does one epoch of train_lnnet move the weights as gradient descent on the MSE (independent autograd run)?"""
    torch.manual_seed(5)
    net = topic.LNNet(4, 6, 9)
    w1, w2 = (p.detach().clone().requires_grad_(True) for p in net.parameters())
    x, y = torch.eye(4), torch.randn(4, 9)
    losses, modes, rsms, ills = topic.train_lnnet(net, x, y, 1, lr=0.5, illusory_i=2, progressbar=False)
    hid = x @ w1.T
    out = hid @ w2.T
    loss = ((out - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        torch.testing.assert_close(net.in_hid.weight, w1 - 0.5 * w1.grad)
        torch.testing.assert_close(net.hid_out.weight, w2 - 0.5 * w2.grad)
    assert losses[0] == pytest.approx(loss.item())
    assert ills[0] == pytest.approx(out[2, -1].item())
    np.testing.assert_allclose(rsms[0], (hid @ hid.T).detach().numpy(), rtol=1e-5, atol=1e-7)
    w_tot = (net.hid_out.weight @ net.in_hid.weight).detach().double().numpy()
    np.testing.assert_allclose(modes[0], np.linalg.svd(w_tot, compute_uv=False), rtol=1e-4)


def test_records_are_small(tree):
    """Are the records per epoch only the loss, 8 modes, an 8 x 8 RSM and one prediction?"""
    labels, features = tree
    torch.manual_seed(6)
    _, records = topic.train_hsd(labels, features, n_epochs=5, progressbar=False)
    assert [r.shape for r in records] == [(5,), (5, 8), (5, 8, 8), (5,)]


def test_single_thread_restores_the_thread_count():
    """Does the training leave torch's thread count as it found it?"""
    before = torch.get_num_threads()
    with topic.single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_regression_shallow_and_deep_agree(tree):
    """Do regression, the zero-hidden-layer net and the trained deep net reach the same map (atol 1e-2)?"""
    labels, features = tree
    torch.manual_seed(2021)
    model, (losses, *_rest) = topic.train_hsd(labels, features, progressbar=False)
    reg = answers.deep_linear.linear_regression(labels.T, features.T)
    lr_w, _ = topic.train_lrnet(labels, features)
    deep = answers.deep_linear.total_weight(model, 8).numpy()
    print(f"max |deep - regression| {np.abs(deep - reg).max():.2e}, "
          f"max |shallow - regression| {np.abs(lr_w - reg).max():.2e}")
    assert np.allclose(reg, lr_w, atol=1e-2) and np.allclose(reg, deep, atol=1e-2)
    assert losses[-1] < 1e-6 < losses[0]


PATTERNS = list(itertools.product([-1.0, 1.0], repeat=7))[::9] + [(1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0)]


@pytest.mark.parametrize("rest", PATTERNS)
def test_illusion_rule_predicts_the_trained_network(tree, rest):
    """Does the rule of Exercise 4 predict when training shows an illusion?

    Item 0 has the value -1; an illusion is a prediction of the wrong sign above 0.1 at some epoch.
    It should happen exactly when the feature's mean over item 0's half or over all items has the
    opposite sign, and every feature the check accepts should give one above 0.2.
    """
    labels, features = tree
    f = np.array((-1.0,) + rest)
    torch.manual_seed(0)
    _, (_, _, _, pred) = topic.train_hsd(labels, topic.add_feature(features, f), progressbar=False)
    illusion = np.max(-f[0] * pred)
    leans_against = any(np.sign(f[g].mean()) == -f[0] for g in check.illusion_groups(0)[:2])
    accepted = not check.illusion_problems(list("abcdefgh"), 0, f, "new")
    print(f"{f}: strongest wrong-sign prediction {illusion:+.3f}, accepted {accepted}")
    assert (illusion > 0.1) == leans_against
    if accepted:
        assert illusion > 0.2


def test_illusion_problems_name_what_is_wrong():
    """Does the validity check accept the notebook's parrot and explain each kind of invalid answer?"""
    names = ["Goldfish", "Tuna", "Robin", "Parrot", "Rose", "Daisy", "Pine", "Oak"]
    assert check.illusion_problems(names, 3, [1, 1, 1, -1, 1, 1, 1, 1], "mute") == []
    assert "0 to 7" in " ".join(check.illusion_problems(names, 9, [1] * 8, "x"))
    assert "+1" in " ".join(check.illusion_problems(names, 3, [1, 1, 1, 0, 1, 1, 1, 1], "x"))
    assert "nearest relative" in " ".join(check.illusion_problems(names, 3, [1, 1, -1, -1, 1, 1, 1, 1], "x"))
    assert "of your own" in " ".join(check.illusion_problems(names, 3, [1, 1, 1, -1, 1, 1, 1, 1], "cannot_speak"))


def test_widgets_draw_headless_and_epoch_slider_reuses_the_run(tree, monkeypatch):
    """Do both demos draw without a display, and does moving only the epoch slider skip retraining?"""
    import matplotlib
    matplotlib.use("Agg")

    labels, features = tree
    calls = []
    train = topic.train_hsd
    monkeypatch.setattr(topic, "train_hsd", lambda *a, **k: calls.append(a) or train(*a, **k, progressbar=False))
    assert topic.loss_lr_gamma_widget(labels, features, n_epochs=80) is not None
    box = topic.rsm_widget(labels, features, n_epochs=80)
    assert len(calls) == 2
    epoch = box.children[2]
    epoch.value = 10
    assert len(calls) == 2
    box.children[0].value = 50.0
    assert len(calls) == 3
