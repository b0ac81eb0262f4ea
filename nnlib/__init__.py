"""The helpers every notebook of the course imports.

One module per course concept; notebooks import what they use explicitly::

    from nnlib import data, models, plots, widgets
    from nnlib.checks import hyperparameters as check

Modules
-------
What the course shares, once:
models     the networks: one builder (`stack`) that make_MLP, MLP and dense_network name,
           initialization by fans, parameter counts; the small numpy nets.
optim      hand-written parameter updates (one interface, see its docstring) and the loop
           that trains with them (`train_steps`).
seeding    set_seed, and `kept`: seed and/or restore random, numpy and torch around a block.
gradcheck  centred differences and the relative error of a gradient check.
arrays     tensors, lists and numbers to numpy arrays.

Each assignment's own data, measurements, figures and demos:
data       synthetic and offline data sets.
analysis   quantities computed from models and training runs (landscapes, convergence),
           and a1's registration contract (`REGISTRATION`).
plots      matplotlib figures used by the notebooks.
widgets    ipywidgets demos; each renders once with its defaults when run headless.

Around them:
runtime    where the notebook runs (interactive or graded).
checks     the self-checks and hidden tests; the judge runs the hidden ones outside the kernel.
answers    the answer key: the course's answers to graded exercises (absent while grading).
reference  the registry of those answers, which self-checks refuse to let an answer call.
course     instructor tooling: build, grade, the judge, catalogue (not imported by notebooks).
"""

__version__ = "0.1.0"
