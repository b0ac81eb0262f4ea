"""Small models of the course, written as reference implementations.

Every numpy model here keeps one interface:

    model.forward(x)            -> predictions, same shape as x
    model.train(x, y, lr, n)    -> per-epoch records (numpy arrays)

Methods marked `@reference` are the answers to graded exercises; hidden tests refuse
submissions that call them.
"""

import numpy as np

from nnlib.reference import reference


@reference
def mse(y_prediction, y_true):
    """Mean squared error: mean((y_true - y_prediction)^2). Arrays of equal shape -> float."""
    return float(np.mean((y_true - y_prediction) ** 2))


class ShallowNarrowLNN:
    """Linear net with one hidden neuron: y = x * w1 * w2, trained on the mean squared error."""

    def __init__(self, init_ws):
        """init_ws: sequence of two floats (w1, w2)."""
        if len(init_ws) != 2:
            raise ValueError(f"ShallowNarrowLNN needs two initial weights, got {len(init_ws)}")
        self.w1, self.w2 = float(init_ws[0]), float(init_ws[1])

    @reference
    def forward(self, x):
        """x: (N,) array -> (N,) predictions x * w1 * w2."""
        return x * self.w1 * self.w2

    @reference
    def loss(self, y_p, y_t):
        """Mean squared error of predictions y_p against targets y_t (equal shapes) -> float."""
        return mse(y_p, y_t)

    @reference
    def dloss_dw(self, x, y_t):
        """Gradient of the mean squared error w.r.t. (w1, w2) on data x, y_t -> (float, float)."""
        error = y_t - self.w1 * self.w2 * x
        return float(-np.mean(2 * self.w2 * x * error)), float(-np.mean(2 * self.w1 * x * error))

    @reference
    def train(self, x, y_t, eta, n_ep):
        """Full-batch gradient descent for n_ep epochs with learning rate eta.

        Returns loss_records: (n_ep,) loss before each step, and
        weight_records: (n_ep, 2) weights after each step.
        """
        loss_records = np.empty(n_ep)
        weight_records = np.empty((n_ep, 2))
        for i in range(n_ep):
            loss_records[i] = self.loss(self.forward(x), y_t)
            dw1, dw2 = self.dloss_dw(x, y_t)
            self.w1 -= eta * dw1
            self.w2 -= eta * dw2
            weight_records[i] = self.w1, self.w2
        return loss_records, weight_records


def _leave_one_out_products(w):
    """w: (n,) array -> (n,) array whose entry i is the product of all w_j with j != i."""
    before = np.concatenate(([1.0], np.cumprod(w[:-1])))
    after = np.concatenate((np.cumprod(w[::-1][:-1])[::-1], [1.0]))
    return before * after


class DeepNarrowLNN:
    """Linear net with one neuron per layer: y = x * w_1 * ... * w_n, loss mean((y - p)^2) / 2."""

    def __init__(self, init_ws):
        """init_ws: array of n initial weights (any shape; flattened to (1, n))."""
        init_ws = np.asarray(init_ws, dtype=float)
        self.n = init_ws.size
        self.W = init_ws.reshape(1, -1).copy()

    def forward(self, x):
        """x: (N,) array -> (N,) predictions x * prod(W)."""
        return np.prod(self.W) * x

    def loss(self, y_t, y_p):
        """Half mean squared error of predictions y_p against targets y_t -> float."""
        return float(np.mean((y_t - y_p) ** 2 / 2))

    def dloss_dw(self, x, y_t, y_p):
        """Gradient w.r.t. W: -mean(x (y_t - y_p)) * prod_{j != i} w_j, shape (1, n)."""
        ex = np.mean(x * (y_t - y_p))
        with np.errstate(over="ignore", invalid="ignore"):
            return -ex * _leave_one_out_products(self.W[0]).reshape(1, -1)

    def train(self, x, y_t, eta, n_epochs):
        """Gradient descent for n_epochs; returns (n_epochs,) losses, NaN after a divergence."""
        losses = np.full(n_epochs, np.nan)
        for i in range(n_epochs):
            with np.errstate(over="ignore", invalid="ignore"):
                y_p = self.forward(x)
                losses[i] = self.loss(y_t, y_p)
            grad = self.dloss_dw(x, y_t, y_p)
            if not np.all(np.isfinite(grad)):
                break
            self.W -= eta * grad
        return losses


# ---- depth vs width: bias-free multilayer perceptrons (torch) ----------------------------------

def _activation(nonlin):
    """A fresh activation module for the name `nonlin` ('tanh' or 'relu')."""
    from torch import nn

    modules = {"tanh": nn.Tanh, "relu": nn.ReLU}
    if nonlin not in modules:
        raise ValueError(f"make_MLP: nonlin must be 'tanh' or 'relu', got {nonlin!r}")
    return modules[nonlin]()


def make_MLP(n_in, W, D, nonlin="tanh"):
    """A bias-free fully connected network n_in -> W -> ... -> W -> 1, as an nn.Sequential.

    The input counts as a layer: depth D has D - 1 hidden layers of W units each, so D = 2 is one
    hidden layer, D = 3 two hidden layers, and so on. Every hidden linear layer is followed by
    its own activation module ('tanh' or 'relu'); the output layer is linear.
    n_in, W: ints >= 1; D: int >= 2. Takes inputs of shape (N, n_in) to outputs (N, 1).
    Weights start with torch's default initialization (see `initialize_layers`).
    """
    from torch import nn

    for name, value, low in (("n_in", n_in, 1), ("W", W, 1), ("D", D, 2)):
        if not (isinstance(value, (int, np.integer)) and value >= low):
            raise ValueError(f"make_MLP: {name} must be an integer >= {low}, got {value!r}")
    layers = [nn.Linear(int(n_in), int(W), bias=False), _activation(nonlin)]
    for _ in range(int(D) - 2):
        layers += [nn.Linear(int(W), int(W), bias=False), _activation(nonlin)]
    layers.append(nn.Linear(int(W), 1, bias=False))
    return nn.Sequential(*layers)


@reference
def get_num_params(n_in, W, D):
    """Number of weights of make_MLP(n_in, W, D): input n_in*W, (D-2) hidden W*W, output W. -> int."""
    return n_in * W + (D - 2) * W ** 2 + W


@reference
def initialize_layers(net, sigma):
    """Redraw every weight matrix of `net` in place from N(0, (sigma / sqrt(fan_in))^2).

    fan_in is the number of inputs of the layer, the matrix's second dimension (a Linear layer's
    weight has shape (out, in)). Draws from torch's global generator in parameter order, as
    `nn.init.normal_` does. net: torch module whose parameters are all matrices; sigma: float > 0.
    """
    import torch

    with torch.no_grad():
        for param in net.parameters():
            param.normal_(0.0, sigma / np.sqrt(param.shape[1]))
