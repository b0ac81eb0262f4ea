"""Shared fixtures, and how tests are spread over xdist workers (`--dist loadgroup`).

Tests that share an expensive module fixture per assignment (a shared-kernel catalogue run, a
graded example class) stay together on one worker, one group per assignment; every other test
stays with its file, as with `--dist loadfile` (nbval's cells of one notebook must run in order).
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


def _assignment_of(item):
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "assignment" in params:
        return params["assignment"]
    if "case" in params:
        return params["case"][0]
    return None


@pytest.hookimpl(tryfirst=True)   # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        group = str(item.path.relative_to(ROOT)) if item.path.is_relative_to(ROOT) else str(item.path)
        assignment = _assignment_of(item)
        if assignment and item.path.name in ("test_grading.py", "test_catalogue.py"):
            group = f"{item.path.name}:{assignment}"
        item.add_marker(pytest.mark.xdist_group(group))
