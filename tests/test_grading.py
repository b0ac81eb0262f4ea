"""Full nbgrader round trips on the example class of each assignment (nnlib.course.demo)."""

import csv
import shutil
from pathlib import Path

import pytest

from nnlib.course import catalogue, config, demo, grade, worker

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = config.assignments(ROOT)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    cache = {}

    def get(assignment):
        if assignment not in cache:
            out = tmp_path_factory.mktemp(assignment)
            demo.example_class(ROOT, assignment, out / "submitted")
            results = grade.grade(ROOT, [assignment], out / "submitted", out, workers=2, timeout=60,
                                  progress=False, log=lambda *_: None)
            cache[assignment] = out, {r.student: r for r in results}
        return cache[assignment]
    return get


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_scores_full_marks(graded, assignment):
    """Does the master's answer score every autograded point, through nbgrader?"""
    r = graded(assignment)[1]["solution"]
    assert r.status == grade.GRADED and r.auto_score == r.auto_max > 0, r


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_release_scores_zero(graded, assignment):
    """Does an untouched release notebook score zero, with nothing left for manual grading?"""
    r = graded(assignment)[1]["blank"]
    assert r.status == grade.GRADED and r.auto_score == 0 and r.manual_pending == 0, r


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_typical_mistakes_lose_exactly_their_exercises(graded, assignment):
    """Does a submission with one wrong answer per exercise lose points there, and explain why?"""
    r = graded(assignment)[1]["mistakes"]
    cat = catalogue.find(ROOT)[assignment]
    assert 0 <= r.auto_score < r.auto_max
    for region, tests in cat.tests.items():
        lost = [t for t in tests for key, (s, m, _) in r.scores.items() if key.endswith("/" + t) and s < m]
        assert lost, f"{region}: the wrong answer kept all its points"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_right_answers_in_other_forms_score_full_marks(graded, assignment):
    """Do correct variants (loops, other algebra, other APIs) get every point through nbgrader?"""
    r = graded(assignment)[1]["variants"]
    assert r.auto_score == r.auto_max, r.failures


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_endless_cell_is_cut_and_reported(graded, assignment):
    """Does a cell that never ends time out, get reported, and leave the rest graded?"""
    r = graded(assignment)[1]["endless"]
    assert r.status == grade.PROBLEMS
    assert any("time" in reason for reason in r.reasons), r.reasons
    assert r.auto_score == r.auto_max


@pytest.mark.parametrize("student, reason", [("not_json", "not valid JSON"), ("no_cells", "has no cells")])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_broken_files_are_ungradable_with_a_reason(graded, assignment, student, reason):
    """Is a broken file reported for its student, with a reason, and scored zero?"""
    r = graded(assignment)[1][student]
    assert r.status == grade.UNGRADABLE and r.auto_score == 0
    assert any(reason in x for x in r.reasons), r.reasons


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_outputs_csv_feedback_and_gradebook(graded, assignment):
    """Is every student in grades.csv with one column per exercise, and is feedback free of hidden tests?"""
    out, results = graded(assignment)
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert sorted(r["student"] for r in rows) == sorted(results)
    exercise_columns = [c for c in rows[0] if c.startswith(assignment + "/")]
    assert len(exercise_columns) == len(results["solution"].scores)
    pages = list((out / "feedback").glob(f"*/{assignment}/*.html"))
    assert {p.parts[-3] for p in pages} >= {"solution", "blank", "mistakes"}
    for page in pages:
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "grade_" not in text.replace("grade_id", "")
    assert (out / "gradebook.db").is_file()


@pytest.mark.parametrize("assignment", ASSIGNMENTS[:1])
def test_regrading_unchanged_submissions_reuses_results(graded, assignment):
    """Does a second run grade nothing again and write the same grades.csv?"""
    out, _ = graded(assignment)
    before = (out / "grades.csv").read_bytes()
    said = []
    grade.grade(ROOT, [assignment], out / "submitted", out, workers=2, progress=False, log=said.append)
    assert not any(line.startswith("grading ") for line in said), said
    assert (out / "grades.csv").read_bytes() == before


@pytest.mark.parametrize("assignment", ASSIGNMENTS[:1])
def test_kernels_started_from_scratch_grade_the_same(graded, assignment, tmp_path):
    """Do kernels started one by one (--no-fork-server) give the forked kernels' scores and failures?"""
    out, forked = graded(assignment)
    students = ["solution", "mistakes", "variants", "blank"]
    for student in students:
        shutil.copytree(out / "submitted" / student, tmp_path / "submitted" / student)
    results = grade.grade(ROOT, [assignment], tmp_path / "submitted", tmp_path / "out", workers=2,
                          timeout=30, progress=False, log=lambda *_: None, fork_server=False)
    for r in results:
        assert (r.status, r.scores, r.failures) == (forked[r.student].status, forked[r.student].scores,
                                                   forked[r.student].failures), r.student


def test_partial_credit_does_not_depend_on_load(tmp_path):
    """Does an a3 submission with a wrong make_data (later cells train on what it made) get the same
    partial score graded on an idle machine and on one whose cores are kept busy?"""
    import subprocess
    import sys

    import nbformat

    from nnlib.course import submissions
    assignment = "a3_depth_width"
    cat = catalogue.load(ROOT / "tests" / "catalogue" / f"{assignment}.py")
    answer = next(a for a in cat.answers if a.region == "make_data" and a.label == "inputs transposed")
    release = submissions.read(ROOT / "release" / assignment / cat.notebook)
    source = submissions.read(ROOT / "source" / assignment / cat.notebook)
    folder = tmp_path / "submitted" / "transposed" / assignment
    folder.mkdir(parents=True)
    nbformat.write(submissions.solved(release, source, {"make_data": answer.code}), str(folder / cat.notebook))

    def scores(out):
        (result,) = grade.grade(ROOT, [assignment], tmp_path / "submitted", out, workers=1, timeout=60,
                                progress=False, log=lambda *_: None)
        return {k: s for k, (s, _, by_hand) in result.scores.items() if not by_hand}

    idle = scores(tmp_path / "idle")
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        busy = scores(tmp_path / "busy")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert sum(idle.values()) > 0 and 0 in idle.values(), idle   # partial credit
    assert busy == idle


@pytest.mark.parametrize("assignment", ASSIGNMENTS[:1])
def test_each_job_says_where_its_time_went(graded, assignment):
    """Does each graded submission record how long each stage took, the stages adding up to its time?"""
    _, results = graded(assignment)
    for student in ("solution", "mistakes", "endless"):
        r = results[student]
        assert set(r.stages) == set(worker.Stages.names()) | {"total"}, student
        assert r.stages["total"] == pytest.approx(r.seconds) and r.seconds > 0, student
        assert sum(r.stages[s] for s in worker.Stages.names()) == pytest.approx(r.seconds), student
        assert all(seconds >= 0 for stage, seconds in r.stages.items() if stage != "other"), (student, r.stages)
        for stage in ("kernel_start", "cells", "judge_kernel", "judge_compute", "nbgrader", "gradebook", "feedback"):
            assert r.stages[stage] > 0, (student, stage, r.stages)
