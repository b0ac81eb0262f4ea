"""Answer key of assignment 1 (learning hyperparameters): the mean squared error and the
shallow narrow linear net y = x * w1 * w2 (forward, loss, gradient, training)."""

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
