"""What the course's figures share: showing them, leaving illustrations out while grading, and
the loss curve several assignments draw.

Each figure function draws one figure and ends with `show()`, which shows it or, inside a demo
(`nnlib.widgets.redraw`), hands it to the demo's canvas. An assignment's own figures live in its
topic module (`nnlib.topics.<topic>`).
"""

import functools

import matplotlib.pyplot as plt
import numpy as np

from nnlib import runtime

NOT_DRAWN = "(a figure of the course: drawn when the notebook runs in Jupyter, not while grading)"

_figure_sink = None


def illustration(draw):
    """Mark a figure function whose figure takes nothing from the student's work.

    While grading (`runtime.grading()`) the function prints NOT_DRAWN and draws nothing: the figure
    is the same for every student, no score depends on it, and a1's three took 0.7 s of the 1.1 s
    its cells ran for while grading. Outside grading it draws as usual. Only for functions that
    return nothing and whose figure no later graded result depends on (through the global random
    state, say).
    """
    @functools.wraps(draw)
    def figure(*args, **kwargs):
        if runtime.grading():
            print(NOT_DRAWN)
            return
        draw(*args, **kwargs)
    return figure


def show():
    """Show the figures drawn so far: plt.show(), or pass them to the demo that is collecting them."""
    if _figure_sink is None:
        plt.show()
        return
    for number in plt.get_fignums():
        figure = plt.figure(number)
        _figure_sink(figure)
        plt.close(figure)


def plot_loss(losses, title="Training loss (mean squared error)", phases=1, log=False, c="r"):
    """Loss per epoch. losses: (T,) array; phases: equal training phases to mark with dotted
    lines; log: log-scaled loss axis; c: line colour."""
    losses = np.asarray(losses, dtype=float).ravel()
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(losses, color=c)
    if log:
        ax.set_yscale("log")
    for k in range(1, int(phases)):
        ax.axvline(k * len(losses) / phases, c="grey", ls=":", lw=1)
    ax.set(xlabel="epochs", ylabel="mean squared error", title=title)
    fig.tight_layout()
    show()
