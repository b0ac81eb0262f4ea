"""Find submissions and check that they can be graded, before nbgrader sees them.

Layout: nbgrader's submitted layout, <submitted>/<student>/<assignment>/<notebook>.ipynb.
Each (student, assignment) becomes a Job; what cannot be graded becomes a reason, never a crash.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


@dataclass
class Job:
    """One student's submission of one assignment."""

    student: str
    assignment: str
    folder: Path                                   # the student's submitted folder (read only)
    notebooks: list = field(default_factory=list)  # names that passed the checks, to be graded
    problems: list = field(default_factory=list)   # why a notebook could not be graded

    @property
    def key(self):
        return f"{self.assignment}/{self.student}"


def check_notebook(path):
    """None if `path` is a notebook nbgrader can grade, else the reason it is not."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return "not a text file (is it a notebook?)"
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if not isinstance(raw, dict) or "cells" not in raw:
        return "valid JSON but not a notebook: it has no 'cells'"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for malformed notebooks
        return f"not a valid notebook: {str(exc).splitlines()[0]}"
    if not nb.cells:
        return "the notebook has no cells"
    return None


def find_jobs(submitted, expected):
    """Jobs for every student folder under `submitted`.

    expected: {assignment: [notebook file names]} from source/. A student folder without an
    assignment's folder gets no job for it; notebooks with other names are reported.
    """
    submitted = Path(submitted)
    jobs = []
    if not submitted.is_dir():
        raise FileNotFoundError(f"no submissions folder at {submitted}")
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for assignment, names in expected.items():
            folder = student_dir / assignment
            if not folder.is_dir():
                continue
            job = Job(student_dir.name, assignment, folder)
            present = {p.name for p in folder.glob("*.ipynb")}
            for name in names:
                if name not in present:
                    job.problems.append(f"{name}: missing (found {sorted(present) or 'no notebooks'})")
                    continue
                reason = check_notebook(folder / name)
                if reason:
                    job.problems.append(f"{name}: {reason}")
                else:
                    job.notebooks.append(name)
            jobs.append(job)
    return jobs


def default_pattern(names):
    """nbgrader zip_collect regexp for LMS file names `<student>_<anything>_<notebook>`.

    names: the assignment's notebook file names (the file_id must be one of them).
    """
    import re
    choices = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return rf".*/(?P<student_id>[^/_]+)_(?:[^/]*_)?(?P<file_id>{choices})$"


def collect_downloads(downloads, assignment, names, submitted, pattern=None):
    """Sort LMS downloads (zip files and loose notebooks) into nbgrader's submitted layout.

    Uses nbgrader's zip_collect plugins: ExtractorPlugin unpacks archives, FileNameCollectorPlugin
    reads student and notebook from each file name with `pattern` (a named regexp with
    `student_id` and `file_id` groups; default: `default_pattern(names)`).
    Returns (students collected, [files that matched nothing]) — unmatched files are reported,
    never dropped silently.
    """
    import shutil
    import tempfile

    from nbgrader.plugins.zipcollect import ExtractorPlugin, FileNameCollectorPlugin

    collector = FileNameCollectorPlugin(named_regexp=pattern or default_pattern(names))
    students, unmatched = set(), []
    with tempfile.TemporaryDirectory(prefix="course-downloads-") as tmp:
        ExtractorPlugin().extract(str(Path(downloads).resolve()), tmp)
        for path in sorted(Path(tmp).rglob("*")):
            if not path.is_file():
                continue
            found = collector.collect(str(path)) if path.suffix == ".ipynb" else None
            if not found or found.get("file_id") not in names:
                unmatched.append(str(path.relative_to(tmp)))
                continue
            dest = Path(submitted) / found["student_id"] / assignment / found["file_id"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)
            students.add(found["student_id"])
    return sorted(students), unmatched
