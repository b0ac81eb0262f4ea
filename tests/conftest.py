"""Shared fixtures and environment of the test session.

`make test` spreads test files over two xdist workers with `--dist loadfile`: each file (and each
notebook, whose cells nbval runs in order in one kernel) stays on one worker, so module fixtures
such as a graded example class or a shared-kernel catalogue run are computed once.
"""

import os
from pathlib import Path

import pytest

# Kernels started by the tests (nbval, catalogues) print no progress bars: their output depends on
# the machine's speed, and solutions/ is built the same way (nnlib.course.build).
os.environ.setdefault("TQDM_DISABLE", "1")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root():
    return ROOT
