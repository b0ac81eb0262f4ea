"""Widgets draw once with their defaults, work without a browser, and redraw in place."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from nnlib import analysis, answers, optim, widgets  # noqa: E402


def images(canvas):
    """The PNG images a demo's Canvas holds; fails on an error output."""
    kinds = [o["output_type"] for o in canvas.outputs]
    assert "error" not in kinds, canvas.outputs
    return [o["data"]["image/png"] for o in canvas.outputs if "image/png" in o.get("data", {})]


@pytest.mark.parametrize("make", [widgets.depth_widget, widgets.lr_widget, widgets.hyperparameter_widget,
                                  widgets.dense_net_widget])
def test_interactive_demos_build_headless(make):
    """Does each demo build and draw its default case into its own canvas without a display?"""
    box = make()
    assert len(images(box.canvas)) == 1


def test_slider_change_redraws_in_the_canvas_and_nowhere_else():
    """Does moving a slider after the cell ran replace the canvas's figure, with nothing shown outside it?"""
    box = widgets.dense_net_widget()
    first = images(box.canvas)
    with capture_output() as captured:
        box.controls["nodes"].value = 3
    assert not captured.outputs and not captured.stdout
    second = images(box.canvas)
    assert len(second) == 1 and second != first


def test_run_button_redraws_the_momentum_demo_in_place():
    """Does pressing Run (a callback outside any cell) put both figures of the momentum demo in its canvas?"""
    torch.manual_seed(0)
    model_X, y = torch.randn(60, 16).double(), torch.randint(10, (60,))
    model = __import__("nnlib.models", fromlist=["MLP"]).MLP(16, 10, [])

    def g(u, v):
        return analysis.loss_2d(model, u, v, model_X, y, (0, 5), 7)

    best = analysis.newton_optimum(g)
    surface = analysis.loss_surface(g, np.linspace(-4, 4, 5), np.linspace(-4, 4, 5))
    box = widgets.momentum_widget(g, best, surface, optim.gradient_update, answers.optimization.momentum_update)
    assert len(images(box.canvas)) == 2          # distances, then the 3-D surface
    box.controls["max_steps"].value = 60
    with capture_output() as captured:
        box.button.click()
    assert not captured.outputs and not captured.stdout
    assert len(images(box.canvas)) == 2


def test_printed_text_and_errors_land_in_the_canvas():
    """Does a drawing's printed text go to the canvas, and an exception become an error output there?"""
    canvas = widgets.Canvas()

    def draw(fail):
        print("hello")
        if fail:
            raise ValueError("bad value")

    widgets.redraw(canvas, draw, fail=False)
    assert canvas.outputs == ({"output_type": "stream", "name": "stdout", "text": "hello\n"},)
    widgets.redraw(canvas, draw, fail=True)
    assert canvas.outputs[-1]["output_type"] == "error" and canvas.outputs[-1]["evalue"] == "bad value"
    assert "outputs" not in repr(canvas)


KERNEL_DEMO = """
import numpy as np
from nnlib import widgets
from nnlib.optim import gradient_update
from nnlib.answers.optimization import momentum_update
def g(u, v):
    return (u - 1) ** 2 + 3 * (v + 0.5) ** 2
U, V = np.meshgrid(np.linspace(-4, 4, 5), np.linspace(-4, 4, 5))
ui = widgets.momentum_widget(g, (1.0, -0.5), (U, V, (U - 1) ** 2 + 3 * (V + 0.5) ** 2),
                             gradient_update, momentum_update)
ui.controls["max_steps"].value = 60
print(ui.button.model_id, ui.canvas.model_id)
"""


def test_run_pressed_in_a_front_end_updates_the_canvas_and_displays_nothing():
    """In a kernel, does a Run click (a comm message, no cell running) send the figures as the canvas's state only?

    Output sent as display messages from a callback lands in JupyterLab's log console; the canvas's
    state is drawn in the cell by every front end.
    """
    import queue

    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        printed = []
        kc.execute_interactive(KERNEL_DEMO, timeout=120, output_hook=lambda m: printed.append(m))
        text = "".join(m["content"].get("text", "") for m in printed if m["msg_type"] == "stream")
        button, canvas = text.split()[-2:]
        click = kc.session.msg("comm_msg", {"comm_id": button, "data": {"method": "custom",
                                                                        "content": {"event": "click"}}})
        kc.shell_channel.send(click)
        displayed, drawn = [], []
        while True:
            try:
                m = kc.get_iopub_msg(timeout=60)
            except queue.Empty:
                break
            if m["msg_type"] in ("display_data", "stream", "error"):
                displayed.append(m["msg_type"])
            state = m["content"].get("data", {}).get("state", {}) if m["msg_type"] == "comm_msg" else {}
            if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == canvas and "outputs" in state:
                drawn.append([o["output_type"] for o in state["outputs"]])
            if (m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                    and m["parent_header"].get("msg_id") == click["header"]["msg_id"]):
                break
        assert displayed == []
        assert drawn == [["display_data", "display_data"]]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
