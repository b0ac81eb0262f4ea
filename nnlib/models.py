"""The course's networks, numpy and torch, used by the notebooks' demos and the checks.

Every numpy model here keeps one interface:

    model.forward(x)            -> predictions, same shape as x
    model.train(x, y, lr, n)    -> per-epoch records (numpy arrays)

The answers to graded exercises are not here: they are the answer key, `nnlib.answers`.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


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
