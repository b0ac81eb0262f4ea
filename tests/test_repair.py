"""Submitted notebooks are put back into the course's shape before grading."""

import copy
from pathlib import Path

import nbformat
import pytest

from nnlib.course import cells, submissions
from nnlib.course.repair import restore

ROOT = Path(__file__).resolve().parents[1]
A, NAME = "a1_hyperparameters", "hyperparameters.ipynb"


@pytest.fixture(scope="module")
def notebooks():
    source = submissions.read(ROOT / "source" / A / NAME)
    release = submissions.read(ROOT / "release" / A / NAME)
    return release, submissions.solved(release, source)


def _at(nb, gid):
    return next(i for i, c in enumerate(nb.cells) if cells.grade_id(c) == gid)


def test_an_untouched_submission_is_left_as_is(notebooks):
    """Does a well-formed submission come back with no change reported and the same sources?"""
    release, solved = notebooks
    nb, changes = restore(solved, release)
    assert changes == [] and [c.source for c in nb.cells] == [c.source for c in solved.cells]


def test_deleted_test_cell_comes_back(notebooks):
    """Is a deleted test cell restored from the release, and the repair reported?"""
    release, solved = notebooks
    nb = copy.deepcopy(solved)
    del nb.cells[_at(nb, "test_loss")]
    fixed, changes = restore(nb, release)
    assert fixed.cells[_at(fixed, "test_loss")].source == release.cells[_at(release, "test_loss")].source
    assert any("test_loss was missing" in c for c in changes)


def test_edited_test_cell_and_points_are_restored(notebooks):
    """Are a rewritten test cell and inflated points replaced by the course's?"""
    release, solved = notebooks
    nb = copy.deepcopy(solved)
    cell = nb.cells[_at(nb, "test_loss")]
    cell.source, cell.metadata.nbgrader["points"] = "pass", 100
    fixed, changes = restore(nb, release)
    restored = fixed.cells[_at(fixed, "test_loss")]
    assert restored.source != "pass" and restored.metadata.nbgrader["points"] == 2
    assert any("metadata of test_loss" in c for c in changes)
    assert any("test_loss was edited" in c for c in changes)


def test_duplicates_are_graded_once_and_added_cells_kept(notebooks):
    """Is a duplicated answer cell graded once, and a student's own helper cell kept in place?"""
    release, solved = notebooks
    nb = copy.deepcopy(solved)
    i = _at(nb, "loss")
    nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))
    nb.cells.insert(i, nbformat.v4.new_code_cell("def helper():\n    return 1"))
    fixed, changes = restore(nb, release)
    graded = [c for c in fixed.cells if cells.grade_id(c) == "loss"]
    assert len(graded) == 1 and any("def helper" in c.source for c in fixed.cells)
    assert len({c.get("id") for c in fixed.cells}) == len(fixed.cells)
    assert any("more than once" in c for c in changes) and not any("moved" in c for c in changes)


def test_moved_cells_go_back_in_order(notebooks):
    """Is a test cell moved above its answer put back after it?"""
    release, solved = notebooks
    nb = copy.deepcopy(solved)
    nb.cells.insert(0, nb.cells.pop(_at(nb, "test_forward")))
    fixed, changes = restore(nb, release)
    assert _at(fixed, "test_forward") > _at(fixed, "shallow_narrow")
    assert any("moved" in c for c in changes)
