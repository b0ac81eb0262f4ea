"""The class's grades, read from the class gradebook: one CSV row per student and assignment.

    course export [--out DIR] [--db URL] [--to FILE]

The gradebook is the one `course grade` fills and formgrader edits, so a row holds what
formgrader shows: autograded scores, the written answers a person graded, and "pending" for a
written answer nobody has graded yet (never 0). Status, isolation and reasons come from the
results `course grade` stored in <out>/.grading/results/ (signed; a result changed on disk is
not believed, and its row says so).

The same rows are written by `course grade` (as <out>/grades.csv) and by nbgrader's own
command through the plugin below:

    nbgrader export --exporter=nnlib.course.export.CourseCsvExport --to grades.csv
"""

import csv
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.plugins.export import ExportPlugin
from sqlalchemy.exc import SAWarning

from nnlib.course import signing

PENDING = "pending"
FIXED = ["student", "assignment", "status", "auto_score", "auto_max", "written_score", "written_max",
         "manual_pending", "score", "max_score"]
TRAILING = ["isolation", "reasons"]


@dataclass
class Row:
    """One submission as the gradebook holds it."""

    student: str
    assignment: str
    cells: dict = field(default_factory=dict)   # "notebook/grade_id" -> (score or None if pending, max, written)

    def _sum(self, written, what):
        return sum((score or 0.0) if what == "score" else top
                   for score, top, by_hand in self.cells.values() if by_hand == written)

    @property
    def auto_score(self):
        return self._sum(False, "score")

    @property
    def auto_max(self):
        return self._sum(False, "max")

    @property
    def written_score(self):
        return self._sum(True, "score")

    @property
    def written_max(self):
        return self._sum(True, "max")

    @property
    def pending(self):
        """Written answers waiting for a person."""
        return sum(score is None for score, _, _ in self.cells.values())

    @property
    def score(self):
        """formgrader's total: every grade's score, a pending answer counting nothing yet."""
        return self.auto_score + self.written_score

    @property
    def max_score(self):
        return self.auto_max + self.written_max


def grade_columns(gb, assignment):
    """["notebook/grade_id"] of `assignment`'s grade cells in notebook order, and the written ones: set."""
    columns, written = [], set()
    for nb in gb.find_assignment(assignment).notebooks:
        by_hand = {c.name for c in nb.solution_cells}
        for cell in nb.grade_cells:
            columns.append(f"{nb.name}/{cell.name}")
            if cell.name in by_hand:
                written.add(f"{nb.name}/{cell.name}")
    return columns, written


def read_gradebook(url, course_id, assignments=None, students=None):
    """Every submission in the gradebook at `url` (str): ({assignment: [columns]}, [Row]).

    Rows are sorted by assignment and student; assignments/students: only these (None: all).
    A grade is pending (score None) while it needs a manual grade and no person gave one.
    """
    columns, rows = {}, []
    with warnings.catch_warnings(), Gradebook(url, course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)
        for assignment in sorted(a.name for a in gb.assignments):
            if assignments and assignment not in assignments:
                continue
            columns[assignment], written = grade_columns(gb, assignment)
            for submission in sorted(gb.assignment_submissions(assignment), key=lambda s: s.student.id):
                if students and submission.student.id not in students:
                    continue
                row = Row(submission.student.id, assignment)
                for nb in submission.notebooks:
                    for g in nb.grades:
                        key = f"{nb.name}/{g.name}"
                        pending = g.needs_manual_grade and g.manual_score is None
                        row.cells[key] = (None if pending else float(g.score), float(g.max_score), key in written)
                rows.append(row)
    return columns, rows


def stored_results(out):
    """{(assignment, student): grade.Result} of every result stored under <out>/.grading/results
    that matches its signature; a result that does not is given as a string saying so."""
    from nnlib.course.grade import Result, _result_label
    folder = Path(out) / ".grading" / "results"
    if not folder.is_dir():
        return {}
    key = signing.folder_key(Path(out) / ".grading")
    found = {}
    for path in sorted(folder.glob("*/*.json")):
        assignment, student = path.parent.name, path.stem
        label = _result_label(assignment, student)
        try:
            sealed = json.loads(path.read_text())
            data = json.dumps(sealed["result"], sort_keys=True)
            if not signing.verify(key, label, data.encode(), sealed.get("signature", "")):
                found[(assignment, student)] = f"stored result {path} does not match its signature"
                continue
            found[(assignment, student)] = Result(**sealed["result"])
        except (ValueError, KeyError, TypeError) as exc:
            found[(assignment, student)] = f"stored result {path} is unreadable ({type(exc).__name__}: {exc})"
    return found


def _number(x):
    return f"{x:g}"


def csv_rows(columns, rows, results):
    """The CSV as lists of strings: header first. results: {(assignment, student): Result or str}."""
    from nnlib.course.grade import WITHOUT_ISOLATION
    every = [f"{a}/{key}" for a, keys in columns.items() for key in keys]
    lines = [FIXED + every + TRAILING]
    for row in rows:
        result = results.get((row.assignment, row.student))
        if isinstance(result, str):       # a stored result that cannot be believed
            status, isolation, reasons = "", "", [result]
        elif result is None:              # graded by another grader's run, or before results were kept
            status, isolation, reasons = "", "", []
        else:
            status, isolation = result.status, "sandbox" if result.isolated else "NONE"
            reasons = result.reasons if result.isolated else [WITHOUT_ISOLATION, *result.reasons]
        cells = []
        for column in every:
            assignment, key = column.split("/", 1)
            if assignment != row.assignment or key not in row.cells:
                cells.append("")
                continue
            score = row.cells[key][0]
            cells.append(PENDING if score is None else _number(score))
        lines.append([row.student, row.assignment, status, _number(row.auto_score), _number(row.auto_max),
                      _number(row.written_score), _number(row.written_max), str(row.pending),
                      _number(row.score), _number(row.max_score), *cells, isolation, " | ".join(reasons)])
    return lines


def write(path, url, course_id, out=None, results=None, assignments=None, students=None):
    """Write the class CSV of the gradebook at `url` to `path`; -> number of rows.

    out: the output folder whose stored results give status and reasons (None: none);
    results: [grade.Result] of the run just made, used before what is stored.
    """
    known = stored_results(out) if out else {}
    known.update({(r.assignment, r.student): r for r in results or ()})
    columns, rows = read_gradebook(url, course_id, assignments, students)
    lines = csv_rows(columns, rows, known)
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w", newline="") as f:
        csv.writer(f).writerows(lines)
    partial.replace(path)
    return len(lines) - 1


class CourseCsvExport(ExportPlugin):
    """nbgrader export plugin writing the course's CSV (see this module): per-exercise scores,
    written answers graded by a person, "pending" for those waiting, formgrader's totals.

    `nbgrader export --exporter=nnlib.course.export.CourseCsvExport [--to FILE]`, run in the
    output folder of `course grade` (its stored results add status and reasons).
    """

    def export(self, gradebook):
        dest = self.to or "grades.csv"
        out = Path(dest).resolve().parent
        url = gradebook.db.get_bind().url.render_as_string(hide_password=False)
        n = write(dest, url, gradebook.course_id, out if (out / ".grading").is_dir() else None,
                  assignments=[str(a) for a in self.assignment] or None,
                  students=[str(s) for s in self.student] or None)
        self.log.info("Exported %d submission(s) to %s", n, dest)
