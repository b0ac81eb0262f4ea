"""nnlib.models: the course's networks (one builder and its named uses), initialization by fans."""

import copy

import pytest
import torch

from nnlib import models


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
