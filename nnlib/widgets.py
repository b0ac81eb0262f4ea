"""Interactive demos built on ipywidgets.

Every demo draws once with its default values when it is created, so a notebook run headless
(nbclient, nbval) shows a figure and raises nothing. While grading (`runtime.grading()`) a demo
draws nothing: its canvas says so in one line. Feedback cannot replay a widget, no score depends on
one, and drawing them was a fifth of the time of running assignment 1.

Each demo draws into its own Output widget (`Canvas`) by setting the widget's outputs: the
figures are rendered to PNG and what the drawing prints becomes text, replacing the previous
drawing. So a redraw lands in the demo's cell whichever front end runs it and whether it is
started by a cell or by a slider or button later on (where output sent the usual way, tagged
with the message that caused it, ends up in JupyterLab's log console). For the same reason the
demos train without progress bars: a bar is a widget displayed the usual way.

Here is what every demo shares (`demo`, `slider`, `Canvas`, `redraw`); the demos themselves live
in their assignment's topic module (`nnlib.topics.<topic>`).
"""

import base64
import contextlib
import io
import traceback

from IPython.display import display
import ipywidgets as w

from nnlib import plots, runtime

NOT_DRAWN = "(an interactive demo: drawn when the notebook runs in Jupyter, not while grading)\n"


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
    An exception becomes an error output in the canvas instead of reaching the caller. While
    grading, draw is not run and the canvas holds the line NOT_DRAWN.
    """
    if runtime.grading():
        canvas.outputs = ({"output_type": "stream", "name": "stdout", "text": NOT_DRAWN},)
        return
    outputs = []
    previous, plots._figure_sink = plots._figure_sink, lambda figure: outputs.append(_png(figure))
    try:
        with contextlib.redirect_stdout(_Text(outputs)):
            draw(**values)
        plots.show()  # figures drawn without showing them
    except Exception as error:  # noqa: BLE001 - shown to the user in place of the figure
        outputs.append({"output_type": "error", "ename": type(error).__name__, "evalue": str(error),
                        "traceback": traceback.format_exception(type(error), error, error.__traceback__)})
    finally:
        plots._figure_sink = previous
    canvas.outputs = tuple(outputs)


def demo(draw, run_button=False, **controls):
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


def slider(kind, description, **kwargs):
    """A slider that reports a value when it is let go: kind 'int' (IntSlider) or anything else
    (FloatSlider, three decimals shown); kwargs: min, max, step, value, layout, ..."""
    cls = w.IntSlider if kind == "int" else w.FloatSlider
    extra = {} if kind == "int" else {"readout_format": ".3f"}
    return cls(description=description, continuous_update=False, **extra, **kwargs)
