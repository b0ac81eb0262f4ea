"""Answer key of assignment 5 (neural networks): weight counts, activation functions and their
derivatives, Glorot and He initialization, the Adam update, early stopping."""

import numpy as np
import torch

from nnlib.models import fans, linear_layers
from nnlib.optim import zero_grad
from nnlib.reference import reference


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


@reference
def adam_update(loss, params, grad_m, grad_v, step, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """One Adam step (adaptive moment estimation), in the interface above.

    grad_m: list of tensors shaped like `params`, the moving average of the gradients (first moment)
    grad_v: list of tensors shaped like `params`, the moving average of the squared gradients
    step:   int >= 1, the number of this step (1 on the first call), used for bias correction
    For each parameter w with gradient g:
        m <- beta1 m + (1 - beta1) g          v <- beta2 v + (1 - beta2) g^2
        m_hat = m / (1 - beta1^step)          v_hat = v / (1 - beta2^step)
        w <- w - lr m_hat / (sqrt(v_hat) + epsilon)
    (torch.optim.Adam's update, without weight decay or amsgrad.)
    """
    zero_grad(params)
    loss.backward()
    with torch.no_grad():
        for p, m, v in zip(params, grad_m, grad_v):
            g = p.grad
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            m_hat = m / (1 - beta1 ** step)
            v_hat = v / (1 - beta2 ** step)
            p.sub_(lr * m_hat / (v_hat.sqrt() + epsilon))


@reference
def fit_early_stopping(model, train_epoch, validation_loss, max_epochs=100, patience=5):
    """Train epoch by epoch, stop after `patience` epochs without improvement, keep the best weights.

    model:           torch nn.Module, updated in place
    train_epoch:     function(model) -> float, one pass over the training data, its mean loss
    validation_loss: function(model) -> float, the loss on the validation data
    An epoch improves when its validation loss is strictly lower than the best so far.
    Returns {"train_loss": [...], "val_loss": [...], "best_epoch": int} (0-based epoch index);
    on return the model holds the weights it had after its best epoch.
    """
    import copy

    history = {"train_loss": [], "val_loss": [], "best_epoch": None}
    best, best_state, waited = float("inf"), None, 0
    for epoch in range(max_epochs):
        history["train_loss"].append(float(train_epoch(model)))
        val = float(validation_loss(model))
        history["val_loss"].append(val)
        if val < best:
            best, best_state, waited = val, copy.deepcopy(model.state_dict()), 0
            history["best_epoch"] = epoch
        else:
            waited += 1
            if waited >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
