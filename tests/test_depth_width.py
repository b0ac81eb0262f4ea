"""The depth-vs-width helpers against independent references: parameter counts, statistics,
torch.optim.Adam, autograd, and the course's quoted numbers."""

import copy

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from nnlib import answers, gradcheck, models, plots  # noqa: E402
from nnlib.topics import depth_width as topic  # noqa: E402
from nnlib.checks import CheckFailed  # noqa: E402
from nnlib.checks import depth_width as check  # noqa: E402


@pytest.mark.parametrize("nonlin, act", [("tanh", torch.nn.Tanh), ("relu", torch.nn.ReLU)])
def test_make_mlp_builds_both_nonlinearities(nonlin, act):
    """Does make_MLP build D - 1 bias-free hidden layers with the asked activation (relu included)?"""
    net = models.make_MLP(4, 6, 4, nonlin=nonlin)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [tuple(m.weight.shape) for m in linears] == [(6, 4), (6, 6), (6, 6), (1, 6)]
    assert all(m.bias is None for m in linears)
    assert sum(isinstance(m, act) for m in net) == 3
    assert net(torch.randn(7, 4)).shape == (7, 1)


def test_relu_net_computes_relu():
    """Is the relu network's output the hand-computed W2 relu(W1 x)?"""
    net = models.make_MLP(3, 5, 2, nonlin="relu")
    x = torch.randn(10, 3)
    w1, w2 = (m.weight for m in net if isinstance(m, torch.nn.Linear))
    expected = torch.clamp(x @ w1.T, min=0) @ w2.T
    torch.testing.assert_close(net(x), expected)


def test_make_mlp_rejects_bad_arguments():
    """Are an unknown nonlinearity and a depth below 2 refused with a clear error?"""
    with pytest.raises(ValueError, match="nonlin"):
        models.make_MLP(2, 3, 2, nonlin="sigmoid")
    with pytest.raises(ValueError, match="D must be"):
        models.make_MLP(2, 3, 1)


@pytest.mark.parametrize("n_in, W, D", [(10, 3, 2), (5, 5, 5), (1, 1, 2), (7, 13, 9)])
def test_parameter_count_matches_the_built_model(n_in, W, D):
    """Does get_num_params equal the number of elements of the model's parameters?"""
    assert answers.depth_width.get_num_params(n_in, W, D) == sum(p.numel() for p in models.make_MLP(n_in, W, D).parameters())


def test_course_values_are_reproduced():
    """Do the references give the course's printed values 33, 0.609, 1.927 and 0.19076240062713623
    (this one to float32 round-off: torch's normal sampler takes a different path on CPUs without AVX2)?"""
    assert answers.depth_width.get_num_params(10, 3, 2) == 33
    torch.manual_seed(42)
    net = models.make_MLP(10, 3, 2)
    torch.manual_seed(42)
    answers.depth_width.initialize_layers(net, 1)
    assert abs(next(net.parameters())[0][0].item() - 0.609) < 1e-3
    torch.manual_seed(42)
    X, _ = answers.depth_width.make_data(net, 10, 100)
    assert abs(X[0][0].item() - 1.927) < 1e-3
    torch.manual_seed(-1)
    teacher = models.make_MLP(5, 5, 5)
    answers.depth_width.initialize_layers(teacher, 2)
    answers.depth_width.make_data(teacher, 5, 4000)
    X_test, _ = answers.depth_width.make_data(teacher, 5, 1000)
    assert X_test[0][0].item() == pytest.approx(0.19076240062713623, rel=0, abs=check.SEED_TEACHER_TOLERANCE)


def test_initialization_is_nn_init_normal():
    """Does initialize_layers draw exactly what nn.init.normal_ with std sigma/sqrt(fan-in) draws?"""
    a, b = models.make_MLP(6, 40, 4), models.make_MLP(6, 40, 4)
    torch.manual_seed(3)
    answers.depth_width.initialize_layers(a, 1.7)
    torch.manual_seed(3)
    for p in b.parameters():
        torch.nn.init.normal_(p, std=1.7 / np.sqrt(p.shape[1]))
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q) and p.requires_grad


def test_initialization_statistics():
    """Is each layer's sample standard deviation within 3% of sigma/sqrt(fan-in)? (ratio printed)"""
    net = models.make_MLP(50, 400, 3)
    answers.depth_width.initialize_layers(net, 2.0)
    for p in list(net.parameters())[:2]:
        ratio = p.detach().std().item() / (2.0 / np.sqrt(p.shape[1]))
        print(f"shape {tuple(p.shape)}: std ratio {ratio:.4f}")
        assert abs(ratio - 1) < 0.03


def test_make_data_is_detached_and_standard_normal():
    """Are the targets detached outputs of the net and the inputs standard normal?"""
    net = models.make_MLP(3, 8, 3)
    X, y = answers.depth_width.make_data(net, 3, 20000)
    assert X.shape == (20000, 3) and y.shape == (20000, 1) and not y.requires_grad
    torch.testing.assert_close(y, net(X).detach())
    assert abs(X.mean().item()) < 0.03 and abs(X.std().item() - 1) < 0.03


def test_train_model_matches_torch_adam_step_by_step():
    """Do train_model's losses and weights match a hand-written loop with torch.optim.Adam and autograd?"""
    torch.manual_seed(0)
    net = models.make_MLP(3, 7, 3)
    X, y = torch.randn(50, 3), torch.randn(50, 1)
    other = copy.deepcopy(net)
    losses = answers.depth_width.train_model(net, X, y, 30, 0.01, progressbar=False)
    opt = torch.optim.Adam(other.parameters(), lr=0.01)
    expected = []
    for _ in range(30):
        loss = torch.mean((other(X) - y) ** 2)
        expected.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert isinstance(losses, np.ndarray) and losses.shape == (30,)
    np.testing.assert_allclose(losses, expected, rtol=1e-6)
    for p, q in zip(net.parameters(), other.parameters()):
        torch.testing.assert_close(p, q)


def test_mse_gradient_matches_centred_differences():
    """Is autograd's gradient of compute_loss's quantity right? Centred differences in float64 (rel. error printed)."""
    torch.manual_seed(1)
    net = models.make_MLP(2, 4, 3).double()
    X, y = torch.randn(20, 2, dtype=torch.float64), torch.randn(20, 1, dtype=torch.float64)
    w = net[0].weight
    loss = torch.mean((net(X) - y) ** 2)
    (grad,) = torch.autograd.grad(loss, w)
    start = w.detach().numpy().copy()

    def loss_at(values):
        with torch.no_grad():
            w.copy_(torch.from_numpy(values))
        return answers.depth_width.compute_loss(net, X, y)

    numeric = gradcheck.gradient(loss_at, start)
    rel = gradcheck.relative_error(grad.numpy(), numeric)
    print(f"relative error against centred differences: {rel:.2e}")
    assert rel < 1e-6


def test_relative_error_is_one_for_the_mean_predictor():
    """Is the relative error of a net that outputs zero on zero-mean targets about 1?"""
    net = models.make_MLP(2, 3, 2)
    torch.nn.init.zeros_(net[2].weight)
    y = torch.randn(5000, 1)
    assert abs(topic.relative_error(net, torch.randn(5000, 2), y - y.mean()) - 1) < 1e-3


def test_hidden_activity_and_trajectories():
    """One (P, W) activity per hidden layer, tanh-bounded; trajectories (D - 1, P, 3); generators left alone."""
    net = models.make_MLP(2, 10, 5)
    layers = topic.hidden_activity(net, np.random.randn(7, 2))
    assert len(layers) == 4 and all(a.shape == (7, 10) and np.abs(a).max() <= 1 for a in layers)
    state = torch.get_rng_state()
    trajs = topic.circle_trajectories(W=12, D=6, P=30)
    assert torch.equal(state, torch.get_rng_state())
    assert len(trajs) == 2 and all(t.shape == (5, 30, 3) for t in trajs)
    # small weights keep the circle small and smooth; large ones stretch it
    lengths = [np.linalg.norm(np.diff(t[-1], axis=0), axis=1).sum() for t in trajs]
    assert lengths[0] > lengths[1]


def test_plots_and_widget_draw_headless():
    """Do the new figures and the expressivity widget draw without a display?"""
    plots.plot_loss(np.geomspace(1, 1e-3, 40), phases=4)
    topic.plot_error_vs_width([5, 15, 45], [0.1, 0.05, 0.03], np.ones((3, 4)), fit=(-0.5, 0.0))
    topic.plot_student_vs_teacher(np.ones(5), np.arange(4.0), torch.arange(4.0).reshape(4, 1))
    assert topic.expressivity_widget(W=8, D=4, P=20) is not None


def test_checks_refuse_fan_out_and_accept_the_reference():
    """Does the hidden test pass the reference initialization and fail one that divides by the fan-out?"""
    check.grade_initialize_layers(lambda net, sigma: [torch.nn.init.normal_(p, std=sigma / np.sqrt(p.shape[1]))
                                                     for p in net.parameters()])
    with pytest.raises(CheckFailed, match="fan-in"):
        check.grade_initialize_layers(lambda net, sigma: [torch.nn.init.normal_(p, std=sigma / np.sqrt(p.shape[0]))
                                                         for p in net.parameters()])


def _prediction_ns(errors, fit_errors=None):
    """A notebook namespace after the size prediction, fitted to `fit_errors` (default: `errors`)."""
    widths = np.array([5, 15, 45, 135])
    fit = np.asarray(errors if fit_errors is None else fit_errors, dtype=float)
    m, b = np.polyfit(np.log(widths), np.log(fit), 1)
    return {"Ws_student": widths, "Es_shallow_test": np.asarray(errors, dtype=float), "error_target": 1e-6,
            "m": m, "b": b, "predicted_width": np.exp((np.log(1e-6) - b) / m)}


@pytest.mark.parametrize("name", ["teacher_setup", "quasi_setup", "deep_student", "width_sweep",
                                  "size_prediction", "quasi_student"])
def test_every_hidden_test_is_more_than_its_self_check(name):
    """Is no grade_* of the depth-width checks just its selfcheck_* under another name?"""
    from nnlib.checks import depth_width as dw

    assert getattr(dw, f"grade_{name}") is not getattr(dw, f"selfcheck_{name}")


def test_size_prediction_self_check_prints_no_answer(capsys):
    """Does the self-check pass a right fit without printing a number the check computed?"""
    from nnlib.checks import depth_width as dw

    dw.selfcheck_size_prediction(_prediction_ns([0.14, 0.076, 0.044, 0.032]))
    printed = capsys.readouterr().out
    assert printed.startswith("PASSED") and not any(c.isdigit() for c in printed)


def test_size_prediction_fit_to_other_errors_passes_the_self_check_only():
    """Does a consistent fit to the wrong errors pass the self-check and fail the hidden test on the slope?"""
    from nnlib.checks import CheckFailed
    from nnlib.checks import depth_width as dw

    ns = _prediction_ns([0.14, 0.076, 0.044, 0.032], fit_errors=[0.1, 0.07, 0.05, 0.04])
    dw.selfcheck_size_prediction(ns)
    with pytest.raises(CheckFailed, match="the slope m: expected"):
        dw.grade_size_prediction(ns)


def test_size_prediction_names_the_sweep_when_its_errors_are_nan():
    """Does a NaN from the width sweep give a message naming that exercise, not 'expected nan, got nan'?"""
    from nnlib.checks import CheckFailed
    from nnlib.checks import depth_width as dw

    ns = _prediction_ns([0.14, 0.076, 0.044, 0.032])
    ns["Es_shallow_test"] = np.array([np.nan, 0.076, 0.044, 0.032])
    for check in (dw.selfcheck_size_prediction, dw.grade_size_prediction):
        with pytest.raises(CheckFailed, match=r"width sweep \(exercise 7\).*fix it first"):
            check(ns)


def test_a_phase_may_start_within_the_records_own_swings():
    """Does a phase that starts a little above where the last ended pass when the record swings that
    much anyway (as at losses near 1e-6, whose digits depend on the CPU), and does a new student fail?"""
    smooth = 1e-3 * 0.99 ** np.arange(400)                      # four phases of 100 epochs
    swinging = smooth * np.where(np.arange(400) % 2, 1.0, 1.25)  # consecutive losses differ by 25 %
    for k in (1, 2, 3):
        swinging[100 * k] = swinging[100 * k - 1] * 1.6
    check._same_student(swinging, 100)
    jumps = smooth.copy()
    jumps[200] = jumps[199] * 1.6
    with pytest.raises(CheckFailed, match="phase 3 starts"):
        check._same_student(jumps, 100)
    restarted = np.concatenate([smooth[:100]] * 4)
    with pytest.raises(CheckFailed, match="phase 2 starts: every phase should go on training the same student"):
        check._same_student(restarted, 100)


def test_an_oscillating_record_is_judged_by_its_own_swings():
    """Does the quasi-linear record pass however its last step swings, and fail when it has another scale?"""
    torch.manual_seed(0)
    net = models.make_MLP(3, 10, 2)
    X = torch.randn(50, 3)
    y = net(X).detach() + 0.01 * torch.randn(50, 1)
    final = float(((net(X) - y) ** 2).mean().detach())
    swinging = np.array([final * 4, final / 2, final * 3, final / 7])       # ends 7 times below the net's error
    with pytest.raises(CheckFailed, match="should record the training losses"):
        check._last_loss_matches("Es", swinging, net, X, y, 1.0, "", bounds=check.LAST_STEP_QUASI)
    check._last_loss_matches("Es", swinging, net, X, y, 1.0, "", bounds=check._step_bounds(swinging))
    with pytest.raises(CheckFailed, match="should record the training losses"):
        check._last_loss_matches("Es", swinging / 5e-5, net, X, y, 1.0, "", bounds=check._step_bounds(swinging / 5e-5))
