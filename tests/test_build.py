"""release/, solutions/ and the README's table of assignments are generated from source/: up to date,
and leak nothing."""

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from nnlib.course import build, cells, config, overview, submissions

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = config.assignments(ROOT)

# Outputs that nbval does not compare exactly are not compared exactly here either: the text
# of every output goes through nbval's sanitize rules, and in cells tagged nbval-ignore-output
# (results of training whose digits depend on the CPU's instruction set) every number is masked,
# so only the wording of those outputs must match. Everything else must be byte-identical.
IGNORE_TAG = "nbval-ignore-output"
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
SANITIZE = [(re.compile(regex), replace)   # parsed as nbval parses --nbval-sanitize-with
            for regex, replace in get_sanitize_patterns((ROOT / "tests" / "nbval_sanitize.cfg").read_text())]


def _compared_outputs(cell):
    """A code cell's outputs as they are compared: sanitized, and numbers masked if tagged."""
    rules = list(SANITIZE)
    if IGNORE_TAG in cell.metadata.get("tags", []):
        rules.append((NUMBER, "#"))

    def clean(text):
        for regex, replacement in rules:
            text = regex.sub(replacement, text)
        return text

    outputs = []
    for output in cell.get("outputs", []):
        output = copy.deepcopy(output)
        if "text" in output:
            output.text = clean(output.text)
        for mime, value in output.get("data", {}).items():
            if isinstance(value, str):
                output.data[mime] = clean(value)
        outputs.append(output)
    return outputs


def differences(fresh_text, committed_text):
    """Where a freshly built notebook differs from the committed one, beyond what may differ.

    Returns a list of descriptions, empty when the two agree: the fresh notebook, with the
    committed outputs put in where they differ only as allowed, must be byte-identical to the
    committed file.
    """
    if fresh_text == committed_text:
        return []
    fresh, committed = nbformat.reads(fresh_text, as_version=4), nbformat.reads(committed_text, as_version=4)
    if len(fresh.cells) == len(committed.cells):
        for new, old in zip(fresh.cells, committed.cells):
            if new.cell_type == old.cell_type == "code" and _compared_outputs(new) == _compared_outputs(old):
                new.outputs = old.outputs
    if nbformat.writes(fresh) + "\n" == committed_text:
        return []
    if len(fresh.cells) != len(committed.cells):
        return [f"{len(fresh.cells)} cells built, {len(committed.cells)} committed"]
    found = [f"cell {i}" for i, (new, old) in enumerate(zip(fresh.cells, committed.cells)) if new != old]
    return found or ["notebook metadata or formatting"]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("rebuilt")
    build.build(ROOT, ASSIGNMENTS, release_dir=out / "release", solution_dir=out / "solutions", log=lambda *_: None)
    return out


@pytest.mark.parametrize("step", ["release", "solutions"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_generated_notebooks_are_up_to_date(rebuilt, step, assignment):
    """Are the committed release/ and solutions/ what a fresh build from source/ gives?

    Byte-identical, except for outputs nbval does not compare exactly (see `differences`).
    """
    fresh, committed = rebuilt / step / assignment, ROOT / step / assignment
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in committed.iterdir()), f"{step}/{assignment}: files differ; run `course build`"
    for name in names:
        found = differences((fresh / name).read_text(), (committed / name).read_text())
        assert not found, (f"{step}/{assignment}/{name} is stale ({', '.join(found)} differ): "
                           f"run `course build {assignment}` and commit the result")


def test_readme_table_of_assignments_is_up_to_date():
    """Does the README's table of assignments say what the master notebooks say (title, seed, graded
    cells and points), every graded cell of every notebook in it?"""
    assert overview.current((ROOT / "README.md").read_text()) == overview.table(ROOT), \
        "README.md's table of assignments is stale: run `course build`"
    rows = {row.assignment: row for row in overview.rows(ROOT)}
    for assignment in ASSIGNMENTS:
        for name in config.notebooks(ROOT, assignment):
            nb = submissions.read(ROOT / "source" / assignment / name)
            row = rows[assignment]
            assert [p for _, p, _ in row.graded] == [cells.points(c) for c in nb.cells if cells.is_graded(c)]


def test_table_is_written_between_its_markers_only(tmp_path):
    """Does writing the table replace what is between the markers and leave the rest of README.md alone,
    and does a master notebook without its seed get an error naming the notebook?"""
    (tmp_path / "source").symlink_to(ROOT / "source")
    (tmp_path / "README.md").write_text(f"intro\n{overview.BEGIN}\nold table\n{overview.END}\nafter\n")
    assert overview.write_table(tmp_path) is True
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("intro\n") and text.endswith(f"{overview.END}\nafter\n") and "old table" not in text
    assert overview.write_table(tmp_path) is False
    source = tmp_path / "copy" / "source" / "a1_hyperparameters"
    source.mkdir(parents=True)
    nb = submissions.read(next((ROOT / "source" / "a1_hyperparameters").glob("*.ipynb")))
    del nb.metadata["course"]
    nbformat.write(nb, str(source / "hyperparameters.ipynb"))
    with pytest.raises(overview.OverviewError, match=r"source/a1_hyperparameters/hyperparameters.ipynb: .*seed"):
        overview.rows(tmp_path / "copy")


def _notebook(*cells):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    return nbformat.writes(nb) + "\n"


def _printing(index, text, tags=()):
    cell = nbformat.v4.new_code_cell("print(result)", id=f"cell-{index}", execution_count=index + 1,
                                     metadata={"tags": list(tags)} if tags else {})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return cell


def test_comparison_lets_only_ignored_and_sanitized_outputs_differ():
    """Does the comparison with committed notebooks let numbers differ in nbval-ignore-output cells
    and sanitized text (timings) anywhere, and nothing else?"""
    committed = _notebook(_printing(0, "loss 0.138\n", [IGNORE_TAG]), _printing(1, "took 1.5 s\n"))
    assert differences(committed, committed) == []
    assert differences(_notebook(_printing(0, "loss 0.139\n", [IGNORE_TAG]), _printing(1, "took 2.0 s\n")), committed) == []
    assert differences(_notebook(_printing(0, "loss 0.138\n", [IGNORE_TAG]), _printing(1, "took 1.5 min\n")),
                       committed) == ["cell 1"]
    assert differences(_notebook(_printing(0, "error 0.138\n", [IGNORE_TAG]), _printing(1, "took 1.5 s\n")),
                       committed) == ["cell 0"]
    assert differences(_notebook(_printing(0, "loss 0.139\n"), _printing(1, "took 1.5 s\n")),
                       _notebook(_printing(0, "loss 0.138\n"), _printing(1, "took 1.5 s\n"))) == ["cell 0"]
    reformatted = committed.replace('\n "nbformat"', '\n  "nbformat"')
    assert reformatted != committed and differences(committed, reformatted) == ["notebook metadata or formatting"]


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
    for name, code in cells.solution_regions(source).items():
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
    for name in cells.solution_regions(source):
        submissions.fill(release, {name: "pass"})  # KeyError if the named stub is missing


@pytest.mark.parametrize("path", _notebooks("release"), ids=lambda p: p.parent.name)
def test_every_graded_exercise_has_points_and_a_visible_check(path):
    """Does each autograded test cell carry points and a self-check students can run?"""
    nb = nbformat.read(str(path), as_version=4)
    tests = [c for c in nb.cells if cells.is_test(c)]
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
                     if cells.is_test(c))


@pytest.mark.parametrize("path", _notebooks("solutions"), ids=lambda p: p.parent.name)
def test_worked_solutions_run_without_an_error(path):
    """Does every cell of the worked solutions, run top to bottom as a student would, end without an error?"""
    nb = json.loads(path.read_text())
    errors = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(nb["cells"])
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
