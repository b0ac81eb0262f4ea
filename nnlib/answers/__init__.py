"""The answer key: the course's own answers to the graded exercises, one module per assignment
(`nnlib.answers.hyperparameters`, ... named as `nnlib.checks`' modules).

Every function and method here is registered with `@nnlib.reference.reference`. The judge
(nnlib.course.judge) compares students' answers with them in the grading worker. The grading
sandbox does not contain this folder (nnlib.course.sandbox puts `nnlib/course/sealed` in its place),
so an answer that calls the key fails there, saying why; and no module a notebook imports loads
it when imported (the checks load it when a hidden test needs it: `nnlib.checks.answer_key`).
A notebook's demos never need it while grading.
"""

import os

from nnlib.reference import SEALED_ENV, SEALED_MESSAGE

if os.environ.get(SEALED_ENV):  # a kernel that must not see the key, outside the sandbox (catalogues)
    raise ImportError(SEALED_MESSAGE)

from nnlib.answers import (deep_linear, depth_width, hyperparameters, neural_networks,  # noqa: E402,F401
                           optimization)
