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
