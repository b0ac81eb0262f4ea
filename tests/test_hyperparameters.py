"""Assignment 1 (hyperparameters): its data, the narrow nets, the landscape, the registration
contract and the InterPlay widget, against independent references."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from nnlib import answers, gradcheck  # noqa: E402
from nnlib.topics import hyperparameters as topic  # noqa: E402
from nnlib.checks import hyperparameters as check  # noqa: E402


def images(canvas):
    """The PNG images a demo's Canvas holds; fails on an error output."""
    kinds = [o["output_type"] for o in canvas.outputs]
    assert "error" not in kinds, canvas.outputs
    return [o["data"]["image/png"] for o in canvas.outputs if "image/png" in o.get("data", {})]


def test_gen_samples_without_noise_is_exact_line():
    """With sigma 0, is the data the exact line on evenly spaced points?"""
    x, y = topic.gen_samples(5, 3.0, 0.0)
    np.testing.assert_allclose(x, np.linspace(0, 1, 5))
    np.testing.assert_allclose(y, 3.0 * x)


@pytest.mark.parametrize("n, sigma, what", [(0, 0.1, "n must be a positive integer"),
                                            (3, -1.0, "sigma must be >= 0")])
def test_gen_samples_rejects_bad_arguments_by_name(n, sigma, what):
    """Does bad input get an error that names the argument?"""
    with pytest.raises(ValueError, match=what):
        topic.gen_samples(n, 1.0, sigma)


def test_seeded_samples_leave_global_rng_untouched():
    """Does drawing the registration data keep the notebook's random stream as it was?"""
    np.random.seed(5)
    expected = np.random.rand(3)
    np.random.seed(5)
    topic.deep_narrow_data(2021)
    np.testing.assert_array_equal(np.random.rand(3), expected)


def test_seeded_samples_repeat():
    """Is the registration data the same on every call?"""
    a, b = topic.deep_narrow_data(2021), topic.deep_narrow_data(2021)
    np.testing.assert_array_equal(a[0], b[0])


def test_landscape_matches_model_on_every_grid_point():
    """Does the vectorized landscape equal the model evaluated point by point?"""
    x, y = topic.gen_samples(10, 1.0, 0.0)
    w1, w2 = np.mgrid[-1:1:5j, -1:1:4j]
    loss, d1, d2 = topic.shallow_landscape(w1, w2, x, y)
    for i in range(5):
        for j in range(4):
            net = answers.hyperparameters.ShallowNarrowLNN([w1[i, j], w2[i, j]])
            assert np.isclose(loss[i, j], net.loss(net.forward(x), y))
            np.testing.assert_allclose((d1[i, j], d2[i, j]), net.dloss_dw(x, y))


@pytest.mark.parametrize("losses, expected", [
    ([1.0, 0.5, 0.009, 0.001], 2),
    ([1.0, 0.005, 0.02, 0.001], None),
    ([1.0, 0.005, 0.02, 0.5], None),
    ([0.001, np.nan], None),
    ([1.0, 1.0], None),
])
def test_converged_epoch_means_below_for_good(losses, expected):
    """Is convergence the first epoch below 1e-2, counted only if the loss stays below from there on?"""
    assert topic.converged_epoch(np.array(losses)) == expected


def test_shallow_gradient_matches_centred_differences():
    """Is ShallowNarrowLNN.dloss_dw the gradient of its loss? (relative error printed)"""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=30), rng.normal(size=30)
    w = np.array([0.7, -1.3])
    analytic = np.array(answers.hyperparameters.ShallowNarrowLNN(list(w)).dloss_dw(x, y))
    numeric = gradcheck.gradient(lambda v: answers.hyperparameters.ShallowNarrowLNN(list(v)).loss(v[0] * v[1] * x, y), w)
    err = gradcheck.relative_error(analytic, numeric)
    print(f"shallow net: relative error {err:.2e}")
    assert err < 1e-7


def test_shallow_gradient_matches_torch_autograd():
    """Does the shallow gradient agree with torch autograd?"""
    rng = np.random.default_rng(1)
    x, y = rng.uniform(size=25), rng.normal(size=25)
    w = torch.tensor([1.1, 0.4], dtype=torch.float64, requires_grad=True)
    loss = torch.mean((torch.from_numpy(y) - w[0] * w[1] * torch.from_numpy(x)) ** 2)
    loss.backward()
    analytic = answers.hyperparameters.ShallowNarrowLNN([1.1, 0.4]).dloss_dw(x, y)
    np.testing.assert_allclose(analytic, w.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("depth", [1, 2, 5, 30])
def test_deep_gradient_matches_torch_autograd(depth):
    """Does DeepNarrowLNN.dloss_dw equal autograd's gradient of its half-MSE, at any depth?"""
    rng = np.random.default_rng(depth)
    x, y = rng.uniform(size=40), rng.normal(size=40)
    w0 = rng.uniform(0.8, 1.1, size=depth)
    w = torch.tensor(w0, requires_grad=True)
    loss = torch.mean((torch.from_numpy(y) - torch.prod(w) * torch.from_numpy(x)) ** 2 / 2)
    loss.backward()
    net = topic.DeepNarrowLNN(w0)
    np.testing.assert_allclose(net.dloss_dw(x, y, net.forward(x))[0], w.grad.numpy(), rtol=1e-9)


def test_leave_one_out_products_handle_zero_weights():
    """Is the product of the other weights exact even when one weight is zero?"""
    w = np.array([2.0, 0.0, 3.0, -1.0])
    expected = np.array([np.prod(np.delete(w, i)) for i in range(w.size)])
    np.testing.assert_array_equal(topic._leave_one_out_products(w), expected)


def test_shallow_training_reduces_loss_and_records_every_epoch():
    """Does gradient descent lower the loss and record (n_ep,) losses and (n_ep, 2) weights?"""
    x = np.linspace(0, 1, 20)
    losses, weights = answers.hyperparameters.ShallowNarrowLNN([0.5, 0.5]).train(x, 2 * x, 0.1, 50)
    assert losses.shape == (50,) and weights.shape == (50, 2)
    assert losses[-1] < losses[0] / 10


def test_deep_training_stops_on_divergence_with_nan_tail():
    """Does a diverging deep net stop early and leave NaN for the epochs it never ran?"""
    x = np.linspace(0, 1, 20)
    losses = topic.DeepNarrowLNN(np.full(30, 2.0)).train(x, 2 * x, 0.1, 100)
    assert np.isnan(losses[-1]) and np.isfinite(losses[0])


def test_mse_is_mean_of_squares():
    """Is the reference loss the mean (not the sum, not halved) of squared errors?"""
    assert answers.hyperparameters.mse(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == 2.0


def test_narrow_nets_take_predictions_before_targets():
    """Do both narrow nets' loss take (y_p, y_t), in the order of the graded loss(y_prediction, y_true)?"""
    import inspect

    for cls in (answers.hyperparameters.ShallowNarrowLNN, topic.DeepNarrowLNN):
        assert list(inspect.signature(cls.loss).parameters) == ["self", "y_p", "y_t"], cls.__name__


def test_interplay_registers_and_moves_deeper():
    """Does Register record a converged rate and move on to the next depth?"""
    demo = topic.InterPlay()
    assert demo.depth == 10
    demo.slider.value = 0.05          # converges at depth 10
    assert not demo.button.disabled
    assert len(images(demo.out)) == 1
    demo.register()
    assert demo.depth == 20 and demo.learning_rates() == {10: 0.05}


def test_interplay_refuses_to_register_a_diverging_rate():
    """Is a rate that does not converge kept out of the record?"""
    demo = topic.InterPlay()
    demo.i_depth = 5                  # depth 60
    demo.slider.value = 0.1
    assert demo.button.disabled
    demo.register()
    assert demo.learning_rates() == {}


@pytest.mark.parametrize("depth, lr", [(10, 0.05), (60, 0.1), (30, 0.02)])
def test_interplay_and_the_check_judge_the_same_run(depth, lr):
    """Does InterPlay find convergence exactly where a1's check finds it (same depths, initial weight,
    epochs, threshold and data)?"""
    demo = topic.InterPlay()
    demo.i_depth = demo.depths.index(depth)
    widget_epoch = demo.try_lr(lr)
    rates = {d: lr for d in check.DEPTHS}
    assert check.registration_report(rates)[depth] == (lr, widget_epoch)


@pytest.mark.parametrize("make", [topic.depth_widget, topic.lr_widget, topic.hyperparameter_widget])
def test_loss_curve_demos_build_headless(make):
    """Does each loss-curve demo build and draw its default case into its own canvas without a display?"""
    box = make()
    assert len(images(box.canvas)) == 1
