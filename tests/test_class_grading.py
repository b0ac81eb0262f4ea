"""Grading a synthetic class of assignment 1: expected scores, bad inputs, resuming, repeatability."""

import csv
import json
from pathlib import Path

import pytest

from nnlib.course import catalogue, grade, synthetic

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a1_hyperparameters"
N = 24


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    cat = catalogue.find(ROOT)[ASSIGNMENT]
    _, outcomes = catalogue.run(ROOT, cat)
    out = tmp_path_factory.mktemp("class")
    expected = synthetic.make_class(ROOT, cat, outcomes, N, out / "submitted", seed=7, bad_every=3)
    results = grade.grade(ROOT, [ASSIGNMENT], out / "submitted", out, workers=2, timeout=30,
                          progress=False, log=lambda *_: None)
    return out, {e.student: e for e in expected}, {r.student: r for r in results}


def test_every_bad_input_kind_is_in_the_class(graded_class):
    """Does the synthetic class contain each kind of bad input at least once?"""
    _, expected, _ = graded_class
    assert {e.kind for e in expected.values()} >= set(synthetic.BAD_INPUTS)


def test_each_student_gets_the_expected_status(graded_class):
    """Is every student's status (graded, problems, penalties, ungradable) the expected one?"""
    _, expected, results = graded_class
    wrong = {s: (e.kind, e.status, results[s].status, results[s].reasons)
             for s, e in expected.items() if results[s].status != e.status}
    assert not wrong, wrong


def test_each_student_gets_the_expected_scores(graded_class):
    """Does every test cell score what the catalogue says that answer earns?"""
    _, expected, results = graded_class
    for student, e in expected.items():
        got = {key.split("/")[-1]: s for key, (s, _, by_hand) in results[student].scores.items() if not by_hand}
        assert got == pytest.approx(e.scores), (student, e.kind, results[student].failures)


def test_every_submission_has_a_row_and_a_reason_when_not_plainly_graded(graded_class):
    """Is nothing lost: one CSV row per student, a reason for each one not plainly graded, all in the report?"""
    out, expected, results = graded_class
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert set(rows) == set(expected)
    for student, row in rows.items():
        if row["status"] != grade.GRADED:
            assert row["reasons"], student
    report = (out / "report.html").read_text()
    for student, result in results.items():
        if result.status != grade.GRADED:
            assert f"<td>{student}</td>" in report, student
    for test in next(iter(expected.values())).scores:
        assert f"<td>{test}</td>" in report, test


def test_interrupted_run_resumes_and_gives_identical_csv(graded_class):
    """After losing some results (an interrupted run), does a rerun grade only those and match?"""
    out, expected, _ = graded_class
    before = (out / "grades.csv").read_bytes()
    lost = sorted(expected)[:2]
    for student in lost:
        (out / ".grading" / "results" / ASSIGNMENT / f"{student}.json").unlink()
    said = []
    grade.grade(ROOT, [ASSIGNMENT], out / "submitted", out, workers=2, timeout=30, progress=False,
                log=said.append)
    graded_again = [s for s in said if s.startswith("grading ")]
    assert graded_again and graded_again[0].startswith(f"grading {len(lost)} submission"), said
    assert (out / "grades.csv").read_bytes() == before


def test_results_do_not_depend_on_the_rest_of_the_class(graded_class, tmp_path):
    """Does a student graded alone score exactly as inside a class full of bad inputs?"""
    out, expected, results = graded_class
    student = next(s for s, e in expected.items() if e.kind == "answers")
    alone = tmp_path / "submitted" / student
    alone.parent.mkdir(parents=True)
    (alone).symlink_to(out / "submitted" / student, target_is_directory=True)
    (single,) = grade.grade(ROOT, [ASSIGNMENT], tmp_path / "submitted", tmp_path, workers=1,
                            progress=False, log=lambda *_: None)
    assert single.scores == results[student].scores
    assert json.dumps(single.failures, sort_keys=True) == json.dumps(results[student].failures, sort_keys=True)
