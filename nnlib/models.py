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

    Made by `python benchmarks/make_benchmark_model.py --data NAME` (deterministic, seconds on
    a CPU); digits' is shipped with nnlib. Raises FileNotFoundError saying how to make it.
    """
    path = benchmark_path(dataset_name)
    if not path.is_file():
        raise FileNotFoundError(f"no benchmark model for {dataset_name!r} at {path}. Make it with "
                                f"`python benchmarks/make_benchmark_model.py --data {dataset_name}`.")
    stored = np.load(path)
    model = MLP(in_dim=int(stored["in_dim"]), out_dim=10, hidden_dims=[int(h) for h in stored["hidden_dims"]])
    state = {k: torch.from_numpy(stored[k].astype(np.float32)) for k in model.state_dict()}
    model.load_state_dict(state)
    return model.eval()
