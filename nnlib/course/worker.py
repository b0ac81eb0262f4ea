"""Grade one submission in a working copy of its own, outside the course folder.

`grade_job` runs in a worker process: it copies the submission and a gradebook made for the
assignment into a fresh temporary course root, runs nbgrader's autograde and generate_feedback
there, and returns plain data (scores, failure messages, problems), so the parent process
never shares a database connection or a kernel with a submission.
"""

import os
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from nnlib.course.config import load_config

KERNEL_TROUBLE = {"CellTimeoutError": "timed out", "DeadKernelError": "killed the kernel",
                  "KeyboardInterrupt": "was interrupted (time limit)"}


def _messages(nb_path):
    """{grade_id: failure text} of test cells, and [notes] on cells that broke the run."""
    nb = nbformat.read(str(nb_path), as_version=4)
    failures, notes = {}, []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        for out in cell.get("outputs", []):
            if out.output_type != "error":
                continue
            text = f"{out.ename}: {out.evalue}".strip()
            if meta.get("grade") and not meta.get("solution"):
                failures.setdefault(meta.get("grade_id"), text)
            if out.ename in KERNEL_TROUBLE:
                where = meta.get("grade_id") or f"cell {nb.cells.index(cell) + 1}"
                notes.append(f"{where} {KERNEL_TROUBLE[out.ename]}")
                break
    return failures, notes


def _scores(db_url, course_id, assignment, student):
    """{notebook: {grade_id: [score, max, graded_by_hand]}} and the written answers left blank.

    graded_by_hand: the cell is a written answer (a grade cell that is also a solution cell);
    nbgrader scores an unchanged one zero instead of asking for a manual grade.
    """
    result, blank = {}, []
    with Gradebook(db_url, course_id) as gb:
        submission = gb.find_submission(assignment, student)
        for nb in submission.notebooks:
            by_hand = {c.name for c in nb.notebook.solution_cells}
            result[nb.name] = {g.name: [float(g.score or 0.0), float(g.max_score), g.name in by_hand]
                               for g in nb.grades}
            blank += [f"{nb.name}/{g.name}" for g in nb.grades if g.name in by_hand and not g.needs_manual_grade]
    return result, blank


def grade_job(spec):
    """Grade one submission. spec: dict with course_root, template_db, out_dir, student,
    assignment, folder, notebooks, timeout. Returns a dict (see grade.Result)."""
    course_root = Path(spec["course_root"])
    student, assignment = spec["student"], spec["assignment"]
    work = Path(tempfile.mkdtemp(prefix="course-grade-"))
    result = {"student": student, "assignment": assignment, "scores": {}, "failures": {},
              "notes": [], "unanswered": [], "error": None}
    try:
        dest = work / "submitted" / student / assignment
        dest.mkdir(parents=True)
        for name in spec["notebooks"]:
            shutil.copy(Path(spec["folder"]) / name, dest / name)
        timestamp = Path(spec["folder"]) / "timestamp.txt"
        if timestamp.is_file():
            shutil.copy(timestamp, dest / "timestamp.txt")
        shutil.copy(spec["template_db"], work / "gradebook.db")
        db_url = f"sqlite:///{work / 'gradebook.db'}"
        config = load_config(course_root, db_url=db_url,
                             source_directory=str(course_root / "source"))
        config.CourseDirectory.root = str(work)
        if spec.get("timeout"):
            config.Execute.timeout = int(spec["timeout"])
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        graded = api.autograde(assignment, student, force=True, create=True)
        if not graded["success"]:
            result["error"] = _last_line(graded.get("error") or graded.get("log") or "autograde failed")
            return result
        feedback = api.generate_feedback(assignment, student, force=True)
        if not feedback["success"]:
            result["notes"].append("feedback could not be generated: " + _last_line(feedback.get("error", "")))
        result["scores"], result["unanswered"] = _scores(db_url, config.CourseDirectory.course_id, assignment, student)
        out = Path(spec["out_dir"])
        for step in ("autograded", "feedback"):
            src = work / step / student / assignment
            if src.is_dir():
                target = out / step / student / assignment
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(src, target)
        for name in spec["notebooks"]:
            nb_path = work / "autograded" / student / assignment / name
            if nb_path.is_file():
                failures, notes = _messages(nb_path)
                result["failures"].update(failures)
                result["notes"].extend(f"{name}: {n}" for n in notes)
        return result
    except Exception as exc:  # a grader fault for this submission only; reported, never hidden
        result["error"] = f"grader error: {type(exc).__name__}: {exc}"
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def quiet_worker(log_dir):
    """Pool initializer: send this worker's (and its kernels') stdout/stderr to a log file."""
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    log = open(Path(log_dir) / f"worker-{os.getpid()}.log", "ab", buffering=0)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)


def _last_line(text):
    lines = [l.strip() for l in str(text).strip().splitlines() if l.strip()]
    return lines[-1] if lines else "unknown error"
