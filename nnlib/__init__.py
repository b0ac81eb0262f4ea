"""Reference helpers shared by every notebook of the course.

One module per course concept; notebooks import what they use explicitly::

    from nnlib import data, models, plots, widgets
    from nnlib.checks import hyperparameters as check

Modules
-------
seeding    set_seed / seed_worker: reproducible runs.
data       synthetic and offline data sets.
models     small numpy and torch models (the reference implementations).
analysis   quantities computed from models and training runs (landscapes, convergence).
plots      matplotlib figures used by the notebooks.
widgets    ipywidgets demos; each renders once with its defaults when run headless.
optim      hand-written parameter updates (one interface, see its docstring).
runtime    where the notebook runs (interactive or graded).
checks     what the visible self-checks and hidden tests call.
reference  the registry of reference implementations that submissions may not call.
course     instructor tooling: build, grade, catalogue (not imported by notebooks).
"""

__version__ = "0.1.0"
