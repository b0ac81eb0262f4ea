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

    def loss(self, y_p, y_t):
        """Half mean squared error of predictions y_p against targets y_t (equal shapes) -> float.

        Predictions first, as in ShallowNarrowLNN.loss and the graded `loss(y_prediction, y_true)`.
        """
        return float(np.mean((y_p - y_t) ** 2 / 2))

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
                losses[i] = self.loss(y_p, y_t)
            grad = self.dloss_dw(x, y_t, y_p)
            if not np.all(np.isfinite(grad)):
                break
            self.W -= eta * grad
        return losses


# ---- deep linear networks (torch) -------------------------------------------------------------

import math  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402


class LNNet(nn.Module):
    """Linear net with one hidden layer and no biases: hid = W1 x, out = W2 hid.

    in_dim, hid_dim, out_dim: ints. forward(x: (N, in_dim) tensor) -> (out: (N, out_dim),
    hid: (N, hid_dim)); the hidden activity is returned for representational similarity.
    model.parameters() yields W1 (hid_dim, in_dim), then W2 (out_dim, hid_dim).
    """

    def __init__(self, in_dim, hid_dim, out_dim):
        super().__init__()
        self.in_hid = nn.Linear(in_dim, hid_dim, bias=False)
        self.hid_out = nn.Linear(hid_dim, out_dim, bias=False)

    def forward(self, x):
        hid = self.in_hid(x)
        out = self.hid_out(hid)
        return out, hid


class LRNet(nn.Module):
    """Linear net with no hidden layer and no bias: out = W x (linear regression as a net).

    forward(x: (N, in_dim) tensor) -> (N, out_dim) tensor.
    """

    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.in_out = nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, x):
        return self.in_out(x)


@reference
def initializer_(model, gamma=1e-12):
    """Re-draw every weight matrix of `model` in place from N(0, sigma^2).

    sigma = gamma / sqrt(n_in + n_out) for a weight of shape (n_out, n_in).
    model: torch.nn.Module whose parameters are all 2-D weights; gamma: float. Returns None.
    """
    for weight in model.parameters():
        n_out, n_in = weight.shape
        nn.init.normal_(weight, mean=0.0, std=gamma / math.sqrt(n_in + n_out))


@reference
def total_weight(model, in_dim):
    """The product of all weight matrices, last layer on the left: W_L ... W_2 W_1.

    model: torch.nn.Module whose parameters are its weights in forward order; in_dim: int.
    Returns an (out_dim, in_dim) tensor, detached from autograd.
    """
    w_tot = torch.eye(in_dim)
    for weight in model.parameters():
        w_tot = weight.detach() @ w_tot
    return w_tot


@reference
def net_svd(model, in_dim):
    """Singular value decomposition of the network's total weight W_tot = U diag(S) V^T.

    model: torch.nn.Module (weights in forward order); in_dim: int.
    Returns U: (out_dim, k), S: (k,) descending, V: (in_dim, k) tensors with k = min(out_dim, in_dim)
    (torch.svd's convention: V itself, not its transpose).
    """
    return torch.svd(total_weight(model, in_dim))


@reference
def net_rsm(h):
    """Representational similarity matrix of hidden activity h: (N, H) tensor -> (N, N) tensor h h^T."""
    return h @ h.T


@reference
def linear_regression(X, Y):
    """Least-squares linear map from inputs to targets: W = Y X^T (X X^T)^-1.

    X: (M, S) array, S samples of M inputs (X X^T invertible); Y: (N, S) array, the targets.
    Returns W: (N, M) array minimising ||Y - W X||^2.
    """
    if not (isinstance(X, np.ndarray) and isinstance(Y, np.ndarray)):
        raise TypeError("linear_regression expects numpy arrays")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must hold the same number of samples (columns), got {X.shape} and {Y.shape}")
    return Y @ X.T @ np.linalg.inv(X @ X.T)


# ---- dense networks (assignment on neural networks) --------------------------------------------

@reference
def count_parameters(layer_sizes):
    """Weights and biases of a dense (fully connected) network.

    layer_sizes: sequence of ints, the number of nodes per layer from input to output
    (at least two layers). Every node of a layer is connected to every node of the next one,
    and every non-input node has one bias.
    Returns (n_weights, n_biases): two ints.
    """
    sizes = [int(s) for s in layer_sizes]
    n_weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    n_biases = sum(sizes[1:])
    return n_weights, n_biases


def dense_network(layer_sizes, activation="relu", dropout=0.0, batch_norm=False):
    """A torch nn.Sequential of Linear layers with the given sizes.

    layer_sizes: ints from input to output; activation: 'relu', 'tanh' or 'sigmoid' between
    hidden layers (none after the output layer); dropout: float in [0, 1), a Dropout after each
    hidden activation when > 0; batch_norm: bool, a BatchNorm1d after each hidden Linear layer.
    """
    import torch.nn as nn

    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    if activation not in acts:
        raise ValueError(f"dense_network: activation must be one of {sorted(acts)}, got {activation!r}")
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2:
        raise ValueError(f"dense_network needs at least an input and an output layer, got {sizes}")
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(acts[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


# Activation functions and their derivatives (numpy, element-wise, any shape).

@reference
def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z)), element-wise. z: array -> array of the same shape."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


@reference
def sigmoid_derivative(z):
    """d sigmoid / dz = sigmoid(z) (1 - sigmoid(z)), element-wise."""
    s = sigmoid(z)
    return s * (1.0 - s)


@reference
def tanh(z):
    """Hyperbolic tangent 2 / (1 + exp(-2z)) - 1, element-wise."""
    return np.tanh(np.asarray(z, dtype=float))


@reference
def tanh_derivative(z):
    """d tanh / dz = 1 - tanh(z)^2, element-wise."""
    return 1.0 - np.tanh(np.asarray(z, dtype=float)) ** 2


@reference
def relu(z):
    """Rectified linear unit max(0, z), element-wise."""
    return np.maximum(0.0, np.asarray(z, dtype=float))


@reference
def relu_derivative(z):
    """d relu / dz: 1 where z > 0, 0 where z < 0 (0 at z = 0 by convention, as in torch)."""
    return (np.asarray(z, dtype=float) > 0).astype(float)


# Weight initialization, in place on every nn.Linear of a torch model (biases set to zero).

def linear_layers(model):
    """The nn.Linear modules of a torch model, in order."""
    import torch.nn as nn

    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def fans(layer):
    """(fan_in, fan_out) of an nn.Linear: its in_features and out_features."""
    fan_out, fan_in = layer.weight.shape
    return fan_in, fan_out


def _init_linear(model, sample):
    import torch

    with torch.no_grad():
        for layer in linear_layers(model):
            fan_in, fan_out = fans(layer)
            layer.weight.copy_(sample(fan_in, fan_out, layer.weight.shape))
            if layer.bias is not None:
                layer.bias.zero_()
    return model


@reference
def glorot_normal_(model):
    """Glorot/Xavier normal: w ~ N(0, sigma^2), sigma = sqrt(2 / (fan_in + fan_out)); biases 0. In place."""
    import torch

    return _init_linear(model, lambda fi, fo, shape: torch.randn(shape) * np.sqrt(2.0 / (fi + fo)))


@reference
def glorot_uniform_(model):
    """Glorot/Xavier uniform: w ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)); biases 0. In place."""
    import torch

    return _init_linear(model, lambda fi, fo, shape: (torch.rand(shape) * 2 - 1) * np.sqrt(6.0 / (fi + fo)))


@reference
def he_normal_(model):
    """He/Kaiming normal: w ~ N(0, sigma^2), sigma = sqrt(2 / fan_in); biases 0. In place."""
    import torch

    return _init_linear(model, lambda fi, fo, shape: torch.randn(shape) * np.sqrt(2.0 / fi))


# ---- torch classifiers (optimization assignment) -----------------------------------------------

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


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
        sizes = [self.in_dim, *[int(h) for h in hidden_dims], self.out_dim]
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b, bias=use_bias))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return F.log_softmax(self.main(x.reshape(-1, self.in_dim)), dim=1)


def random_update(model, noise_scale=0.1, normalized=False):
    """Add noise_scale * N(0, 1) noise to every parameter of `model` in place (torch's global RNG).

    normalized: divide each noise tensor by its norm first.
    """
    with torch.no_grad():
        for par in model.parameters():
            noise = torch.randn_like(par)
            if normalized:
                noise /= torch.norm(noise)
            par += noise_scale * noise


def parameter_count(model):
    """Number of scalar parameters of a torch module."""
    return sum(p.numel() for p in model.parameters())


BENCHMARK_HIDDEN = (200, 100, 50)


def benchmark_path(dataset_name):
    """Where the benchmark classifier of a data set ('digits' or 'mnist') is stored."""
    from pathlib import Path

    return Path(__file__).resolve().parent / "assets" / f"{dataset_name}_benchmark_mlp.npz"


def save_benchmark(model, dataset_name):
    """Store an MLP's parameters as float16 in a compressed .npz (see benchmark_path)."""
    path = benchmark_path(dataset_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name: p.detach().cpu().numpy().astype(np.float16) for name, p in model.state_dict().items()}
    arrays["in_dim"] = np.array(model.in_dim)
    arrays["hidden_dims"] = np.array([m.out_features for m in model.main if isinstance(m, nn.Linear)][:-1])
    np.savez_compressed(path, **arrays)
    return path


def load_benchmark(dataset_name="digits"):
    """The pre-trained benchmark MLP of a data set (float32, eval mode).

    Made by the course's `python benchmarks/make_benchmark_model.py --data NAME` (deterministic,
    seconds on a CPU); digits' is shipped with nnlib. Raises FileNotFoundError when there is none.
    """
    path = benchmark_path(dataset_name)
    if not path.is_file():
        raise FileNotFoundError(f"no benchmark model for {dataset_name!r}: nnlib ships one for the digits only "
                                f"(the course's staff can add others at {path}).")
    stored = np.load(path)
    model = MLP(in_dim=int(stored["in_dim"]), out_dim=10, hidden_dims=[int(h) for h in stored["hidden_dims"]])
    state = {k: torch.from_numpy(stored[k].astype(np.float32)) for k in model.state_dict()}
    model.load_state_dict(state)
    return model.eval()


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
