"""Answer key of assignment 4 (optimization): minibatches, momentum and RMSprop updates, each
keeping nnlib.optim's interface update(loss, params, *state, **hyperparameters)."""

import torch

from nnlib.optim import zero_grad
from nnlib.reference import reference


@reference
def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    """Momentum (heavy ball): v <- -lr * grad + beta * v, then w <- w + v.

    grad_vel: list of velocity tensors shaped like `params`, updated in place.
    """
    zero_grad(params)
    loss.backward()
    with torch.no_grad():
        for par, vel in zip(params, grad_vel):
            vel.mul_(beta).add_(par.grad, alpha=-lr)
            par += vel


@reference
def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    """RMSprop: v <- alpha * v + (1 - alpha) * grad**2, then w <- w - lr * grad / sqrt(v + epsilon).

    grad_sq: list of moving averages of the squared gradient, shaped like `params`, updated in place.
    """
    zero_grad(params)
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            gsq.mul_(alpha).add_((1 - alpha) * par.grad ** 2)
            par -= lr * par.grad / torch.sqrt(gsq + epsilon)


@reference
def sample_minibatch(input_data, target_data, num_points=100):
    """A minibatch of `num_points` examples drawn i.i.d. (with replacement) with torch's global RNG.

    input_data: (N, ...) tensor; target_data: (N,) tensor; the same indices pick both.
    Returns batch_inputs (num_points, ...), batch_targets (num_points,).
    """
    import torch

    batch_indices = torch.randint(len(input_data), size=(num_points,))
    return input_data[batch_indices], target_data[batch_indices]
