"""release/ and solutions/ are generated from source/: up to date, and leak nothing."""

import filecmp
import json
from pathlib import Path

import nbformat
import pytest

from nnlib.course import build, config, submissions

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = config.assignments(ROOT)


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("rebuilt")
    build.build(ROOT, ASSIGNMENTS, release_dir=out / "release", solution_dir=out / "solutions", log=lambda *_: None)
    return out


@pytest.mark.parametrize("step", ["release", "solutions"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_generated_notebooks_are_up_to_date(rebuilt, step, assignment):
    """Are the committed release/ and solutions/ byte-identical to a fresh build from source/?"""
    fresh, committed = rebuilt / step / assignment, ROOT / step / assignment
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in committed.iterdir()), f"{step}/{assignment}: files differ; run `course build`"
    for name in names:
        assert filecmp.cmp(fresh / name, committed / name, shallow=False), \
            f"{step}/{assignment}/{name} is stale: run `course build {assignment}` and commit the result"


def _notebooks(step):
    return sorted((ROOT / step).glob("*/*.ipynb"))


@pytest.mark.parametrize("path", _notebooks("release"), ids=lambda p: p.parent.name)
def test_release_has_no_solutions_no_hidden_tests_no_outputs(path):
    """Does the student version hold no solution code, no hidden test and no output?"""
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    nb = nbformat.read(str(path), as_version=4)
    source = submissions.read(ROOT / "source" / path.parent.name / path.name)
    release_code = "\n".join(c.source for c in nb.cells)
    for name, code in submissions.solution_regions(source).items():
        lines = [l.strip() for l in code.splitlines() if len(l.strip()) > 12]
        leaked = [l for l in lines if l in release_code]
        assert not leaked, f"solution lines of {name!r} leak into the release: {leaked}"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", _notebooks("release"), ids=lambda p: p.parent.name)
def test_every_exercise_has_a_stub_that_names_it(path):
    """Does every answer stub raise NotImplementedError naming its exercise?"""
    source = submissions.read(ROOT / "source" / path.parent.name / path.name)
    release = nbformat.read(str(path), as_version=4)
    for name in submissions.solution_regions(source):
        submissions.fill(release, {name: "pass"})  # KeyError if the named stub is missing


@pytest.mark.parametrize("path", _notebooks("release"), ids=lambda p: p.parent.name)
def test_every_graded_exercise_has_points_and_a_visible_check(path):
    """Does each autograded test cell carry points and a self-check students can run?"""
    nb = nbformat.read(str(path), as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert tests
    for cell in tests:
        assert cell.metadata.nbgrader["points"] > 0
        assert "selfcheck_" in cell.source, f"{cell.metadata.nbgrader['grade_id']} has no visible self-check"


@pytest.mark.parametrize("path", _notebooks("solutions"), ids=lambda p: p.parent.name)
def test_solutions_keep_answers_but_not_hidden_tests(path):
    """Do the worked solutions show the answers but not the hidden test code?"""
    text = path.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "grade_" not in _test_cell_sources(text)


def _test_cell_sources(text):
    nb = json.loads(text)
    return "\n".join("".join(c["source"]) for c in nb["cells"]
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c["cell_type"] == "code")
