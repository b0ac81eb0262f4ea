"""Grade one submission in a working copy of its own, outside the course folder.

`grade_job` runs in a worker process: it copies the submission and a gradebook made for the
assignment into a fresh temporary course root, runs nbgrader's autograde and generate_feedback
there, and returns plain data (scores, failure messages, problems), so the parent process
never shares a database connection or a kernel with a submission.
"""

import functools
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from nnlib.course import cells, forkserver, integrity, repair
from nnlib.course.config import load_config
from nnlib.course.preprocessors import KILLED, STOPWATCH

KERNEL_TROUBLE = {"CellTimeoutError": "timed out", "DeadKernelError": "killed the kernel",
                  KILLED: "stopped the kernel: left out, the rest graded without it",
                  "KeyboardInterrupt": "was interrupted (time limit)"}
MOST_LEFT_OUT = 3   # cells that killed the kernel, left out one by one before giving up
SERVER = forkserver.ForkServer()   # this worker's kernel fork server, started by its first job


@dataclass
class Stages:
    """Where one grading job's wall time went, in seconds; the fields add up to `total`.

    prepare: repairing and scanning the notebooks, the working copy, its gradebook and config;
    kernel_start: the kernel and its client until the kernel answers (on a worker's first job,
    starting its fork server too); cells: cells run in the kernel (answers, demos, self-checks
    that are not graded); judge: the judge's tests, of which judge_kernel waiting on the kernel
    (the student's code and the data's round trips) and the rest computed in the judge (answer
    key, comparisons); kernel_stop: killing the kernel; nbgrader: the rest of nbgrader's autograde
    (reading, sanitizing and writing the notebook, its preprocessors); gradebook: SQL statements on
    the working gradebook (nbgrader's and ours: compiled and run); feedback: the feedback HTML
    (its SQL apart); outputs: copying the autograded notebook and feedback to the output folder
    and reading their failure messages; other: the rest (the working copy removed, memory figures).
    """

    prepare: float = 0.0
    kernel_start: float = 0.0
    cells: float = 0.0
    judge_kernel: float = 0.0
    judge_compute: float = 0.0
    kernel_stop: float = 0.0
    nbgrader: float = 0.0
    gradebook: float = 0.0
    feedback: float = 0.0
    outputs: float = 0.0
    other: float = 0.0
    total: float = 0.0

    @classmethod
    def names(cls):
        """The stages, in order, without the total."""
        return [f.name for f in fields(cls) if f.name != "total"]


def _sql_clock():
    """Count the time of every SQL statement this process runs (compiled and executed) as
    STOPWATCH's "gradebook", with SQLAlchemy's engine events. Installed once per process."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if getattr(_sql_clock, "installed", False):
        return
    started = []

    def before(*_):
        started.append(time.perf_counter())

    def after(*_):
        if started:
            STOPWATCH.add("gradebook", time.perf_counter() - started.pop())

    event.listen(Engine, "before_execute", before)
    event.listen(Engine, "after_execute", after)
    _sql_clock.installed = True


@contextmanager
def _span(spans, name):
    """Add the block's wall time to spans[name], and the SQL time within it to spans["sql:" + name]."""
    start, sql = time.perf_counter(), STOPWATCH.seconds.get("gradebook", 0.0)
    try:
        yield
    finally:
        spans[name] = spans.get(name, 0.0) + time.perf_counter() - start
        spans["sql:" + name] = spans.get("sql:" + name, 0.0) + STOPWATCH.seconds.get("gradebook", 0.0) - sql


def _stages(spans, total):
    """Stages of one job from its spans (see _span) and what STOPWATCH summed meanwhile."""
    clock = STOPWATCH.take()
    executing = sum(clock.get(k, 0.0) for k in ("kernel_start", "cells", "judge", "kernel_stop"))
    stages = Stages(
        prepare=spans.get("prepare", 0.0),
        kernel_start=clock.get("kernel_start", 0.0) + clock.get("server", 0.0),
        cells=clock.get("cells", 0.0),
        judge_kernel=clock.get("judge_kernel", 0.0),
        judge_compute=clock.get("judge", 0.0) - clock.get("judge_kernel", 0.0),
        kernel_stop=clock.get("kernel_stop", 0.0),
        nbgrader=spans.get("autograde", 0.0) - executing - spans.get("sql:autograde", 0.0),
        gradebook=spans.get("gradebook", 0.0) + spans.get("sql:autograde", 0.0) + spans.get("sql:feedback", 0.0),
        feedback=spans.get("feedback", 0.0) - spans.get("sql:feedback", 0.0),
        outputs=spans.get("outputs", 0.0),
        total=total)
    stages.other = total - sum(getattr(stages, name) for name in Stages.names() if name != "other")
    return stages


def _messages(nb_path):
    """{grade_id: failure text} of test cells, and [notes] on cells that broke the run."""
    nb = nbformat.read(str(nb_path), as_version=4)
    failures, notes = {}, []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type != "error":
                continue
            text = f"{out.ename}: {out.evalue}".strip()
            if cells.is_test(cell):
                failures.setdefault(cells.grade_id(cell), text)
            if out.ename in KERNEL_TROUBLE:
                where = cells.grade_id(cell) or f"cell {nb.cells.index(cell) + 1}"
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


def _children(pid):
    """Process ids whose parent is `pid` (Linux /proc)."""
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and forkserver.parent_of(e.name) == pid]


class Budget:
    """Kill this worker's kernels (their stubs) if one submission runs longer than `seconds` in all."""

    def __init__(self, seconds):
        self.seconds, self.fired = seconds, False
        self.timer = threading.Timer(seconds, self._fire) if seconds else None

    def _fire(self):
        self.fired = True
        server = SERVER.process.pid if SERVER.alive() else None
        for pid in _children(os.getpid()):
            if pid == server:
                continue   # the server kills the kernel of a stub that dies, and stays warm
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self):
        if self.timer:
            self.timer.daemon = True
            self.timer.start()
        return self

    def __exit__(self, *exc):
        if self.timer:
            self.timer.cancel()


def _environment(spec):
    """Kernel environment of this job: the sandbox kernel spec first, one BLAS/torch thread pool."""
    if spec.get("kernelspec_dir"):   # first, once: a worker runs many jobs
        os.environ["JUPYTER_PATH"] = os.pathsep.join([spec["kernelspec_dir"]] + [
            p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p and p != spec["kernelspec_dir"]])
    os.environ["TQDM_DISABLE"] = "1"   # a progress bar on stderr would zero a test cell
    if spec.get("threads"):
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(spec["threads"])


def _start_server(spec):
    """Start this worker's kernel server as the spec says: in a sandbox (spec["sandbox"], a
    sandbox.Limits) or not (None), preloading imports or not (spec["fork_server"])."""
    limits, preload = spec.get("sandbox"), spec.get("fork_server", True)
    try:
        SERVER.start(limits=limits, preload=preload)
    except (OSError, RuntimeError) as exc:
        if limits:     # never grade outside the sandbox that was asked for
            raise RuntimeError(f"the grading sandbox could not start: {exc}") from exc
        SERVER.stop()  # unsandboxed kernels then start one by one; grading goes on
        print(f"kernel fork server unavailable ({exc}); starting kernels one by one", file=sys.stderr)


def _kernel_died(text):
    return "DeadKernelError" in text or "Kernel died" in text


def _autograde(config, assignment, student, journal, budget, most=MOST_LEFT_OUT):
    """nbgrader autograde; a cell that kills the kernel is left out and the rest graded again.

    Returns (api, nbgrader's result of the last attempt). Up to `most` cells are left out.
    """
    left_out = []
    while True:
        journal.unlink(missing_ok=True)
        config.GuardedExecute.journal = str(journal)
        config.GuardedExecute.skip_cells = list(left_out)
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        graded = api.autograde(assignment, student, force=True, create=True)
        report = f"{graded.get('log', '')}\n{graded.get('error', '')}"
        if graded["success"] or budget.fired or not _kernel_died(report) or not journal.is_file():
            return api, graded
        killer = journal.read_text()
        if killer in left_out or len(left_out) >= most:
            return api, graded
        left_out.append(killer)


def _friendly(text):
    """The line of nbgrader's error report that says what went wrong, in words for a person."""
    if _kernel_died(text):
        return "the kernel died while running the notebook (a crash, os._exit, exit(), or the memory cap)"
    if "CellTimeoutError" in text or "Timeout waiting" in text:
        return "the kernel stopped answering (timeout)"
    lines = [l.strip() for l in text.splitlines() if l.strip() and "Please see the" not in l]
    errors = [l for l in lines if "Error" in l or "Exception" in l]
    return (errors or lines or ["autograde failed"])[-1]


def grade_job(spec):
    """Grade one submission. spec: dict with course_root, template_db, out_dir, student,
    assignment, folder, notebooks, timeout, budget, kernelspec_dir, threads, fork_server.
    Returns a dict (see grade.Result); its "stages" say where the time went (Stages, as a dict)."""
    _environment(spec)
    _sql_clock()
    STOPWATCH.take()   # from zero: nothing of an earlier job counts here
    started = time.perf_counter()
    spans = {}
    course_root = Path(spec["course_root"])
    student, assignment = spec["student"], spec["assignment"]
    work = Path(tempfile.mkdtemp(prefix="course-grade-", dir=spec.get("run_dir")))
    result = {"student": student, "assignment": assignment, "scores": {}, "failures": {},
              "notes": [], "unanswered": [], "tampering": [], "error": None}
    try:
        with STOPWATCH("server"):   # the kernels' fork server: started by a worker's first job
            _start_server(spec)
        with _span(spans, "prepare"):
            dest = work / "submitted" / student / assignment
            dest.mkdir(parents=True)
            for name in spec["notebooks"]:
                release = nbformat.read(str(course_root / "release" / assignment / name), as_version=4)
                submitted = nbformat.read(str(Path(spec["folder"]) / name), as_version=4)
                repaired, changes = repair.restore(submitted, release)
                result["notes"] += [f"{name}: {c}" for c in changes]
                result["tampering"] += [f"{name}: {f}" for f in integrity.scan(repaired, release)]
                result["notes"] += [f"{name}: {f}" for f in integrity.unparsable(repaired, release)]
                nbformat.write(repaired, str(dest / name))
            timestamp = Path(spec["folder"]) / "timestamp.txt"
            if timestamp.is_file():
                shutil.copy(timestamp, dest / "timestamp.txt")
            shutil.copy(spec["template_db"], work / "gradebook.db")
            db_url = f"sqlite:///{work / 'gradebook.db'}"
            config = load_config(course_root, db_url=db_url,
                                 source_directory=str(course_root / "source"))
            config.CourseDirectory.root = str(work)
            config.GuardedExecute.seal_answer_key = True   # also without the sandbox
            if spec.get("timeout"):
                config.Execute.timeout = int(spec["timeout"])
        with Budget(spec.get("budget")) as budget, _span(spans, "autograde"):
            api, graded = _autograde(config, assignment, student, work / "running-cell", budget)
        if budget.fired:
            result["error"] = (f"stopped after the wall-clock budget of {spec['budget']} s for the whole "
                               "submission (an endless or very slow cell?)")
            return result
        if not graded["success"]:
            result["error"] = _friendly(f"{graded.get('log', '')}\n{graded.get('error', '')}")
            return result
        with _span(spans, "gradebook"):
            changed = _gradebook_changed(spec["template_db"], db_url, assignment)
        if changed:   # only without the sandbox can a kernel reach it: its scores cannot be believed
            result["error"] = ("the working copy of the gradebook was changed while the notebook ran "
                               f"({', '.join(changed)}): its scores cannot be trusted")
            return result
        with _span(spans, "feedback"):
            feedback = api.generate_feedback(assignment, student, force=True)
        if not feedback["success"]:
            result["notes"].append("feedback could not be generated: " + _friendly(str(feedback.get("error", ""))))
        with _span(spans, "gradebook"):
            result["scores"], result["unanswered"] = _scores(db_url, config.CourseDirectory.course_id,
                                                             assignment, student)
        with _span(spans, "outputs"):
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
        result["grader_fault"] = True
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
        result["peak_mb"] = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                                SERVER.peak_mb())
        result["seconds"] = time.perf_counter() - started
        result["stages"] = asdict(_stages(spans, result["seconds"]))


def _grade_cells(db_url, assignment):
    """{(notebook, cell): (points or None, checksum of its master source)} of an assignment."""
    with Gradebook(db_url) as gb:
        a = gb.find_assignment(assignment)
        cells = {}
        for nb in a.notebooks:
            points = {c.name: c.max_score for c in nb.grade_cells}
            for c in nb.source_cells:
                cells[(nb.name, c.name)] = (points.get(c.name), c.checksum)
        return cells


@functools.lru_cache(maxsize=16)
def _course_cells(template_db, stamp, assignment):
    """_grade_cells of the course's template gradebook, read once per version of the file
    (stamp: its size and modification time) and assignment for all the jobs of a worker."""
    return _grade_cells(f"sqlite:///{template_db}", assignment)


def _gradebook_changed(template_db, db_url, assignment):
    """Grade cells whose points, code or type differ from the course's: [names] (empty if none)."""
    status = os.stat(template_db)
    before = _course_cells(str(template_db), (status.st_size, status.st_mtime_ns), assignment)
    after = _grade_cells(db_url, assignment)
    return sorted(f"{nb}/{cell}" for (nb, cell), v in before.items() if after.get((nb, cell)) != v)


def quiet_worker(log_dir):
    """Pool initializer: send this worker's (and its kernels') stdout/stderr to a log file, and
    stop its kernel server (removing its folder) when the pool ends the worker."""
    from multiprocessing.util import Finalize
    Finalize(SERVER, SERVER.stop, exitpriority=10)
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    log = open(Path(log_dir) / f"worker-{os.getpid()}.log", "ab", buffering=0)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
