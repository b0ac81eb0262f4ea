"""The class gradebook as formgrader sees it, manual grades across re-grades, the export, feedback."""

import csv
import re
import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from nnlib.course import cli, demo, export, grade
from nnlib.course.preprocessors import PENDING_NOTE, latex_to_mathml

ROOT = Path(__file__).resolve().parents[1]
A = "a1_hyperparameters"
CLASS = ["blank", "mistakes", "solution"]
QUIET = dict(workers=2, timeout=60, progress=False, log=lambda *_: None)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """a1 graded for three students, submissions outside the output folder: (out, {student: Result})."""
    where = tmp_path_factory.mktemp("class")
    demo.example_class(ROOT, A, where / "downloads")
    for folder in (where / "downloads").iterdir():
        if folder.name not in CLASS:
            shutil.rmtree(folder)
    out = where / "out"
    results = grade.grade(ROOT, [A], where / "downloads", out, **QUIET)
    return out, {r.student: r for r in results}


def formgrader_api(out):
    """nbgrader's API as formgrader builds it in `out`, from the nbgrader_config.py found there."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(out)).load_config()
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def written(out, student):
    """The written answers' grades of `student` in the class gradebook: [Grade] (detached values)."""
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        submission = gb.find_submission(A, student)
        return [(g.notebook.name, g.name, g.manual_score, g.needs_manual_grade)
                for nb in submission.notebooks for g in nb.grades if g.cell_type == "markdown"]


def test_formgrader_lists_every_graded_submission_with_its_student(graded):
    """Does formgrader, opened on the output folder, count each submission, name each student
    and find every submission autograded, its written answers waiting for manual grading?"""
    out, results = graded
    api = formgrader_api(out)
    assert api.get_assignment(A)["num_submissions"] == len(CLASS)
    submissions = {s["student"]: s for s in api.get_submissions(A)}
    assert sorted(submissions) == CLASS
    assert all(s["autograded"] and s["last_name"] is not None for s in submissions.values())
    assert all(s["first_name"] is not None for s in api.get_students())
    for student in ("solution", "mistakes"):
        assert submissions[student]["needs_manual_grade"], student
        assert all(needs for *_, needs in written(out, student)), student
    assert not submissions["blank"]["needs_manual_grade"]   # its written answer is blank: zero
    # the autograded cells hold the scores course grade gave
    assert submissions["solution"]["code_score"] == pytest.approx(results["solution"].auto_score)
    assert (out / "submitted" / "solution" / A / "hyperparameters.ipynb").is_file()


def test_export_says_pending_and_totals_match_formgrader(graded, tmp_path):
    """Does the export show a written answer nobody graded as pending (never 0), and are its
    totals formgrader's (score and max including written answers)?"""
    out, _ = graded
    dest = tmp_path / "grades.csv"
    url = f"sqlite:///{out / 'gradebook.db'}"
    assert export.write(dest, url, "nnlib-course", out) == len(CLASS)
    rows = {r["student"]: r for r in csv.DictReader(open(dest))}
    with Gradebook(url) as gb:
        for student, row in rows.items():
            s = gb.find_submission(A, student)
            assert float(row["score"]) == pytest.approx(s.score) and float(row["max_score"]) == pytest.approx(s.max_score)
            assert float(row["auto_score"]) == pytest.approx(s.code_score)
    solution = rows["solution"]
    pending = [k for k, v in solution.items() if v == export.PENDING]
    assert pending and int(solution["manual_pending"]) == len(pending)
    assert rows["blank"]["manual_pending"] == "0" and export.PENDING not in rows["blank"].values()


def test_the_table_counts_waiting_written_answers_in_points(graded):
    """Does the terminal table say how many points wait for a person (a1: one written answer of 2)?"""
    _, results = graded
    solution = results["solution"]
    written = [top for key, (_, top, manual) in solution.scores.items() if manual]
    line = next(l for l in grade.table([solution]).splitlines() if l.startswith("solution"))
    assert written == [2.0] and re.search(rf"\b{solution.score_so_far:g}/12\s+\+2\? ", line), line


def test_regrading_keeps_manual_grades_and_comments(graded):
    """Does a re-grade (results reused, then forced) keep a manual grade, its comment and the
    'graded' state, and do grades.csv and the feedback then show the manual grade?"""
    out, _ = graded
    url = f"sqlite:///{out / 'gradebook.db'}"
    with Gradebook(url) as gb:
        submission = gb.find_submission(A, "solution")
        grades = [g for nb in submission.notebooks for g in nb.grades if g.cell_type == "markdown"]
        target = grades[0]
        target.manual_score, target.needs_manual_grade = 1.5, False
        comment = gb.find_comment(target.name, target.notebook.name, A, "solution")
        comment.manual_comment = "right idea, one sign wrong"
        gb.db.commit()
        name = target.name
    for force in (False, True):
        grade.grade(ROOT, [A], out / "submitted", out, force=force, **QUIET)
        with Gradebook(url) as gb:
            g = next(g for nb in gb.find_submission(A, "solution").notebooks for g in nb.grades if g.name == name)
            assert (g.manual_score, g.needs_manual_grade) == (1.5, False), force
            c = gb.find_comment(name, g.notebook.name, A, "solution")
            assert c.manual_comment == "right idea, one sign wrong"
    row = next(r for r in csv.DictReader(open(out / "grades.csv")) if r["student"] == "solution")
    assert any(k.endswith("/" + name) and v == "1.5" for k, v in row.items())
    assert cli.main(["--root", str(ROOT), "feedback", A, "--out", str(out), "--student", "solution"]) == 0
    page = (out / "feedback" / "solution" / A / "hyperparameters.html").read_text()
    assert "right idea, one sign wrong" in page and "<math" in page


def test_outputs_cover_every_graded_assignment_not_only_the_latest_run(graded):
    """After a run that grades one student only, do grades.csv and report.html still hold everyone?"""
    out, _ = graded
    grade.grade(ROOT, [A], out / "submitted", out, students=["blank"], **QUIET)
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert sorted(r["student"] for r in rows) == CLASS
    assert all(r["status"] for r in rows)
    report = (out / "report.html").read_text()
    assert f"{A} ({len(CLASS)} submissions)" in report and "waiting for a grader" in report


def test_feedback_says_a_written_answer_waits_for_a_person(graded):
    """Does the feedback of a submission with ungraded written answers say they wait for a person,
    and carry its formulas as MathML rather than LaTeX for a CDN's MathJax?"""
    out, _ = graded
    page = (out / "feedback" / "mistakes" / A / "hyperparameters.html").read_text()
    assert PENDING_NOTE.split(":")[0] in page
    assert "<math" in page


def test_formulas_become_mathml_and_code_is_left_alone():
    """Does the offline-math conversion turn inline and display formulas into MathML, leave code
    and escaped dollars as written, and keep a formula it cannot read?"""
    text = "Loss $L = \\frac{1}{2}(y-\\hat y)^2$, costs \\$5, `x = $y$`\n\n$$\\sum_i w_i$$\n\n$\\notacommand{$"
    got = latex_to_mathml(text)
    assert got.count("<math") == 2 and 'display="block"' in got
    assert "`x = $y$`" in got and "\\$5" in got and "\\notacommand{" in got


def test_feedback_templates_are_compiled_once_and_again_when_changed(tmp_path, monkeypatch):
    """Does a second feedback exporter reuse the templates the first compiled, render the same
    page, and compile a template again once its source has changed?"""
    import nbformat
    from jinja2 import Environment

    from nnlib.course.preprocessors import CompiledTemplates, FeedbackExporter

    monkeypatch.setattr(FeedbackExporter, "compiled", CompiledTemplates())
    compiled = []
    compile_ = Environment.compile
    monkeypatch.setattr(Environment, "compile", lambda self, source, name=None, filename=None, *a, **k:
                        compiled.append(filename) or compile_(self, source, name, filename, *a, **k))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Feedback")])
    folder = tmp_path / "templates" / "page"
    folder.mkdir(parents=True)
    (folder / "conf.json").write_text('{"base_template": "lab"}')
    (folder / "index.html.j2").write_text('{%- extends "lab/index.html.j2" -%}')

    def render():
        exporter = FeedbackExporter(template_name="page", extra_template_basedirs=[str(tmp_path / "templates")])
        return exporter.from_notebook_node(nb)[0]

    first = render()
    assert compiled, "nothing was compiled"
    compiled.clear()
    assert render() == first
    assert compiled == []
    (folder / "index.html.j2").write_text('{%- extends "lab/index.html.j2" -%}\n{%- block header -%}changed{%- endblock -%}')
    changed = render()
    assert [Path(f).name for f in compiled] == ["index.html.j2"]
    assert "changed" in changed and changed != first
