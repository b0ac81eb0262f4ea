"""Instructor tooling: build student and solution notebooks, grade submissions, run catalogues.

Not imported by the notebooks. The console script `course` (nnlib.course.cli) is its front end.
"""

import os
import sys

# nbgrader runs the `alembic` command when it creates a gradebook: make sure the one installed
# beside this interpreter is found even when the environment is not activated.
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")
