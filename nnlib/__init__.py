"""The helpers every notebook of the course imports.

One module per course concept, and one module per assignment for what is its own alone;
notebooks import what they use explicitly::

    from nnlib import models, plots, seeding
    from nnlib.topics import deep_linear as topic
    from nnlib.checks import deep_linear as check

Modules
-------
What the course shares, once:
models     the networks: one builder (`stack`) that make_MLP, MLP and dense_network name,
           initialization by fans, parameter counts.
optim      hand-written parameter updates (one interface, see its docstring) and the loop
           that trains with them (`train_steps`).
seeding    set_seed, and `kept`: seed and/or restore random, numpy and torch around a block.
gradcheck  centred differences and the relative error of a gradient check.
arrays     tensors, lists and numbers to numpy arrays.
data       data sets that several assignments use (scikit-learn's digits, offline).
plots      showing a figure (in a cell, or in a demo's canvas), and the loss curve.
widgets    what every ipywidgets demo shares: `demo`, `slider`, `Canvas`, `redraw`; each demo
           renders once with its defaults when run headless, and not at all while grading.

Each assignment's own, in one module:
topics     `topics.<topic>`: the assignment's data, its own networks, measurements and training
           runs, figures and demos (a1's registration contract is
           `topics.hyperparameters.REGISTRATION`).

Around them:
runtime    where the notebook runs (interactive or graded).
checks     the self-checks and hidden tests; the judge runs the hidden ones outside the kernel.
answers    the answer key: the course's answers to graded exercises (absent while grading).
reference  the registry of those answers, which self-checks refuse to let an answer call.
course     instructor tooling: build, grade, the judge, catalogue (not imported by notebooks).
"""

__version__ = "0.1.0"
