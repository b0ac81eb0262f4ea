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
