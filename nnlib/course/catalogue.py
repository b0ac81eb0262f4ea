"""Catalogues of answers students really write, run against an assignment's tests.

A catalogue is a Python file (tests/catalogue/<assignment>.py) defining

    NOTEBOOK = "hyperparameters.ipynb"          # the notebook of the assignment it covers
    TESTS = {"loss": ["test_loss"], ...}         # region name -> test cells that grade it
    ANSWERS = [Wrong("loss", "sum instead of mean", "mse = ...", message="expected"), Right(...)]

A Wrong answer must lose points in at least one of its region's test cells (and, if `message` is
given, the failure must say it); a Right answer must keep every point of its region's tests.

`run` executes the master notebook once in one kernel, then for each answer re-runs only the
answer's cell (filled into the release version) and has the judge decide its region's test cells
(nnlib.course.judge, as in grading), scoring them with nbgrader's own rules (nbgrader.utils.determine_grade, after the configured IgnorePattern), and
restores the master's cell afterwards. That is one kernel per assignment instead of one
nbgrader run per answer.
"""

import copy
import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from nbclient import NotebookClient
from nbgrader.utils import determine_grade

from nnlib.course import cells, judge, submissions
from nnlib.course.client import GradingKernelManager
from nnlib.course.config import load_config
from nnlib.course.preprocessors import sealed_env


@dataclass(frozen=True)
class Answer:
    """One answer to one solution region."""

    region: str
    label: str
    code: str
    wrong: bool
    message: str = ""


def Wrong(region, label, code, message=""):
    """An answer that must lose points; `message`: text its failure must contain."""
    return Answer(region, label, code, True, message)


def Right(region, label, code):
    """An answer in another reasonable form that must keep every point."""
    return Answer(region, label, code, False)


@dataclass
class Catalogue:
    assignment: str
    notebook: str
    tests: dict
    answers: list
    path: Path = None


def load(path):
    """Load a catalogue file; its stem is the assignment id."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"catalogue_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Catalogue(path.stem, module.NOTEBOOK, module.TESTS, list(module.ANSWERS), path)


def find(root):
    """{assignment: Catalogue} for every tests/catalogue/<assignment>.py under `root`."""
    folder = Path(root) / "tests" / "catalogue"
    return {p.stem: load(p) for p in sorted(folder.glob("*.py")) if not p.stem.startswith("_")}


@dataclass
class Outcome:
    answer: Answer
    scores: dict = field(default_factory=dict)    # test id -> (score, max)
    text: str = ""                                # everything the test cells printed

    @property
    def lost_points(self):
        return any(score < top for score, top in self.scores.values())

    @property
    def ok(self):
        if self.answer.wrong:
            return self.lost_points and self.answer.message in self.text
        return not self.lost_points

    def describe(self):
        kind = "wrong" if self.answer.wrong else "right"
        scores = ", ".join(f"{t} {s:g}/{m:g}" for t, (s, m) in self.scores.items())
        return f"[{kind}] {self.answer.region}: {self.answer.label} -> {scores}"


def _drop_ignored_stderr(cell, pattern):
    if pattern:
        cell.outputs = [o for o in cell.outputs
                        if not (o.output_type == "stream" and o.name == "stderr" and re.search(pattern, o.text))]


def _output_text(cell):
    parts = []
    for o in cell.outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif o.output_type == "error":
            parts.append(f"{o.ename}: {o.evalue}")
        elif "text/plain" in o.get("data", {}):
            parts.append(o.data["text/plain"])
    return "\n".join(parts)


class _Runner:
    """One kernel over the master notebook; re-runs single cells on demand."""

    def __init__(self, assignment, source_nb, workdir, timeout, ignore_pattern):
        self.assignment = assignment
        self.nb = copy.deepcopy(source_nb)
        self.index = {cells.grade_id(c): i for i, c in enumerate(self.nb.cells) if cells.grade_id(c)}
        self.pattern = ignore_pattern
        self.client = NotebookClient(self.nb, timeout=timeout, allow_errors=True,
                                     interrupt_on_timeout=True, kernel_name="python3",
                                     kernel_manager_class=GradingKernelManager,
                                     resources={"metadata": {"path": str(workdir)}})

    def run(self, cell, index):
        cell = copy.deepcopy(cell)
        cell.outputs = []
        self.client.execute_cell(cell, index)
        return cell

    def score(self, cell, index):
        """(score, max) and text of a test cell, its hidden test decided by the judge as in grading."""
        if judge.is_judged(cell):
            ran = copy.deepcopy(cell)
            ran.outputs = judge.decide(self.client, cell, index, self.assignment).outputs()
        else:
            ran = self.run(cell, index)
        _drop_ignored_stderr(ran, self.pattern)
        score, top = determine_grade(ran)
        return (float(score), float(top)), _output_text(ran)


def _cell_with_answer(release_nb, source_nb, cell_index, answer):
    """The answer's cell: its release version, this answer in its region, the master's elsewhere."""
    regions = cells.solution_regions(source_nb)
    cell = copy.deepcopy(release_nb.cells[cell_index])
    for name, code in regions.items():
        submissions._fill_cell(cell, name, answer.code if name == answer.region else code)
    return cell


def _region_cell_index(release_nb, region):
    probe = submissions.fill(release_nb, {region: "pass"})
    for i, (a, b) in enumerate(zip(release_nb.cells, probe.cells)):
        if a.source != b.source:
            return i
    raise KeyError(region)


def run(root, catalogue, timeout=120):
    """Run every answer of `catalogue`; -> (baseline {test id: (score, max)}, [Outcome])."""
    root = Path(root)
    source = submissions.read(root / "source" / catalogue.assignment / catalogue.notebook)
    release = submissions.read(root / "release" / catalogue.assignment / catalogue.notebook)
    pattern = load_config(root).IgnorePattern.get("pattern", "")
    runner = _Runner(catalogue.assignment, source, root / "source" / catalogue.assignment, timeout, pattern)
    test_ids = {t for tests in catalogue.tests.values() for t in tests}
    baseline, outcomes = {}, []
    previous = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        with runner.client.setup_kernel(env=sealed_env()):   # as a grading kernel: the answer key sealed
            for i, cell in enumerate(runner.nb.cells):
                if cell.cell_type != "code":
                    continue
                if cells.grade_id(cell) in test_ids:
                    baseline[cells.grade_id(cell)] = runner.score(cell, i)[0]
                else:
                    runner.run(cell, i)
            for answer in catalogue.answers:
                index = _region_cell_index(release, answer.region)
                runner.run(_cell_with_answer(release, source, index, answer), index)
                outcome = Outcome(answer)
                texts = []
                for test in catalogue.tests[answer.region]:
                    j = runner.index[test]
                    outcome.scores[test], text = runner.score(runner.nb.cells[j], j)
                    texts.append(text)
                outcome.text = "\n".join(texts)
                outcomes.append(outcome)
                runner.run(runner.nb.cells[index], index)  # restore the master's answer
    finally:
        if previous is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = previous
    return baseline, outcomes
