"""Interactive demos built on ipywidgets.

Every demo draws once with its default values when it is created, so a notebook run headless
(nbclient, nbgrader) shows a figure and raises nothing.

Each demo draws into its own Output widget (`Canvas`) by setting the widget's outputs: the
figures are rendered to PNG and what the drawing prints becomes text, replacing the previous
drawing. So a redraw lands in the demo's cell whichever front end runs it and whether it is
started by a cell or by a slider or button later on (where output sent the usual way, tagged
with the message that caused it, ends up in JupyterLab's log console). For the same reason the
demos train without progress bars: a bar is a widget displayed the usual way.
"""

import base64
import contextlib
import io
import traceback

from IPython.display import display
import ipywidgets as w

from nnlib import analysis, data, plots


class Canvas(w.Output):
    """The Output widget a demo draws into; its text form leaves out the images it holds."""

    def _repr_keys(self):
        return (key for key in super()._repr_keys() if key != "outputs")


class _Text(io.TextIOBase):
    """A stdout that appends what is written to `outputs` as one stream output per run of text."""

    def __init__(self, outputs):
        self.outputs = outputs

    def write(self, text):
        if self.outputs and self.outputs[-1]["output_type"] == "stream":
            self.outputs[-1]["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        return len(text)


def _png(figure):
    """display_data output (dict) holding `figure` as a base64 PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                     "text/plain": f"<Figure of {len(figure.axes)} axes>"}}


def redraw(canvas, draw, **values):
    """Run draw(**values) and make its figures and printed text the contents of `canvas`.

    canvas: a Canvas (ipywidgets.Output); draw: function that draws with nnlib.plots and prints.
    An exception becomes an error output in the canvas instead of reaching the caller.
    """
    outputs = []
    previous, plots._figure_sink = plots._figure_sink, lambda figure: outputs.append(_png(figure))
    try:
        with contextlib.redirect_stdout(_Text(outputs)):
            draw(**values)
        plots._show()  # figures drawn without showing them
    except Exception as error:  # noqa: BLE001 - shown to the user in place of the figure
        outputs.append({"output_type": "error", "ename": type(error).__name__, "evalue": str(error),
                        "traceback": traceback.format_exception(type(error), error, error.__traceback__)})
    finally:
        plots._figure_sink = previous
    canvas.outputs = tuple(outputs)


def _demo(draw, run_button=False, **controls):
    """Controls (widgets named by draw's arguments) above a Canvas that draw(**values) fills.

    Redraws whenever a control changes, or, with run_button, when Run is pressed. Displays the
    demo, draws once with the controls' values and returns the VBox (attributes: canvas, controls,
    button (or None), redraw()).
    """
    canvas = Canvas()

    def update(*_):
        redraw(canvas, draw, **{name: control.value for name, control in controls.items()})

    button = w.Button(description="Run") if run_button else None
    if button is not None:
        button.on_click(update)
    else:
        for control in controls.values():
            control.observe(update, names="value")
    box = w.VBox(list(controls.values()) + ([button] if button is not None else []) + [canvas])
    box.canvas, box.controls, box.button, box.redraw = canvas, controls, button, update
    display(box)
    update()
    return box

REGISTRATION = analysis.REGISTRATION   # a1's contract: depths, initial weight, epochs, threshold, seed


def _slider(kind, description, **kwargs):
    cls = w.IntSlider if kind == "int" else w.FloatSlider
    extra = {} if kind == "int" else {"readout_format": ".3f"}
    return cls(description=description, continuous_update=False, **extra, **kwargs)


def _curve(depth, lr, init_weight, n_epochs=REGISTRATION.n_epochs):
    """Train a net with `depth` hidden layers (depth + 1 weights) and plot its loss curve."""
    x, y = data.gen_samples(100, 2.0, 0.1)
    losses = analysis.train_deep_narrow(depth + 1, lr, init_weight, x, y, n_epochs)
    plots.plot_training_curve(losses, depth, lr, init_weight)


def depth_widget():
    """Slider over depth (0-50): loss curves of deep narrow nets initialised at 0.9."""
    def show(depth):
        _curve(depth, 0.02 if depth == 0 else 0.01, REGISTRATION.init_weight)
    return _demo(show, depth=_slider("int", "depth", min=0, max=51, step=5, value=0))


def lr_widget():
    """Slider over the learning rate for a 50-layer narrow net initialised at 0.9."""
    def show(lr):
        _curve(50, lr, REGISTRATION.init_weight)
    return _demo(show, lr=_slider("float", "eta", min=0.005, max=0.045, step=0.005, value=0.005))


def hyperparameter_widget():
    """Bonus: depth, learning rate and initial weight together."""
    def show(depth, lr, init_weights):
        _curve(depth, lr, init_weights)
    return _demo(
        show,
        depth=_slider("int", "depth", min=10, max=51, step=5, value=25),
        lr=_slider("float", "eta", min=0.001, max=0.1, step=0.005, value=0.005),
        init_weights=_slider("float", "initial weights", min=0.1, max=3.0, step=0.1, value=REGISTRATION.init_weight),
    )


class InterPlay:
    """Find, depth after depth, a learning rate at which the deep narrow net converges.

    The runs are those the check grades (`analysis.REGISTRATION`: depths 10, 20, ..., 60, every
    weight starting at 0.9, 600 epochs on `REGISTRATION.data()`, converged when the loss drops
    below 1e-2 and stays there). Press Register to record the learning rate and move deeper;
    `learning_rates()` gives what was recorded, ready to copy into the graded cell.
    """

    depths = REGISTRATION.depths

    def __init__(self, seed=None):
        self.x, self.y = REGISTRATION.data(seed)
        self.registered = {}
        self.i_depth = 0
        self.slider = _slider("float", "eta", min=0.005, max=0.105, step=0.005, value=0.005,
                              layout=w.Layout(width="500px"))
        self.button = w.Button(description="Register", disabled=True)
        self.out = Canvas()
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
        losses = REGISTRATION.losses(self.depth, lr, self.x, self.y)
        epoch = REGISTRATION.converged(losses)
        self._last = (round(float(lr), 6), epoch)
        self.button.disabled = epoch is None
        self.button.button_style = "success" if epoch is not None else "danger"
        self.button.description = "Register!" if epoch is not None else "Explore!"
        redraw(self.out, plots.plot_depth_lr_registration, losses=losses, depth=self.depth, lr=lr,
               registered=self.registered)
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


def _log_gamma_slider(value=1e-12):
    return w.FloatLogSlider(min=-15, max=1, step=1, value=value, base=10, continuous_update=False,
                            description="gamma")


def loss_lr_gamma_widget(labels, features, n_epochs=250, hidden=30):
    """Sliders for the learning rate (1-200) and the initial scale gamma (1e-15 - 10): the loss curve.

    labels: (8, 8) and features: (8, F) arrays of the tree data. Draws once with lr 100, gamma 1e-12.
    """
    def show(lr, gamma):
        _, (losses, *_rest) = analysis.train_hsd(labels, features, lr, gamma, n_epochs, hidden)
        plots.plot_loss(losses, title=f"Training loss, $\\eta$ = {lr:g}, $\\gamma$ = {gamma:g}")
    return _demo(show,
                 lr=w.FloatSlider(min=1.0, max=200.0, step=1.0, value=100.0, continuous_update=False,
                                  readout_format=".1f", description="eta"),
                 gamma=_log_gamma_slider())


def rsm_widget(labels, features, item_names=None, n_epochs=250, hidden=30, records=None):
    """Learning rate, gamma and an epoch slider: learning curve, modes and the RSM at that epoch.

    A run is trained only when the learning rate or gamma change; moving the epoch slider redraws
    from the stored records. records: optional (losses, modes, rsms, illusions) of a run already
    made with the defaults (lr 100, gamma 1e-12), drawn first instead of training again.
    Draws once with lr 100, gamma 1e-12, epoch 61.
    """
    lr = w.FloatSlider(min=20.0, max=200.0, step=1.0, value=100.0, continuous_update=False,
                       readout_format=".1f", description="eta")
    gamma = _log_gamma_slider()
    epoch = w.IntSlider(min=0, max=n_epochs - 1, step=1, value=61, continuous_update=False,
                        description="Epoch", layout=w.Layout(width="630px"))
    cache = {} if records is None else {(lr.value, gamma.value): records}

    def show(lr, gamma, i_ep):
        key = (lr, gamma)
        if key not in cache:
            cache.clear()
            cache[key] = analysis.train_hsd(labels, features, lr, gamma, n_epochs, hidden)[1]
        losses, modes, rsms, _ = cache[key]
        plots.plot_loss_sv_rsm(losses, modes, rsms, i_ep, item_names)

    return _demo(show, lr=lr, gamma=gamma, i_ep=epoch)


def dense_net_widget():
    """Sliders over the number of hidden layers (0-6) and nodes per layer (1-12): draws a dense
    net with 5 inputs and 5 outputs and its weight and bias counts."""
    def show(hidden_layers, nodes):
        plots.draw_neural_net([5] + [nodes] * hidden_layers + [5], weight_count=True)
    return _demo(show, hidden_layers=_slider("int", "hidden layers", min=0, max=6, value=2),
                 nodes=_slider("int", "nodes", min=1, max=12, value=6))


def _run_once(fn, **controls):
    """A demo that redraws when its Run button is pressed, drawn once now with the default values."""
    return _demo(fn, run_button=True, **controls)


def _hidden(text):
    return [int(s) for s in str(text).split(",") if s.strip()]


def momentum_widget(eval_fn, best, surface, gradient_update, momentum_update, inits=(2.5, 3.7)):
    """Gradient descent against momentum on a two-parameter loss, from `inits`.

    eval_fn(u, v): the loss; best: (2,) its minimiser; surface: (U, V, Z) grid for the 3-D plot;
    gradient_update, momentum_update: update functions (nnlib.optim interface).
    Sliders: steps, learning rate, beta. Shows the distance to the optimum per parameter and the
    trajectories on the surface.
    """
    from nnlib import optim, runtime

    labels, colors, styles = ["GD", "Momentum"], ["black", "red"], ["-", "--"]

    def show(max_steps, lr, beta):
        trajs = [optim.run_optimizer(list(inits), eval_fn, gradient_update, max_steps, {"lr": lr}),
                 optim.run_optimizer(list(inits), eval_fn, momentum_update, max_steps, {"lr": lr, "beta": beta})]
        plots.plot_param_distance(best, trajs, labels, styles, use_log=True)
        plots.plot_surface_trajectories(*surface, best, trajs, labels, colors)

    return _run_once(
        show,
        max_steps=w.IntSlider(value=100 if runtime.grading() else 300, min=50, max=500, step=5,
                              description="steps", continuous_update=False),
        lr=w.FloatLogSlider(value=1e-1, min=-3, max=0.7, step=0.1, description="lr", continuous_update=False),
        beta=w.FloatSlider(value=0.9, min=0.0, max=1.0, step=0.01, description="beta", continuous_update=False),
    )


def overparam_widget(X, y, gradient_update, in_dim, out_dim=10):
    """Full-batch training of several slightly perturbed copies of one MLP: how far apart do they end?

    X, y: the training data; gradient_update: update function; in_dim, out_dim: the MLP's sizes.
    """
    import torch

    from nnlib import analysis, models, runtime

    quick = runtime.grading()

    def show(max_steps, hidden_dims, lr, num_inits):
        base_model = models.MLP(in_dim=in_dim, out_dim=out_dim, hidden_dims=_hidden(hidden_dims))
        losses = analysis.overparam_runs(base_model, X, y, gradient_update, max_steps=max_steps, lr=lr,
                                         num_inits=num_inits, progressbar=False)
        plots.plot_overparam(losses)
        print(f"Number of parameters in the model: {models.parameter_count(base_model)}")

    torch.manual_seed(2021)
    return _run_once(
        show,
        max_steps=w.IntSlider(value=40 if quick else 150, min=20 if quick else 50, max=500, step=5,
                              description="steps", continuous_update=False),
        hidden_dims=w.Dropdown(options=["10", "20, 20", "100, 100"], value="10", description="hidden"),
        lr=w.FloatLogSlider(value=5e-2, min=-3, max=0, step=0.1, description="lr", continuous_update=False),
        num_inits=w.IntSlider(value=3 if quick else 7, min=3 if quick else 5, max=10, step=1,
                              description="inits", continuous_update=False),
    )


def computation_widget(X, y, in_dim, out_dim=10):
    """Seconds of a forward and a backward pass against the number of examples, for a few MLPs."""
    from nnlib import analysis, models, runtime

    quick = runtime.grading()
    n = len(y)
    sizes = [k for k in (1, 5, 10, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000) if k < n] + [n]

    def show(hidden_dims):
        model = models.MLP(in_dim=in_dim, out_dim=out_dim, hidden_dims=_hidden(hidden_dims))
        times = analysis.computation_times(model, X, y, sizes, repeats=1 if quick else 5)
        plots.plot_computation_times(sizes, times)

    return _demo(show, hidden_dims=w.Dropdown(options=["1", "100", "50, 50"], value="100", description="hidden"))


def minibatch_widget(X, y, sample_minibatch, gradient_update, in_dim, out_dim=10):
    """SGD with several minibatch sizes, each for the same wall-clock budget (seconds).

    Text boxes: comma-separated batch sizes and learning rates; dropdown: the budget per batch
    size. While grading, every run gets 0.2 s whatever the dropdown says.
    """
    import torch

    from nnlib import analysis, models, runtime

    quick = runtime.grading()

    def show(batch_sizes, lrs, time_budget):
        sizes = _hidden(batch_sizes)
        rates = [float(s) for s in str(lrs).split(",") if s.strip()]
        if len(rates) != len(sizes):
            print(f"give one learning rate per batch size: {len(sizes)} sizes, {len(rates)} rates")
            return
        base_model = models.MLP(in_dim=in_dim, out_dim=out_dim, hidden_dims=[100, 100])
        budget = 0.2 if quick else float(time_budget)
        history = analysis.minibatch_runs(base_model, X, y, sample_minibatch, gradient_update, sizes, rates,
                                          budget, progressbar=False)
        plots.plot_minibatch_runs(history)

    torch.manual_seed(2021)
    return _run_once(
        show,
        batch_sizes=w.Text(value="20, 250, 1000", description="batch sizes"),
        lrs=w.Text(value="5e-3, 5e-3, 5e-3", description="lrs"),
        time_budget=w.Dropdown(options=["2.5", "5", "10"], value="2.5", description="seconds"),
    )


def compare_optimizers_widget(X, y, sample_minibatch, gradient_update, momentum_update, rmsprop_update,
                              in_dim, out_dim=10):
    """SGD, momentum (beta 0.9) and RMSprop (alpha 0.8) on the same minibatches of an MLP [100, 100]."""
    import torch

    from nnlib import analysis, models, runtime

    quick = runtime.grading()

    def show(batch_size, lr, max_steps):
        optimizers = {
            "SGD": (gradient_update, {"lr": lr}),
            "Momentum": (momentum_update, {"lr": lr, "beta": 0.9}),
            "RMSprop": (rmsprop_update, {"lr": lr, "alpha": 0.8}),
        }
        base_model = models.MLP(in_dim=in_dim, out_dim=out_dim, hidden_dims=[100, 100])
        history = analysis.optimizer_runs(base_model, X, y, sample_minibatch, optimizers, batch_size, max_steps,
                                          progressbar=False)
        plots.plot_optimizer_comparison(history)

    torch.manual_seed(2021)
    return _run_once(
        show,
        batch_size=w.IntSlider(value=135, min=25, max=250, step=5, description="batch size",
                               continuous_update=False),
        lr=w.FloatLogSlider(value=2e-3, min=-5, max=0, step=0.1, description="lr", continuous_update=False),
        max_steps=w.IntSlider(value=30 if quick else 275, min=30 if quick else 50, max=500, step=5,
                              description="steps", continuous_update=False),
    )


def expressivity_widget(W=100, D=20, P=400, sigmas=(2.0, 0.4), seed=42):
    """Slider over the hidden layers of two random deep tanh nets fed with a circle of P points.

    The nets (make_MLP(2, W, D), weights N(0, sigma^2 / fan_in) for each sigma) and a random 3-D
    projection are drawn once (analysis.circle_trajectories); the slider picks the hidden layer.
    """
    trajectories = analysis.circle_trajectories(W=W, D=D, P=P, sigmas=sigmas, seed=seed)
    titles = [f"$\\sigma = {s:g}$" for s in sigmas]

    def show(layer):
        plots.plot_layer_trajectories(layer, trajectories, titles=titles)
    return _demo(show, layer=_slider("int", "layer", min=0, max=D - 2, step=1, value=0))
