"""Answers students write for assignment 1 (learning hyperparameters).

Wrong answers must lose points, right answers in other forms must keep them all;
tests/test_catalogue.py proves both, nnlib.course.catalogue explains the format.
"""

from nnlib.course.catalogue import Right, Wrong

NOTEBOOK = "hyperparameters.ipynb"

TESTS = {
    "loss": ["test_loss"],
    "forward": ["test_forward"],
    "dloss_dw": ["test_dloss_dw"],
    "train": ["test_train"],
    "registered_lrs": ["test_registration"],
}

_GRAD = "error = y_true - self.w1 * self.w2 * x\n"

ANSWERS = [
    # ---- loss
    Wrong("loss", "sum instead of mean", "mse = ((y_true - y_prediction) ** 2).sum()",
          message="a mean does not grow with the number of samples"),
    Wrong("loss", "error not squared", "mse = (y_true - y_prediction).mean()"),
    Wrong("loss", "mean absolute error", "mse = np.abs(y_true - y_prediction).mean()"),
    Wrong("loss", "root of the mean square", "mse = np.sqrt(((y_true - y_prediction) ** 2).mean())"),
    Wrong("loss", "halved, as in the deep net's loss", "mse = ((y_true - y_prediction) ** 2).mean() / 2"),
    Wrong("loss", "square of the mean error", "mse = (y_true - y_prediction).mean() ** 2"),
    Wrong("loss", "no reduction: one value per sample", "mse = (y_true - y_prediction) ** 2",
          message="should be a single number"),
    Wrong("loss", "calls the answer key", "from nnlib.answers import hyperparameters as key\nmse = key.mse(y_prediction, y_true)",
          message="answer key"),
    Right("loss", "python loop", "total = 0.0\nfor p, t in zip(y_prediction, y_true):\n    total += (t - p) ** 2\nmse = total / len(y_true)"),
    Right("loss", "np.mean of np.square, reversed difference", "mse = np.mean(np.square(y_prediction - y_true))"),
    Right("loss", "dot product", "d = y_true - y_prediction\nmse = d @ d / d.size"),
    # ---- forward
    Wrong("forward", "affine instead of a product", "y = x * self.w1 + self.w2"),
    Wrong("forward", "second weight forgotten", "y = x * self.w1"),
    Wrong("forward", "weights added", "y = x * (self.w1 + self.w2)"),
    Right("forward", "layer by layer", "h = self.w1 * x\ny = self.w2 * h"),
    Right("forward", "np.multiply", "y = np.multiply(x, self.w1 * self.w2)"),
    # ---- dloss_dw
    Wrong("dloss_dw", "factor 2 of the square missing",
          _GRAD + "dloss_dw1 = -(self.w2 * x * error).mean()\ndloss_dw2 = -(self.w1 * x * error).mean()"),
    Wrong("dloss_dw", "sign error", _GRAD + "dloss_dw1 = (2 * self.w2 * x * error).mean()\ndloss_dw2 = (2 * self.w1 * x * error).mean()"),
    Wrong("dloss_dw", "sum instead of mean", _GRAD + "dloss_dw1 = -(2 * self.w2 * x * error).sum()\ndloss_dw2 = -(2 * self.w1 * x * error).sum()"),
    Wrong("dloss_dw", "weights swapped", _GRAD + "dloss_dw1 = -(2 * self.w1 * x * error).mean()\ndloss_dw2 = -(2 * self.w2 * x * error).mean()"),
    Wrong("dloss_dw", "input x forgotten", _GRAD + "dloss_dw1 = -(2 * self.w2 * error).mean()\ndloss_dw2 = -(2 * self.w1 * error).mean()"),
    Wrong("dloss_dw", "per-sample gradients, not averaged",
          _GRAD + "dloss_dw1 = -2 * self.w2 * x * error\ndloss_dw2 = -2 * self.w1 * x * error",
          message="should be a single number"),
    Wrong("dloss_dw", "calls the answer key",
          "from nnlib.answers.hyperparameters import ShallowNarrowLNN\ndloss_dw1, dloss_dw2 = ShallowNarrowLNN([self.w1, self.w2]).dloss_dw(x, y_true)",
          message="answer key"),
    Right("dloss_dw", "residual as prediction minus target",
          "r = self.w1 * self.w2 * x - y_true\ndloss_dw1 = 2 * np.mean(self.w2 * x * r)\ndloss_dw2 = 2 * np.mean(self.w1 * x * r)"),
    Right("dloss_dw", "chain rule through the product",
          "g = 2 * np.mean(x * (self.w1 * self.w2 * x - y_true))\ndloss_dw1, dloss_dw2 = g * self.w2, g * self.w1"),
    Right("dloss_dw", "python loop over samples",
          "dloss_dw1 = dloss_dw2 = 0.0\nfor xi, yi in zip(x, y_true):\n    e = yi - self.w1 * self.w2 * xi\n"
          "    dloss_dw1 += -2 * self.w2 * xi * e / len(x)\n    dloss_dw2 += -2 * self.w1 * xi * e / len(x)"),
    # ---- train
    Wrong("train", "gradient ascent", "self.w1 += lr * dloss_dw1\nself.w2 += lr * dloss_dw2"),
    Wrong("train", "only one weight updated", "self.w1 -= lr * dloss_dw1"),
    Wrong("train", "learning rate forgotten", "self.w1 -= dloss_dw1\nself.w2 -= dloss_dw2"),
    Wrong("train", "gradients swapped", "self.w1 -= lr * dloss_dw2\nself.w2 -= lr * dloss_dw1"),
    Wrong("train", "second gradient recomputed after the first step",
          "self.w1 -= lr * dloss_dw1\nself.w2 -= lr * self.dloss_dw(x, y_true)[1]",
          message="gradients computed before either weight changes"),
    Right("train", "tuple assignment", "self.w1, self.w2 = self.w1 - lr * dloss_dw1, self.w2 - lr * dloss_dw2"),
    Right("train", "vector step", "w = np.array([self.w1, self.w2]) - lr * np.array([dloss_dw1, dloss_dw2])\nself.w1, self.w2 = w"),
    # ---- registered learning rates
    Wrong("registered_lrs", "one rate for every depth", "registered_lrs = {d: 0.1 for d in range(10, 61, 10)}"),
    Wrong("registered_lrs", "too fast at depth 60", "registered_lrs = {10: 0.1, 20: 0.07, 30: 0.045, 40: 0.035, 50: 0.025, 60: 0.025}",
          message="does NOT converge"),
    Wrong("registered_lrs", "only the first depths", "registered_lrs = {10: 0.05, 20: 0.04, 30: 0.03}",
          message="no learning rate for depth"),
    Wrong("registered_lrs", "rates in percent", "registered_lrs = {10: 5, 20: 4, 30: 3, 40: 2.5, 50: 2, 60: 2}"),
    Wrong("registered_lrs", "read from the widget, which nobody clicks at grading",
          "registered_lrs = interplay.learning_rates()", message="no learning rate for depth"),
    Right("registered_lrs", "a list in depth order", "registered_lrs = [0.05, 0.04, 0.03, 0.025, 0.02, 0.02]"),
    Right("registered_lrs", "string keys", "registered_lrs = {'10': 0.05, '20': 0.05, '30': 0.03, '40': 0.02, '50': 0.02, '60': 0.02}"),
    Right("registered_lrs", "a numpy array", "registered_lrs = np.array([0.1, 0.07, 0.045, 0.03, 0.02, 0.02])"),
]
