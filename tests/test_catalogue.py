"""Every wrong answer in the catalogues loses points; every right variant keeps them all.

Each assignment's answers run in one shared kernel (nnlib.course.catalogue.run): only the
answer's cell and its tests are re-executed, and scored with nbgrader's own rule.
"""

from pathlib import Path

import nbformat
import pytest

from nnlib.course import catalogue, cells, submissions

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = catalogue.find(ROOT)
CASES = [(a, i) for a, cat in CATALOGUES.items() for i in range(len(cat.answers))]


def _id(case):
    a, i = case
    answer = CATALOGUES[a].answers[i]
    return f"{a}:{answer.region}:{'wrong' if answer.wrong else 'right'}:{answer.label}"


@pytest.fixture(scope="module")
def outcomes():
    cache = {}

    def get(assignment):
        if assignment not in cache:
            cache[assignment] = catalogue.run(ROOT, CATALOGUES[assignment])
        return cache[assignment]
    return get


@pytest.mark.parametrize("assignment", sorted(CATALOGUES))
def test_master_notebook_scores_full_marks(outcomes, assignment):
    """Does the master notebook, run with its hidden tests, pass every test cell?"""
    baseline, _ = outcomes(assignment)
    lost = {t: s for t, s in baseline.items() if s[0] < s[1]}
    assert not lost, f"the master solution loses points: {lost}"


def _notebook_regions_and_tests(cat):
    """The master notebook's autograded solution regions and its graded test cells."""
    nb = submissions.read(ROOT / "source" / cat.assignment / cat.notebook)
    regions, tests = set(), set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cells.is_answer(cell) and not cells.is_graded(cell):
            regions |= set(cells.solution_regions(nbformat.v4.new_notebook(cells=[cell])))
        elif cells.is_test(cell):
            tests.add(cells.grade_id(cell))
    return regions, tests


@pytest.mark.parametrize("assignment", sorted(CATALOGUES))
def test_catalogue_covers_every_autograded_region(assignment):
    """Does the catalogue name every autograded region and test cell of the master notebook, and
    give each region at least two wrong answers and one right variant?"""
    cat = CATALOGUES[assignment]
    regions, tests = _notebook_regions_and_tests(cat)
    assert set(cat.tests) == regions, f"regions of the notebook not in TESTS: {regions - set(cat.tests)}; " \
                                      f"in TESTS but not in the notebook: {set(cat.tests) - regions}"
    named = {t for ts in cat.tests.values() for t in ts}
    assert named == tests, f"test cells not graded by any region: {tests - named}; unknown: {named - tests}"
    for region in regions:
        wrong = [a for a in cat.answers if a.region == region and a.wrong]
        right = [a for a in cat.answers if a.region == region and not a.wrong]
        assert len(wrong) >= 2 and len(right) >= 1, f"{region}: {len(wrong)} wrong, {len(right)} right"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_answer_is_graded_as_catalogued(outcomes, case):
    """Does this answer lose points if it is wrong (saying why), and keep them all if it is right?"""
    assignment, i = case
    _, results = outcomes(assignment)
    outcome = results[i]
    assert outcome.ok, f"{outcome.describe()}\n--- test output ---\n{outcome.text[-1500:]}"
