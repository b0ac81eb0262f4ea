"""nnlib.widgets, what every demo shares: demos draw once with their defaults, work without a
browser, and redraw in their own canvas (the assignments' demos are tested with their topic);
and nnlib.plots' illustrations, left out while grading as demos are."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from nnlib import plots, widgets  # noqa: E402


def images(canvas):
    """The PNG images a demo's Canvas holds; fails on an error output."""
    kinds = [o["output_type"] for o in canvas.outputs]
    assert "error" not in kinds, canvas.outputs
    return [o["data"]["image/png"] for o in canvas.outputs if "image/png" in o.get("data", {})]


def draw_lines(n_figures, slope):
    """n_figures figures, each a line of this slope, shown with plots.show() as the course's figures are."""
    for _ in range(n_figures):
        _, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, slope])
        plots.show()


def test_a_demo_builds_headless_and_draws_its_default_once():
    """Does a demo draw its default case into its own canvas without a display, with a slider per argument?"""
    box = widgets.demo(lambda slope: draw_lines(1, slope), slope=widgets.slider("int", "slope", min=1, max=5, value=2))
    assert len(images(box.canvas)) == 1
    assert box.button is None and box.controls["slope"].value == 2


def test_a_demo_draws_nothing_while_grading(monkeypatch):
    """While nbgrader runs the notebook, does a demo skip its drawing and say so in one line?"""
    drawn = []
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    box = widgets.demo(lambda slope: drawn.append(slope), slope=widgets.slider("int", "slope", min=1, max=5, value=2))
    assert drawn == [] and [o["text"] for o in box.canvas.outputs] == [widgets.NOT_DRAWN]
    monkeypatch.delenv("NBGRADER_EXECUTION")
    box.redraw()
    assert drawn == [2]


def test_an_illustration_draws_nothing_while_grading(monkeypatch):
    """While nbgrader runs the notebook, does an illustration print one line instead of its figure,
    and draw as usual otherwise?"""
    @plots.illustration
    def figure(slope):
        """A line."""
        draw_lines(1, slope)

    assert figure.__doc__ == "A line."
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with capture_output() as grading:
        figure(2)
    assert grading.stdout == plots.NOT_DRAWN + "\n" and grading.outputs == [] and plt.get_fignums() == []
    monkeypatch.delenv("NBGRADER_EXECUTION")
    with capture_output() as running:
        figure(2)
    assert running.stdout == "" and len(running.outputs) + len(plt.get_fignums()) == 1
    plt.close("all")


def test_slider_change_redraws_in_the_canvas_and_nowhere_else():
    """Does moving a slider after the cell ran replace the canvas's figure, with nothing shown outside it?"""
    box = widgets.demo(lambda slope: draw_lines(1, slope), slope=widgets.slider("int", "slope", min=1, max=5, value=2))
    first = images(box.canvas)
    with capture_output() as captured:
        box.controls["slope"].value = 3
    assert not captured.outputs and not captured.stdout
    second = images(box.canvas)
    assert len(second) == 1 and second != first


def test_run_button_redraws_every_figure_in_place():
    """Does pressing Run (a callback outside any cell) put all the demo's figures in its canvas, and
    does a slider alone not redraw?"""
    box = widgets.demo(lambda slope: draw_lines(2, slope), run_button=True,
                       slope=widgets.slider("float", "slope", min=0.5, max=2.0, value=1.0))
    first = images(box.canvas)
    assert len(first) == 2
    box.controls["slope"].value = 2.0
    assert images(box.canvas) == first
    with capture_output() as captured:
        box.button.click()
    assert not captured.outputs and not captured.stdout
    second = images(box.canvas)
    assert len(second) == 2 and second != first


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
import matplotlib.pyplot as plt
from nnlib import plots, widgets
def draw(steps):
    for k in range(2):
        _, ax = plt.subplots(figsize=(2, 2))
        ax.plot(range(steps), [k * s for s in range(steps)])
        plots.show()
ui = widgets.demo(draw, run_button=True, steps=widgets.slider("int", "steps", min=2, max=9, value=3))
ui.controls["steps"].value = 6
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
