"""The student's side: Run All on a blank notebook, what a failing self-check shows, nbgrader's
Validate, optional exercises, and what a student installs."""

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbgrader.validator import Validator

from nnlib.course import cells, config

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = config.assignments(ROOT)
TAG = "raises-exception"


def _release(assignment):
    return next((ROOT / "release" / assignment).glob("*.ipynb"))


def _solution(assignment):
    return ROOT / "solutions" / assignment / _release(assignment).name


def _errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


_runs = {}


def run_all(assignment, tmp_path_factory):
    """The blank release notebook run top to bottom as JupyterLab's Run All does: nbclient stops at
    the first error, except in a cell tagged raises-exception. Cached per assignment."""
    if assignment not in _runs:
        folder = tmp_path_factory.mktemp(assignment)
        path = Path(shutil.copy(_release(assignment), folder))
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=False,
                                resources={"metadata": {"path": str(folder)}})
        try:
            client.execute()
        except CellExecutionError as stopped:
            _runs[assignment] = (nb, stopped)
        else:
            _runs[assignment] = (nb, None)
    return _runs[assignment]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_run_all_on_a_blank_notebook_runs_every_cell(assignment, tmp_path_factory):
    """Does Run All on a blank notebook go on to the last cell instead of stopping at the first
    unfinished answer?"""
    nb, stopped = run_all(assignment, tmp_path_factory)
    assert stopped is None, f"Run All stopped in {assignment}:\n{stopped}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    not_run = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
    assert not not_run, f"{assignment}: {len(code) - len(not_run)} of {len(code)} code cells ran"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_only_cells_that_need_an_answer_fail(assignment, tmp_path_factory):
    """Does a blank notebook fail exactly in the cells tagged raises-exception, and does each of them
    pass once the answers are written (in solutions/)? A tag on a cell that never fails, or a
    failure that the answers do not cure, would hide a broken cell from Run All."""
    nb, _ = run_all(assignment, tmp_path_factory)
    solved = nbformat.read(_solution(assignment), as_version=4)
    assert len(solved.cells) == len(nb.cells)
    failed = {i for i, c in enumerate(nb.cells) if _errors(c)}
    tagged = {i for i, c in enumerate(nb.cells) if TAG in c.metadata.get("tags", [])}
    assert failed == tagged, (f"{assignment}: failing but not tagged {sorted(failed - tagged)}, "
                              f"tagged but passing {sorted(tagged - failed)}")
    still_failing = [i for i in failed if _errors(solved.cells[i])]
    assert not still_failing, f"{assignment}: cells {still_failing} fail in solutions/ too"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_failing_self_check_shows_one_line(assignment, tmp_path_factory):
    """Does every failing self-check of a blank notebook show one short line, the check's message
    ("CheckFailed: <what is off>"), instead of a traceback through nnlib?"""
    nb, _ = run_all(assignment, tmp_path_factory)
    failing = [c for c in nb.cells if cells.is_test(c) and _errors(c)]
    assert failing, f"{assignment}: no self-check fails on a blank notebook"
    for cell in failing:
        (error,) = _errors(cell)
        assert error.ename == "CheckFailed", f"{cells.grade_id(cell)}: {error.ename}: {error.evalue}"
        assert error.traceback == [f"CheckFailed: {error.evalue}"], (cells.grade_id(cell), error.traceback)
        assert "\n" not in error.evalue and len(error.evalue) < 200, error.evalue


def _validate(path):
    """nbgrader's Validate on `path` as a student runs it (no course configuration): its results,
    whose `raw_error` is what `nbgrader validate` prints under "The error was"."""
    return Validator().validate(str(path))


@pytest.mark.parametrize("assignment", ["a1_hyperparameters", "a2_deep_linear", "a4_optimization"])
def test_validate_names_each_failing_check_in_one_line(assignment, tmp_path):
    """Does nbgrader's Validate fail a blank notebook, give each failing test cell's error as one
    line, and leave optional exercises out of the failures?"""
    path = Path(shutil.copy(_release(assignment), tmp_path))
    nb = nbformat.read(path, as_version=4)
    failed = _validate(path).get("failed", [])
    assert failed
    tests = {c.source.strip(): c for c in nb.cells if cells.is_test(c)}
    failed_tests = [f for f in failed if f["source"] in tests]
    assert failed_tests
    for failure in failed_tests:
        assert re.fullmatch(r"CheckFailed: [^\n]+", failure["raw_error"]), failure["raw_error"]
    optional = [s for s, c in tests.items() if "optional" in s.split("\n", 1)[0].lower()
                or "selfcheck_linear_regression" in s]
    assert not [f for f in failed_tests if f["source"] in optional]


def test_validate_fails_a_wrong_answer(tmp_path):
    """Does Validate still fail a wrong answer (a sum where the mean is asked), with the check's
    message in one line?"""
    path = Path(shutil.copy(_release("a1_hyperparameters"), tmp_path))
    nb = nbformat.read(path, as_version=4)
    (answer,) = [c for c in nb.cells if cells.grade_id(c) == "loss"]
    answer.source = re.sub(r"raise NotImplementedError\(.*\)", "mse = ((y_true - y_prediction) ** 2).sum()",
                           answer.source)
    nbformat.write(nb, path)
    errors = [f["raw_error"] for f in _validate(path).get("failed", []) if "selfcheck_loss" in f["source"]]
    assert len(errors) == 1 and errors[0].startswith("CheckFailed: ") and "\n" not in errors[0], errors
    assert "mean" in errors[0]


def test_optional_check_reports_without_failing(capsys):
    """Does an optional exercise's self-check print what is off instead of raising, left out or wrong?"""
    from nnlib.checks import deep_linear, optimization
    optimization.selfcheck_bonus(None)
    assert "OPTIONAL" in capsys.readouterr().out
    deep_linear.selfcheck_linear_regression(lambda X, Y: (Y @ X.T) * 0)
    assert "OPTIONAL" in capsys.readouterr().out


def test_the_student_package_leaves_out_the_instructor_tools():
    """Does a plain `pip install` of the package leave out nbgrader (whose Jupyter extensions are
    the instructor's), while the instructor and exchange extras bring it?"""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = lambda requirement: re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()  # noqa: E731
    base = {name(r) for r in project["dependencies"]}
    extras = {k: {name(r) for r in v} for k, v in project["optional-dependencies"].items()}
    instructor_only = {"nbgrader", "nbformat", "nbclient", "nbconvert", "jupyterlab", "notebook"}
    assert not base & instructor_only, base & instructor_only
    assert {"numpy", "torch", "matplotlib", "ipywidgets", "ipykernel", "tqdm", "scikit-learn"} <= base
    assert "nbgrader" in extras["instructor"] and extras["exchange"] == {"nbgrader"}


def test_notebook_imports_need_no_instructor_package(tmp_path):
    """Do the nnlib imports of every release notebook work in a Python where nbgrader, nbformat,
    nbclient, nbconvert and Jupyter's servers cannot be imported (a student's install)?"""
    imports = set()
    for assignment in ASSIGNMENTS:
        for cell in nbformat.read(_release(assignment), as_version=4).cells:
            if cell.cell_type == "code":
                imports |= {line.strip() for line in cell.source.splitlines()
                            if re.match(r"\s*(from nnlib\b|import nnlib\b)", line)}
    assert imports
    script = textwrap.dedent("""
        import importlib.abc, sys
        BLOCKED = {"nbgrader", "nbformat", "nbclient", "nbconvert", "jupyter_server", "jupyterlab", "notebook"}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is an instructor's package")
        sys.meta_path.insert(0, Block())
    """) + "\n".join(sorted(imports)) + "\nprint('imported')\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr[-2000:]
