"""The course's networks, numpy and torch, used by the notebooks' demos and the checks.

The networks one assignment alone uses live in its topic module (a1's DeepNarrowLNN, a2's LNNet
and LRNet, a4's benchmark classifier).

The answers to graded exercises are not here: they are the answer key, `nnlib.answers`.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def stack(sizes, activation="relu", bias=True, dropout=0.0, batch_norm=False):
    """The course's fully connected network: an nn.Sequential of Linear layers sizes[0] -> ... -> sizes[-1].

    After each hidden Linear layer come, in this order, a BatchNorm1d (batch_norm), a fresh module
    of `activation` (a name of ACTIVATIONS) and a Dropout (dropout > 0); the output layer is linear.
    Layers are made from input to output, so their default initial weights are drawn in that
    order from torch's global generator. make_MLP, MLP and dense_network are named uses of it.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    sizes = [int(s) for s in sizes]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def make_MLP(n_in, W, D, nonlin="tanh"):
    """A bias-free fully connected network n_in -> W -> ... -> W -> 1, as an nn.Sequential.

    The input counts as a layer: depth D has D - 1 hidden layers of W units each, so D = 2 is one
    hidden layer, D = 3 two hidden layers, and so on. Every hidden linear layer is followed by
    its own activation module ('tanh' or 'relu'); the output layer is linear.
    n_in, W: ints >= 1; D: int >= 2. Takes inputs of shape (N, n_in) to outputs (N, 1).
    Weights start with torch's default initialization (see `initialize_layers`).
    """
    for name, value, low in (("n_in", n_in, 1), ("W", W, 1), ("D", D, 2)):
        if not (isinstance(value, (int, np.integer)) and value >= low):
            raise ValueError(f"make_MLP: {name} must be an integer >= {low}, got {value!r}")
    if nonlin not in ("tanh", "relu"):
        raise ValueError(f"make_MLP: nonlin must be 'tanh' or 'relu', got {nonlin!r}")
    return stack([n_in] + [W] * (int(D) - 1) + [1], nonlin, bias=False)


def dense_network(layer_sizes, activation="relu", dropout=0.0, batch_norm=False):
    """A torch nn.Sequential of Linear layers with the given sizes.

    layer_sizes: ints from input to output; activation: 'relu', 'tanh' or 'sigmoid' between
    hidden layers (none after the output layer); dropout: float in [0, 1), a Dropout after each
    hidden activation when > 0; batch_norm: bool, a BatchNorm1d after each hidden Linear layer.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"dense_network: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2:
        raise ValueError(f"dense_network needs at least an input and an output layer, got {sizes}")
    return stack(sizes, activation, dropout=dropout, batch_norm=batch_norm)


class MLP(nn.Module):
    """Multi-layer perceptron classifier with ReLU hidden layers and a log-softmax output.

    in_dim: int, input size (each example is flattened to in_dim values);
    out_dim: int, number of classes; hidden_dims: list of ints (empty: a linear model);
    use_bias: bool. forward: (N, ...) tensor with N * in_dim values -> (N, out_dim) log-probabilities.
    The layers are in `self.main` (nn.Sequential), so a linear model's weight is main[0].weight.
    """

    def __init__(self, in_dim=784, out_dim=10, hidden_dims=(), use_bias=True):
        super().__init__()
        self.in_dim, self.out_dim = int(in_dim), int(out_dim)
        self.main = stack([self.in_dim, *hidden_dims, self.out_dim], "relu", bias=use_bias)

    def forward(self, x):
        return F.log_softmax(self.main(x.reshape(-1, self.in_dim)), dim=1)


def parameter_count(model):
    """Number of scalar parameters of a torch module."""
    return sum(p.numel() for p in model.parameters())


def linear_layers(model):
    """The nn.Linear modules of a torch model, in order."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def fans(layer):
    """(fan_in, fan_out) of an nn.Linear: its in_features and out_features."""
    fan_out, fan_in = layer.weight.shape
    return fan_in, fan_out


def normal_weights_(model, std):
    """Redraw every weight matrix of `model` in place from N(0, std(fan_in, fan_out)^2).

    The course's initializations scale the spread by the layer's fans (1/sqrt(fan_in), gamma /
    sqrt(fan_in + fan_out), ...); std: callable (fan_in, fan_out) -> float. A weight of shape
    (fan_out, fan_in) is drawn from torch's global generator in parameter order, as
    nn.init.normal_ does; parameters that are not matrices (biases) are left as they are.
    Returns the model.
    """
    with torch.no_grad():
        for weight in model.parameters():
            if weight.dim() == 2:
                fan_out, fan_in = weight.shape
                weight.normal_(0.0, std(fan_in, fan_out))
    return model
