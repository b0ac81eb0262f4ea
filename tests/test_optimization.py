"""nnlib's optimization helpers against independent references: torch.optim, torch autograd,
centred differences, and IDX files written here byte by byte."""

import copy
import gzip
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from nnlib import answers, gradcheck, models, optim  # noqa: E402
from nnlib.topics import optimization as topic  # noqa: E402
from nnlib.checks import optimization as check  # noqa: E402


def _problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(3, 5, generator=g, dtype=torch.float64)
    b = torch.randn(3, generator=g, dtype=torch.float64)
    x = torch.randn(10, 5, generator=g, dtype=torch.float64)
    t = torch.randint(3, (10,), generator=g)

    def loss_fn(params):
        return F.cross_entropy(x @ params[0].T + params[1], t) + 0.01 * (params[0] ** 4).sum()

    return [W, b], loss_fn


def _leaves(params0):
    return [p.clone().requires_grad_(True) for p in params0]


def _run_ours(update, params0, loss_fn, steps, n_state, **kw):
    params = _leaves(params0)
    state = [[torch.zeros_like(p) for p in params] for _ in range(n_state)]
    path = []
    for _ in range(steps):
        update(loss_fn(params), params, *state, **kw)
        path.append([p.detach().clone() for p in params])
    return path


def _run_torch(opt_cls, params0, loss_fn, steps, **kw):
    params = _leaves(params0)
    opt = opt_cls(params, **kw)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(params).backward()
        opt.step()
        path.append([p.detach().clone() for p in params])
    return path


def _assert_paths(ours, theirs, rtol):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=rtol, atol=1e-12, err_msg=f"step {step + 1}")


def test_gradient_update_is_torch_sgd():
    """Does gradient_update take the same 8 steps as torch.optim.SGD?"""
    params0, loss_fn = _problem(1)
    _assert_paths(_run_ours(optim.gradient_update, params0, loss_fn, 8, 0, lr=0.1),
                  _run_torch(torch.optim.SGD, params0, loss_fn, 8, lr=0.1), rtol=1e-12)


@pytest.mark.parametrize("lr, beta", [(0.1, 0.9), (0.03, 0.5), (0.2, 0.0)])
def test_momentum_is_torch_sgd_with_momentum(lr, beta):
    """Is v <- -lr g + beta v, w <- w + v the same path as torch's b <- beta b + g, w <- w - lr b?"""
    params0, loss_fn = _problem(2)
    _assert_paths(_run_ours(answers.optimization.momentum_update, params0, loss_fn, 10, 1, lr=lr, beta=beta),
                  _run_torch(torch.optim.SGD, params0, loss_fn, 10, lr=lr, momentum=beta), rtol=1e-10)


@pytest.mark.parametrize("alpha", [0.8, 0.99])
def test_rmsprop_is_torch_rmsprop_up_to_epsilon_placement(alpha):
    """Does rmsprop_update follow torch.optim.RMSprop? Identical with epsilon = 0; with the default
    epsilon (inside the root here, outside in torch) only components whose gradient is near zero
    step differently, by less than the learning rate per step (printed)."""
    params0, loss_fn = _problem(3)
    ours = _run_ours(answers.optimization.rmsprop_update, params0, loss_fn, 10, 1, lr=0.01, alpha=alpha, epsilon=0.0)
    theirs = _run_torch(torch.optim.RMSprop, params0, loss_fn, 10, lr=0.01, alpha=alpha, eps=0.0)
    _assert_paths(ours, theirs, rtol=1e-10)
    ours = _run_ours(answers.optimization.rmsprop_update, params0, loss_fn, 10, 1, lr=0.01, alpha=alpha, epsilon=1e-8)
    theirs = _run_torch(torch.optim.RMSprop, params0, loss_fn, 10, lr=0.01, alpha=alpha, eps=1e-8)
    err = max(float((a - b).abs().max()) for sa, sb in zip(ours, theirs) for a, b in zip(sa, sb))
    print(f"largest parameter difference over 10 steps with epsilon 1e-8: {err:.2e}")
    assert err < 10 * 0.01


def test_updates_zero_stale_gradients_and_keep_state_in_place():
    """Do the updates ignore a stale .grad and update the caller's state tensors themselves?"""
    params0, loss_fn = _problem(4)
    for update in (answers.optimization.momentum_update, answers.optimization.rmsprop_update):
        clean, stale = _leaves(params0), _leaves(params0)
        for p in stale:
            p.grad = torch.full_like(p, 5.0)
        s_clean = [torch.zeros_like(p) for p in clean]
        s_stale = [torch.zeros_like(p) for p in stale]
        ids = [id(s) for s in s_stale]
        update(loss_fn(clean), clean, s_clean, lr=0.1)
        update(loss_fn(stale), stale, list(s_stale), lr=0.1)
        assert [id(s) for s in s_stale] == ids and all(torch.any(s != 0) for s in s_stale)
        for a, b in zip(clean, stale):
            assert torch.equal(a, b) and a.is_leaf and a.requires_grad


def test_zero_grad_leaves_missing_gradients_alone():
    """Does zero_grad zero existing gradients and skip tensors without one?"""
    a, b = torch.ones(3, requires_grad=True), torch.ones(2, requires_grad=True)
    a.grad = torch.full((3,), 2.0)
    optim.zero_grad([a, b])
    assert torch.equal(a.grad, torch.zeros(3)) and b.grad is None


def test_n_state_counts_state_lists():
    """Does n_state read 0 state lists for gradient descent and 1 for momentum and RMSprop?"""
    assert optim.n_state(optim.gradient_update) == 0
    assert optim.n_state(answers.optimization.momentum_update) == optim.n_state(answers.optimization.rmsprop_update) == 1


def test_run_optimizer_logs_parameters_and_loss_before_each_step():
    """Does run_optimizer record (u, v, loss) before each step and reach the minimum of a quadratic?"""
    traj = optim.run_optimizer([0.0, 0.0], lambda u, v: (u - 1) ** 2 + 4 * (v + 2) ** 2,
                               answers.optimization.momentum_update, 300, {"lr": 0.02, "beta": 0.9})
    assert traj.shape == (300, 3)
    assert traj[0].tolist() == [0.0, 0.0, 17.0]
    np.testing.assert_allclose(traj[-1, :2], [1.0, -2.0], atol=1e-5)


def test_mlp_outputs_log_probabilities():
    """Does MLP flatten images and return log-probabilities (rows of exp summing to 1)?"""
    torch.manual_seed(0)
    net = models.MLP(in_dim=16, out_dim=10, hidden_dims=[7, 5])
    out = net(torch.randn(6, 4, 4))
    assert out.shape == (6, 10)
    np.testing.assert_allclose(out.exp().sum(dim=1).detach().numpy(), 1.0, rtol=1e-6)
    assert [m.out_features for m in net.main if isinstance(m, torch.nn.Linear)] == [7, 5, 10]
    assert models.parameter_count(models.MLP(64, 10, [], use_bias=False)) == 640


def _linear_case():
    torch.manual_seed(1)
    X = torch.randn(40, 16, dtype=torch.float64)
    y = torch.randint(10, (40,))
    return models.MLP(16, 10, []), X, y


def test_loss_2d_equals_the_model_with_two_parameters_replaced():
    """Is loss_2d(u, v) the model's loss after setting W[0, 9] = u and b[7] = v (also on a grid)?"""
    model, X, y = _linear_case()
    twin = models.MLP(16, 10, []).double()
    twin.load_state_dict(model.state_dict())
    with torch.no_grad():
        twin.main[0].weight[0, 9], twin.main[0].bias[7] = 0.7, -1.3
    expected = F.nll_loss(twin(X), y).item()
    assert topic.loss_2d(model, 0.7, -1.3, X, y, mask_idx=(0, 9), bias_id=7).item() == pytest.approx(expected, rel=1e-12)
    U, V, Z = topic.loss_surface(lambda u, v: topic.loss_2d(model, u, v, X, y, (0, 9), 7),
                                 np.array([0.0, 0.7]), np.array([-1.3, 2.0]))
    assert Z.shape == (2, 2) and Z[0, 1] == pytest.approx(expected, rel=1e-12)


def test_newton_optimum_has_zero_gradient():
    """Is the gradient at Newton's optimum zero? (centred differences, printed)"""
    model, X, y = _linear_case()

    def g(u, v):
        return topic.loss_2d(model, u, v, X, y, mask_idx=(0, 9), bias_id=7)

    u, v = topic.newton_optimum(g)
    du, dv = gradcheck.gradient(lambda w: g(w[0], w[1]).item(), (u, v), eps=1e-5)
    print(f"gradient at the optimum by centred differences: ({du:.2e}, {dv:.2e})")
    assert abs(du) < 1e-8 and abs(dv) < 1e-8


def test_reference_sample_minibatch_pairs_rows():
    """Does the reference sampler return num_points rows with their own labels?"""
    X = torch.arange(50.0).reshape(50, 1).repeat(1, 3)
    y = torch.arange(50)
    torch.manual_seed(0)
    xb, yb = answers.optimization.sample_minibatch(X, y, 20)
    assert xb.shape == (20, 3) and torch.equal(xb[:, 0].long(), yb)


def _write_idx(path, array, gz=False):
    codes = {np.uint8: 0x08}
    header = bytes([0, 0, codes[array.dtype.type], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.tobytes()
    (gzip.open if gz else open)(path, "wb").write(raw)


def _fake_mnist(folder, gz):
    rng = np.random.default_rng(0)
    names = topic._MNIST_FILES
    train = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    suffix = ".gz" if gz else ""
    _write_idx(folder / (names["train_images"] + suffix), train, gz)
    _write_idx(folder / (names["test_images"] + suffix), test, gz)
    _write_idx(folder / (names["train_labels"] + suffix), rng.integers(0, 10, 12, dtype=np.uint8), gz)
    _write_idx(folder / (names["test_labels"] + suffix), rng.integers(0, 10, 5, dtype=np.uint8), gz)
    return train, test


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_idx_files_and_standardises_with_training_statistics(tmp_path, gz):
    """Does load_mnist read (gzipped) IDX files and standardise both splits with the training mean and std?"""
    train, test = _fake_mnist(tmp_path, gz)
    X_train, y_train, X_test, y_test = topic.load_mnist(tmp_path)
    mean, std = train.astype(np.float32).mean(), train.astype(np.float32).std()
    assert X_train.shape == (12, 784) and X_test.shape == (5, 784) and y_train.dtype == torch.int64
    np.testing.assert_allclose(X_test.numpy(), (test.reshape(5, -1) - mean) / std, rtol=1e-5, atol=1e-6)
    assert abs(float(X_train.mean())) < 1e-5


def test_load_mnist_finds_the_folder_from_the_environment(tmp_path, monkeypatch):
    """Does NNLIB_MNIST_DIR stand in for the path argument, and handwritten_digits('mnist') adapt to 28x28?"""
    _fake_mnist(tmp_path, gz=False)
    monkeypatch.setenv(topic.MNIST_ENV, str(tmp_path))
    ds = topic.handwritten_digits("mnist")
    assert (ds.in_dim, ds.side, ds.centre_pixel) == (784, 28, 378)


def test_load_mnist_says_what_to_do_when_files_are_absent(tmp_path, monkeypatch):
    """Without a folder, or with a file missing, is the error a FileNotFoundError that says what to do?"""
    monkeypatch.delenv(topic.MNIST_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match="NNLIB_MNIST_DIR"):
        topic.load_mnist()
    _fake_mnist(tmp_path, gz=False)
    (tmp_path / topic._MNIST_FILES["test_labels"]).unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        topic.load_mnist(tmp_path)


def test_digits_set_sizes_follow_the_data():
    """Does the default data set give 8x8 images, 64 inputs and centre pixel 28?"""
    ds = topic.handwritten_digits()
    assert (ds.in_dim, ds.side, ds.centre_pixel) == (64, 8, 28)
    X_held, y_held = check._held_out_digits("digits")
    assert len(ds.y_train) + len(ds.y_test) + len(y_held) == 1797 and len(y_held) > 200


def test_bonus_is_scored_on_digits_no_notebook_gets():
    """Are the bonus check's held-out images none of the notebook's, and does the benchmark score above 97% on them?"""
    ds = topic.handwritten_digits()
    X_held, y_held = check._held_out_digits("digits")
    seen = torch.cat([ds.X_train, ds.X_test])
    assert torch.cdist(X_held, seen).min() > 1e-6
    _, acc = topic.evaluate(topic.load_benchmark("digits"), X_held, y_held)
    assert acc > 0.97
    assert check.grade_bonus(topic.load_benchmark("digits")) == 2.0


def test_benchmark_model_is_shipped_and_accurate():
    """Does the stored benchmark load (float16 -> float32) and score above 97% on the digits' test set?"""
    model = topic.load_benchmark("digits")
    ds = topic.handwritten_digits()
    loss, acc = topic.evaluate(model, ds.X_test, ds.y_test)
    print(f"benchmark test accuracy {acc:.4f}, loss {loss:.3f}")
    assert acc > 0.97
    assert topic.benchmark_path("digits").stat().st_size < 100_000


def test_evaluate_matches_a_direct_computation():
    """Are evaluate's loss and accuracy the mean NLL and the share of right argmaxes, across batches?"""
    torch.manual_seed(3)
    model = models.MLP(8, 10, [6])
    X, y = torch.randn(25, 8), torch.randint(10, (25,))
    loss, acc = topic.evaluate(model, X, y, batch_size=7)
    with torch.no_grad():
        out = model(X)
    assert loss == pytest.approx(F.nll_loss(out, y).item(), rel=1e-5)
    assert acc == pytest.approx((out.argmax(1) == y).float().mean().item())


def test_minibatch_runs_stay_within_the_time_budget():
    """Does each run start no step after its budget, and finish within budget plus one step?"""
    torch.manual_seed(0)
    X, y = torch.randn(200, 8), torch.randint(10, (200,))
    start = time.perf_counter()
    history = topic.minibatch_runs(models.MLP(8, 10, [16]), X, y, answers.optimization.sample_minibatch, optim.gradient_update,
                                   [10, 100], [0.01, 0.01], 0.2, progressbar=False)
    elapsed = time.perf_counter() - start
    for run in history.values():
        assert len(run) > 1 and run[-2, 0] < 0.2
    assert elapsed < 2 * 0.2 + 5.0   # generous: the machine may be busy


@pytest.mark.parametrize("make", ["momentum", "overparam", "computation", "minibatch", "compare"])
def test_optimization_widgets_draw_headless_while_grading(make, monkeypatch):
    """Does each demo of the optimization assignment build and draw once without a display?"""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    torch.manual_seed(0)
    X, y = torch.randn(300, 16), torch.randint(10, (300,))
    if make == "momentum":
        model = models.MLP(16, 10, [])

        def g(u, v):
            return topic.loss_2d(model, u, v, X.double(), y, (0, 5), 7)

        best = topic.newton_optimum(g)
        surface = topic.loss_surface(g, np.linspace(-4, 4, 5), np.linspace(-4, 4, 5))
        ui = topic.momentum_widget(g, best, surface, optim.gradient_update, answers.optimization.momentum_update)
    elif make == "overparam":
        ui = topic.overparam_widget(X, y, optim.gradient_update, 16)
    elif make == "computation":
        ui = topic.computation_widget(X, y, 16)
    elif make == "minibatch":
        ui = topic.minibatch_widget(X, y, answers.optimization.sample_minibatch, optim.gradient_update, 16)
    else:
        ui = topic.compare_optimizers_widget(X, y, answers.optimization.sample_minibatch, optim.gradient_update,
                                             answers.optimization.momentum_update, answers.optimization.rmsprop_update, 16)
    assert ui is not None and ui.canvas.outputs
    assert all("image/png" in o["data"] for o in ui.canvas.outputs if o["output_type"] == "display_data")
    assert not any(o["output_type"] == "error" for o in ui.canvas.outputs)


def test_benchmark_script_trains_deterministically():
    """Does the benchmark script's training give identical weights when run twice (one epoch, a subset)?"""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "make_benchmark_model.py"
    spec = importlib.util.spec_from_file_location("make_benchmark_model", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    ds = topic.handwritten_digits()
    small = topic.DigitSet("digits", ds.X_train[:200], ds.y_train[:200], ds.X_test, ds.y_test)
    a = script.train(small, epochs=1, batch_size=32, lr=1e-3)
    b = script.train(small, epochs=1, batch_size=32, lr=1e-3)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name


def test_train_steps_is_the_loop_written_out():
    """Does optim.train_steps give the losses and final weights of the loop written out by hand,
    state kept from one step to the next?"""
    torch.manual_seed(0)
    X, y = torch.randn(40, 6), torch.randint(0, 3, (40,))
    a, b = models.MLP(in_dim=6, out_dim=3, hidden_dims=[5]), None
    b = copy.deepcopy(a)
    batches = [(X[i:i + 10], y[i:i + 10]) for i in range(0, 40, 10)]
    got = optim.train_steps(a.parameters(), batches, lambda batch: F.nll_loss(a(batch[0]), batch[1]),
                            answers.optimization.momentum_update, lr=0.1, beta=0.8)
    params = list(b.parameters())
    velocity = [torch.zeros_like(p) for p in params]
    expected = []
    for data_, labels in batches:
        loss = F.nll_loss(b(data_), labels)
        answers.optimization.momentum_update(loss, params, velocity, lr=0.1, beta=0.8)
        expected.append(loss.item())
    assert got.tolist() == expected
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_run_button_redraws_the_momentum_demo_in_place():
    """Does pressing Run put both figures of the momentum demo (distances, then the 3-D surface) in its canvas?"""
    torch.manual_seed(0)
    X, y = torch.randn(60, 16).double(), torch.randint(10, (60,))
    model = models.MLP(16, 10, [])

    def g(u, v):
        return topic.loss_2d(model, u, v, X, y, (0, 5), 7)

    best = topic.newton_optimum(g)
    surface = topic.loss_surface(g, np.linspace(-4, 4, 5), np.linspace(-4, 4, 5))
    box = topic.momentum_widget(g, best, surface, optim.gradient_update, answers.optimization.momentum_update)
    assert [o["output_type"] for o in box.canvas.outputs] == ["display_data", "display_data"]
    box.controls["max_steps"].value = 60
    box.button.click()
    assert [o["output_type"] for o in box.canvas.outputs] == ["display_data", "display_data"]
