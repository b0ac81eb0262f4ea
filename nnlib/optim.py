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

import torch


def zero_grad(params):
    """Reset the .grad of every tensor in `params` to zero (in place; absent grads are left alone)."""
    for p in params:
        if p.grad is not None:
            p.grad.detach_()
            p.grad.zero_()


from nnlib.reference import reference  # noqa: E402


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


# ---- gradient descent, momentum, RMSprop (optimization assignment) -----------------------------

import inspect  # noqa: E402

import numpy as np  # noqa: E402

from nnlib.reference import reference  # noqa: E402


def gradient_update(loss, params, lr=1e-3):
    """Plain gradient descent: w <- w - lr * grad(loss), for every tensor in `params` (no state)."""
    zero_grad(params)
    loss.backward()
    with torch.no_grad():
        for par in params:
            par -= lr * par.grad


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


def n_state(update_fn):
    """How many state lists `update_fn(loss, params, *state, **hyper)` takes (its positional
    parameters without a default, after loss and params)."""
    sig = inspect.signature(update_fn)
    required = [p for p in sig.parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    return max(len(required) - 2, 0)


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
