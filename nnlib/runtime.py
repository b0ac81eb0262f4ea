"""Where a notebook is running: interactively, or under the grader."""

import os


def grading():
    """True while nbgrader executes the notebook (autograde or validate).

    Notebooks use it to skip or shrink heavy demos at grading time; graded results never
    depend on it.
    """
    return os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate")
