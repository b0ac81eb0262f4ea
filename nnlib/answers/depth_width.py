"""Answer key of assignment 3 (depth versus width): parameter count and initialization of
models.make_MLP, teacher-student data, training with Adam, the loss."""

import numpy as np

from nnlib.topics.depth_width import progress
from nnlib.reference import reference


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


@reference
def make_data(net, n_in, n_examples):
    """Inputs X ~ N(0, I) of shape (n_examples, n_in) and the teacher's outputs y = net(X), detached.

    Draws from torch's global generator. net: torch module taking (N, n_in) -> (N, 1).
    Returns X: (n_examples, n_in) float32 tensor, y: (n_examples, 1) float32 tensor without grad.
    """
    import torch

    X = torch.randn(n_examples, n_in)
    with torch.no_grad():
        y = net(X)
    return X, y


@reference
def train_model(net, X, y, n_epochs, lr, progressbar=True):
    """Full-batch training of `net` on (X, y) with Adam (learning rate lr) and the mean squared error.

    net: torch module; X: (N, n_in) tensor; y: (N, 1) tensor; n_epochs: int; lr: float.
    Returns (n_epochs,) numpy array: entry n is the loss computed at the start of epoch n, before
    that epoch's update. Nothing but the step happens per epoch (losses are kept in a tensor).
    """
    import torch

    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    losses = torch.empty(n_epochs)
    for n in progress(range(n_epochs), progressbar, desc="epochs"):
        loss = torch.nn.functional.mse_loss(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[n] = loss.detach()
    return losses.numpy().astype(float)


@reference
def compute_loss(net, X, y):
    """Mean squared error of net(X) against y, as a Python float (no gradient is recorded)."""
    import torch

    with torch.no_grad():
        return float(torch.nn.functional.mse_loss(net(X), y))
