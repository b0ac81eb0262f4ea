"""Regenerate release/ (student versions) and solutions/ (worked answers) from source/.

Both come from nbgrader: `generate_assignment` clears solutions and hidden tests; `generate_solution`
runs the master notebook with its hidden tests stripped (nbgrader_config.py sets the pipelines).
A throw-away gradebook is used, so building leaves no state behind and is deterministic.
"""

import os
import tempfile
import time
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.converters import GenerateSolution
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log, temp_attrs

from nnlib.course.config import assignments as list_assignments
from nnlib.course.config import load_config


class BuildError(RuntimeError):
    """nbgrader could not generate an assignment; the message carries its log."""


def nbgrader_api(root, db_path, **overrides):
    """nbgrader's API for the course at `root`, on the gradebook file `db_path` (Path), or at the
    SQLAlchemy URL `db_path` (str with "://": postgresql://...).

    overrides: CourseDirectory settings (release_directory=..., ...).
    """
    db_url = db_path if "://" in str(db_path) else f"sqlite:///{db_path}"
    config = load_config(root, db_url=db_url, **overrides)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def _check(result, what):
    if not result["success"]:
        raise BuildError(f"{what} failed:\n{result.get('log', '')}\n{result.get('error', '')}")


def generate_assignment(api, assignment):
    """`nbgrader generate_assignment` (forced, creating the assignment); BuildError with its log."""
    _check(api.generate_assignment(assignment, force=True, create=True), f"generate_assignment {assignment}")


def _generate_solution(api, assignment):
    """`nbgrader generate_solution` through the API's course directory (the API has no method for it)."""
    with temp_attrs(api.coursedir, assignment_id=assignment):
        app = GenerateSolution(coursedir=api.coursedir, parent=api)
        app.force = True
        return capture_log(app)


def build(root, assignments=None, release_dir="release", solution_dir="solutions", log=print):
    """Build release and solution notebooks of `assignments` (default: all) under `root`.

    release_dir, solution_dir: paths relative to root (or absolute) to write to.
    Returns {assignment: seconds taken}.
    """
    root = Path(root)
    # Progress bars print at a rate that depends on the machine: keep them out of solutions/.
    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        return _build(root, assignments, release_dir, solution_dir, log)
    finally:
        if previous is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = previous


def _build(root, assignments, release_dir, solution_dir, log):
    timings = {}
    with tempfile.TemporaryDirectory(prefix="course-build-") as tmp:
        api = nbgrader_api(root, Path(tmp) / "gradebook.db", release_directory=str(release_dir),
                   solution_directory=str(solution_dir))
        for assignment in assignments or list_assignments(root):
            start = time.perf_counter()
            if not (root / "source" / assignment).is_dir():
                raise BuildError(f"no assignment {assignment!r} in {root / 'source'}")
            generate_assignment(api, assignment)
            _check(_generate_solution(api, assignment), f"generate_solution {assignment}")
            timings[assignment] = time.perf_counter() - start
            log(f"built {assignment} in {timings[assignment]:.1f} s")
    return timings
