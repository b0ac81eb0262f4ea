"""Interactive demos built on ipywidgets.

Every demo draws once with its default values when it is created, so a notebook run headless
(nbclient, nbgrader) shows a figure and raises nothing.
"""

import ipywidgets as w
import numpy as np
from IPython.display import display

from nnlib import analysis, data, plots

N_EPOCHS = 600
INIT_WEIGHT = 0.9


def _slider(kind, description, **kwargs):
    cls = w.IntSlider if kind == "int" else w.FloatSlider
    extra = {} if kind == "int" else {"readout_format": ".3f"}
    return cls(description=description, continuous_update=False, **extra, **kwargs)


def _curve(depth, lr, init_weight, n_epochs=N_EPOCHS):
    """Train a net with `depth` hidden layers (depth + 1 weights) and plot its loss curve."""
    x, y = data.gen_samples(100, 2.0, 0.1)
    losses = analysis.train_deep_narrow(depth + 1, lr, init_weight, x, y, n_epochs)
    plots.plot_training_curve(losses, depth, lr, init_weight)


def depth_widget():
    """Slider over depth (0-50): loss curves of deep narrow nets initialised at 0.9."""
    def show(depth):
        _curve(depth, 0.02 if depth == 0 else 0.01, INIT_WEIGHT)
    return w.interact(show, depth=_slider("int", "depth", min=0, max=51, step=5, value=0))


def lr_widget():
    """Slider over the learning rate for a 50-layer narrow net initialised at 0.9."""
    def show(lr):
        _curve(50, lr, INIT_WEIGHT)
    return w.interact(show, lr=_slider("float", "eta", min=0.005, max=0.045, step=0.005, value=0.005))


def hyperparameter_widget():
    """Bonus: depth, learning rate and initial weight together."""
    def show(depth, lr, init_weights):
        _curve(depth, lr, init_weights)
    return w.interact(
        show,
        depth=_slider("int", "depth", min=10, max=51, step=5, value=25),
        lr=_slider("float", "eta", min=0.001, max=0.1, step=0.005, value=0.005),
        init_weights=_slider("float", "initial weights", min=0.1, max=3.0, step=0.1, value=0.9),
    )


class InterPlay:
    """Find, depth after depth, a learning rate at which the deep narrow net converges.

    Depths 10, 20, ..., 60; the net starts with every weight at 0.9 and trains for 600 epochs
    on `data.deep_narrow_data()`. A run converges when its loss drops below 1e-2 and stays there
    (`analysis.converged_epoch`). Press Register to record the learning rate and move deeper;
    `learning_rates()` gives what was recorded, ready to copy into the graded cell.
    """

    depths = tuple(range(10, 61, 10))

    def __init__(self, seed=2021):
        self.x, self.y = data.deep_narrow_data(seed)
        self.registered = {}
        self.i_depth = 0
        self.slider = _slider("float", "eta", min=0.005, max=0.105, step=0.005, value=0.005,
                              layout=w.Layout(width="500px"))
        self.button = w.Button(description="Register", disabled=True)
        self.out = w.Output()
        self.slider.observe(lambda change: self.try_lr(change["new"]), names="value")
        self.button.on_click(lambda _: self.register())
        self._last = None
        self.try_lr(self.slider.value)

    @property
    def depth(self):
        return self.depths[self.i_depth] if self.i_depth < len(self.depths) else None

    def try_lr(self, lr):
        """Train the current depth with learning rate `lr`, plot it, enable Register if it converged."""
        if self.depth is None:
            return None
        losses = analysis.train_deep_narrow(self.depth, lr, INIT_WEIGHT, self.x, self.y, N_EPOCHS)
        epoch = analysis.converged_epoch(losses)
        self._last = (round(float(lr), 6), epoch)
        self.button.disabled = epoch is None
        self.button.button_style = "success" if epoch is not None else "danger"
        self.button.description = "Register!" if epoch is not None else "Explore!"
        self.out.clear_output(wait=True)
        with self.out:
            plots.plot_depth_lr_registration(losses, self.depth, lr, self.registered)
        return epoch

    def register(self):
        """Record the last converged learning rate for the current depth and move deeper."""
        if self.depth is None or self._last is None or self._last[1] is None:
            return
        self.registered[self.depth] = self._last
        self.i_depth += 1
        if self.depth is None:
            self.button.disabled, self.button.description = True, "Done!"
        else:
            self.try_lr(self.slider.value)

    def learning_rates(self):
        """Registered learning rate per depth: dict depth -> float."""
        return {depth: lr for depth, (lr, _) in self.registered.items()}

    def show(self):
        """Display the slider, the button and the figure."""
        display(w.VBox([w.HBox([self.slider, self.button]), self.out]))
        return self


# ---- depth vs width: expressivity of random deep nets --------------------------------------------

def expressivity_widget(W=100, D=20, P=400, sigmas=(2.0, 0.4), seed=42):
    """Slider over the hidden layers of two random deep tanh nets fed with a circle of P points.

    The nets (make_MLP(2, W, D), weights N(0, sigma^2 / fan_in) for each sigma) and a random 3-D
    projection are drawn once (analysis.circle_trajectories); the slider picks the hidden layer.
    """
    trajectories = analysis.circle_trajectories(W=W, D=D, P=P, sigmas=sigmas, seed=seed)
    titles = [f"$\\sigma = {s:g}$" for s in sigmas]

    def show(layer):
        plots.plot_layer_trajectories(layer, trajectories, titles=titles)
    return w.interact(show, layer=_slider("int", "layer", min=0, max=D - 2, step=1, value=0))
