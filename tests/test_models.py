"""The reference models against independent references: torch autograd and centred differences."""

import copy

import numpy as np
import pytest
import torch

from nnlib import answers, gradcheck, models


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
    net = models.DeepNarrowLNN(w0)
    np.testing.assert_allclose(net.dloss_dw(x, y, net.forward(x))[0], w.grad.numpy(), rtol=1e-9)


def test_leave_one_out_products_handle_zero_weights():
    """Is the product of the other weights exact even when one weight is zero?"""
    w = np.array([2.0, 0.0, 3.0, -1.0])
    expected = np.array([np.prod(np.delete(w, i)) for i in range(w.size)])
    np.testing.assert_array_equal(models._leave_one_out_products(w), expected)


def test_shallow_training_reduces_loss_and_records_every_epoch():
    """Does gradient descent lower the loss and record (n_ep,) losses and (n_ep, 2) weights?"""
    x = np.linspace(0, 1, 20)
    losses, weights = answers.hyperparameters.ShallowNarrowLNN([0.5, 0.5]).train(x, 2 * x, 0.1, 50)
    assert losses.shape == (50,) and weights.shape == (50, 2)
    assert losses[-1] < losses[0] / 10


def test_deep_training_stops_on_divergence_with_nan_tail():
    """Does a diverging deep net stop early and leave NaN for the epochs it never ran?"""
    x = np.linspace(0, 1, 20)
    losses = models.DeepNarrowLNN(np.full(30, 2.0)).train(x, 2 * x, 0.1, 100)
    assert np.isnan(losses[-1]) and np.isfinite(losses[0])


def test_mse_is_mean_of_squares():
    """Is the reference loss the mean (not the sum, not halved) of squared errors?"""
    assert answers.hyperparameters.mse(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == 2.0


def test_narrow_nets_take_predictions_before_targets():
    """Do both narrow nets' loss take (y_p, y_t), in the order of the graded loss(y_prediction, y_true)?"""
    import inspect

    for cls in (answers.hyperparameters.ShallowNarrowLNN, models.DeepNarrowLNN):
        assert list(inspect.signature(cls.loss).parameters) == ["self", "y_p", "y_t"], cls.__name__


def _by_hand(seed, *layers):
    """An nn.Sequential of `layers` (factories) made under torch seed `seed`."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(*[make() for make in layers])


def _same_modules_and_weights(a, b):
    assert [type(m) for m in a] == [type(m) for m in b]
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_make_MLP_is_the_stack_a3_describes():
    """Is make_MLP(4, 5, 3, 'relu') the bias-free 4 -> 5 -> 5 -> 1 network with its own ReLUs, drawing the
    same initial weights as layers made one by one?"""
    nn = torch.nn
    expected = _by_hand(0, lambda: nn.Linear(4, 5, bias=False), nn.ReLU, lambda: nn.Linear(5, 5, bias=False),
                        nn.ReLU, lambda: nn.Linear(5, 1, bias=False))
    torch.manual_seed(0)
    net = models.make_MLP(4, 5, 3, "relu")
    _same_modules_and_weights(net, expected)
    assert net[1] is not net[3]


def test_dense_network_orders_batch_norm_activation_dropout():
    """Does dense_network put BatchNorm, the activation and Dropout after each hidden layer, in that order,
    with the same initial weights as layers made one by one?"""
    nn = torch.nn
    expected = _by_hand(1, lambda: nn.Linear(3, 6), lambda: nn.BatchNorm1d(6), nn.Tanh, lambda: nn.Dropout(0.2),
                        lambda: nn.Linear(6, 2))
    torch.manual_seed(1)
    _same_modules_and_weights(models.dense_network([3, 6, 2], "tanh", dropout=0.2, batch_norm=True), expected)


def test_MLP_keeps_its_layers_in_main():
    """Is MLP's `main` the ReLU stack in -> hidden -> out with the same initial weights, and its output log-probabilities?"""
    nn = torch.nn
    expected = _by_hand(2, lambda: nn.Linear(8, 7), nn.ReLU, lambda: nn.Linear(7, 3))
    torch.manual_seed(2)
    model = models.MLP(in_dim=8, out_dim=3, hidden_dims=[7])
    _same_modules_and_weights(model.main, expected)
    assert torch.allclose(model(torch.randn(4, 8)).exp().sum(1), torch.ones(4))


def test_stack_refuses_an_unknown_activation():
    """Is an activation the course does not have refused with its name?"""
    with pytest.raises(ValueError, match="softsign"):
        models.stack([2, 3, 1], "softsign")


def test_normal_weights_draws_as_nn_init_does():
    """Does normal_weights_ draw each weight matrix as nn.init.normal_ would, with the spread given by its
    fans, and leave biases alone?"""
    torch.manual_seed(3)
    net = models.dense_network([5, 4, 2])
    bias = net[0].bias.detach().clone()
    twin = copy.deepcopy(net)
    torch.manual_seed(4)
    models.normal_weights_(net, lambda fan_in, fan_out: 2.0 / (fan_in + fan_out))
    torch.manual_seed(4)
    for layer in (twin[0], twin[2]):
        torch.nn.init.normal_(layer.weight, 0.0, 2.0 / sum(layer.weight.shape))
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), twin.parameters()))
    assert torch.equal(net[0].bias, bias)
