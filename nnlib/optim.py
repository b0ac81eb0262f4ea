"""Parameter updates written by hand, as in the optimization assignments.

Every update function keeps one interface:

    xxx_update(loss, params, *state, **hyperparameters) -> None

    loss:    scalar torch tensor still attached to the graph of `params`
    params:  list of torch tensors with requires_grad=True
    state:   lists of tensors shaped like `params` (velocities, squared-gradient averages, ...),
             updated IN PLACE so that they persist from one call to the next
    It zeroes the gradients of `params`, backpropagates `loss`, and updates `params` in place
    without recording the update in autograd.
"""

import inspect

import numpy as np
import torch


def zero_grad(params):
    """Reset the .grad of every tensor in `params` to zero (in place; absent grads are left alone)."""
    for p in params:
        if p.grad is not None:
            p.grad.detach_()
            p.grad.zero_()


def gradient_update(loss, params, lr=1e-3):
    """Plain gradient descent: w <- w - lr * grad(loss), for every tensor in `params` (no state)."""
    zero_grad(params)
    loss.backward()
    with torch.no_grad():
        for par in params:
            par -= lr * par.grad


def n_state(update_fn):
    """How many state lists `update_fn(loss, params, *state, **hyper)` takes (its positional
    parameters without a default, after loss and params)."""
    sig = inspect.signature(update_fn)
    required = [p for p in sig.parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    return max(len(required) - 2, 0)


def train_steps(params, batches, loss_of, update_fn, **hyper):
    """The course's training loop: one step of `update_fn` per batch, state kept across steps.

    params: the tensors being trained (the model's parameters); batches: iterable of whatever
    loss_of takes; loss_of(batch) -> scalar loss tensor on the graph of `params`; update_fn: an
    update with this module's interface, its state tensors starting at zero; hyper: its
    hyper-parameters. Returns an (n_batches,) array: the loss of each batch, before its step.
    """
    params = list(params)
    state = [[torch.zeros_like(p) for p in params] for _ in range(n_state(update_fn))]
    losses = []
    for batch in batches:
        loss = loss_of(batch)
        update_fn(loss, params, *state, **hyper)
        losses.append(loss.item())
    return np.array(losses)


def run_optimizer(inits, eval_fn, update_fn, max_steps=500, optim_kwargs=None, log_traj=True):
    """Minimise eval_fn(*params) from scalar starting values with `update_fn`, logging the path.

    inits: list of floats (one scalar parameter each); eval_fn: callable on that many 0-d tensors
    returning a 0-d loss; update_fn: an update with this module's interface, its state tensors
    start at zero; optim_kwargs: dict of hyper-parameters (default {'lr': 1e-2}).
    Returns, when log_traj, a (max_steps, len(inits) + 1) array: parameters then loss BEFORE
    each step; else the final parameters as a list of floats.
    """
    optim_kwargs = {"lr": 1e-2} if optim_kwargs is None else dict(optim_kwargs)
    params = [torch.tensor(float(v), requires_grad=True) for v in inits]
    state = [[torch.zeros_like(p) for p in params] for _ in range(n_state(update_fn))]
    traj = np.zeros((max_steps, len(params) + 1)) if log_traj else None
    for step in range(max_steps):
        loss = eval_fn(*params)
        if log_traj:
            traj[step] = [p.item() for p in params] + [loss.item()]
        update_fn(loss, params, *state, **optim_kwargs)
    return traj if log_traj else [p.item() for p in params]
