"""Grade every submission of one or more assignments with nbgrader.

    course grade [ASSIGNMENT ...] [--submitted DIR] [--out DIR] [--workers N]

For each student and assignment: check the notebooks (intake), autograde the good ones in a
working copy of their own (worker), then gather everything in the output folder:

    <out>/gradebook.db           nbgrader's gradebook for the whole class
    <out>/autograded/...         autograded notebooks (nbgrader layout)
    <out>/feedback/...           feedback HTML per student, without hidden test code
    <out>/grades.csv             one row per student and assignment, one column per exercise
    <out>/report.html            per-exercise means, most common failures, histogram of totals
    <out>/.grading/results/...   one JSON per submission: reused when nothing changed

Every submission ends with a status: graded, graded with problems (some notebook missing or
broken, a cell timed out...), or ungradable, with the reasons. One bad submission never stops
the others.
"""

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time
import warnings
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning
from tqdm.auto import tqdm

from nnlib.course import build as build_mod
from nnlib.course import export, intake, pool, sandbox, signing
from nnlib.course.config import assignments as list_assignments
from nnlib.course.config import load_config, notebooks
from nnlib.course.report import write_report
from nnlib.course.worker import grade_job, quiet_worker

GRADED, PROBLEMS, FLAGGED, UNGRADABLE = "graded", "graded with problems", "graded, flagged for review", "ungradable"


@dataclass
class Result:
    student: str
    assignment: str
    status: str
    reasons: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)     # "notebook/grade_id" -> [score, max, graded_by_hand]
    failures: dict = field(default_factory=dict)   # grade_id -> failure message
    fingerprint: str = ""
    unanswered: list = field(default_factory=list)  # written answers left blank (scored zero)
    seconds: float = 0.0                            # time the worker spent on it
    peak_mb: float = 0.0                            # largest memory of its worker or kernels so far
    stages: dict = field(default_factory=dict)      # where its seconds went (worker.Stages as a dict)
    isolated: bool = True                           # graded in the sandbox (False: --no-sandbox)
    grader_fault: bool = False                      # the grader failed, not the submission: not kept

    @property
    def auto_score(self):
        return sum(s for s, _, by_hand in self.scores.values() if not by_hand)

    @property
    def auto_max(self):
        return sum(m for _, m, by_hand in self.scores.values() if not by_hand)

    @property
    def score_so_far(self):
        """Every grade cell's score, written answers waiting for a person counting nothing yet
        (formgrader's and the feedback's total before anyone grades by hand)."""
        return sum(s for key, (s, _, by_hand) in self.scores.items() if not by_hand or key in self.unanswered)

    @property
    def manual_pending(self):
        """Written answers waiting for a person (unanswered ones are scored zero by nbgrader)."""
        return sum(1 for key, (s, _, manual) in self.scores.items() if manual and key not in self.unanswered)

    @property
    def points_pending(self):
        """Points of the written answers waiting for a person."""
        return sum(top for key, (_, top, manual) in self.scores.items() if manual and key not in self.unanswered)


def _course_hash(root):
    """Hash of what decides every grade besides the submission: config, masters, nnlib's code."""
    h = hashlib.sha256()
    paths = [Path(root) / "nbgrader_config.py", *sorted((Path(root) / "source").rglob("*.ipynb")),
             *sorted((Path(root) / "nnlib").rglob("*.py"))]
    for path in paths:
        h.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return h.hexdigest()


def _fingerprint(course_hash, job):
    """Hash of the submitted notebooks and the course: unchanged -> the stored result is reused."""
    h = hashlib.sha256(course_hash.encode())
    for path in sorted(job.folder.glob("*.ipynb")):
        h.update(path.name.encode() + path.read_bytes())
    h.update("\n".join(job.problems).encode())   # intake's reasons (nothing added when there are none)
    return h.hexdigest()


def _source_hash(root, assignment):
    h = hashlib.sha256()
    for path in sorted((Path(root) / "source" / assignment).glob("*.ipynb")):
        h.update(path.name.encode() + path.read_bytes())
    h.update((Path(root) / "nbgrader_config.py").read_bytes())
    return h.hexdigest()[:16]


def _template_db(root, assignment, log=print):
    """A gradebook holding `assignment` as source/ has it now, for workers to copy -> Path.

    Cached in <root>/build/gradebooks under the hash of the master notebooks and the config,
    signed (nnlib.course.signing): a cached file that does not match its signature is built again.
    """
    folder = Path(root) / "build" / "gradebooks"
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"{assignment}-{_source_hash(root, assignment)}.db"
    with _locked(folder / ".lock"):
        if db.exists():
            if _template_stamp(db):
                return db
            log(f"template gradebook {db} does not match its signature (changed since it was built "
                "or built before signing): building it again")
        _build_template(root, assignment, db)
    return db


def _build_template(root, assignment, db):
    """Generate `assignment` into a fresh gradebook at `db` (Path) and sign it."""
    partial = db.with_suffix(f".{os.getpid()}.tmp")
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        build_mod.generate_assignment(build_mod.nbgrader_api(root, partial, release_directory=tmp), assignment)
    # Opening a gradebook adds nbgrader's default course once; do it now, so that the readers to
    # come (_zero_scores, the worker's check) leave the file exactly as signed.
    with Gradebook(f"sqlite:///{partial}"):
        pass
    build = secrets.token_hex(16)
    signature = signing.sign(signing.folder_key(db.parent), f"{db.name}:{build}", partial.read_bytes())
    _write_atomically(_signature_path(db), json.dumps({"build": build, "signature": signature}))
    partial.replace(db)


def _signature_path(db):
    return db.with_suffix(".signature.json")


def _template_stamp(db):
    """The build id of template gradebook `db` (Path) if it matches its signature, else None."""
    try:
        sealed = json.loads(_signature_path(db).read_text())
        build, signature = str(sealed["build"]), sealed["signature"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    key = signing.folder_key(db.parent)
    return build if signing.verify(key, f"{db.name}:{build}", db.read_bytes(), signature) else None


@contextmanager
def _locked(path):
    """Hold an exclusive lock on `path` (Path): one process at a time checks and builds templates."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write_atomically(path, text):
    """Write `text` to `path` (Path) through a temporary file: readers see the old or the new, never half."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text)
    partial.replace(path)


def _central_gradebook(root, out, templates, db_url=None):
    """The class gradebook's SQLAlchemy URL (str), holding the current version of each assignment.

    db_url: where it lives (postgresql://..., any URL nbgrader takes); None: SQLite
    <out>/gradebook.db, made as a copy of a template when it does not exist yet. An assignment
    is generated into it (nbgrader) when its template changed since, or when it lacks it.
    """
    sqlite_file = None if db_url else out / "gradebook.db"
    url = db_url or f"sqlite:///{sqlite_file}"
    exists = db_url is not None or sqlite_file.exists()
    stamps = out / ".grading" / _stamps_name(db_url)
    known = json.loads(stamps.read_text()) if stamps.is_file() and exists else {}
    present = _assignments_in(url) if exists else set()
    for a, template in templates.items():
        if known.get(a) == template.name and a in present:
            continue
        if sqlite_file is not None and not sqlite_file.exists():
            shutil.copy(template, sqlite_file)
        else:
            api = build_mod.nbgrader_api(root, url, release_directory=str(out / ".grading" / "release"))
            build_mod.generate_assignment(api, a)
        known[a] = template.name
    stamps.parent.mkdir(parents=True, exist_ok=True)
    stamps.write_text(json.dumps(known, indent=1, sort_keys=True))
    return url


def _stamps_name(db_url):
    """File name (in <out>/.grading) recording which template each assignment of the class
    gradebook came from: one per database, so SQLite and a server never mix."""
    if db_url is None:
        return "gradebook-sources.json"
    return f"gradebook-sources-{hashlib.sha256(db_url.encode()).hexdigest()[:12]}.json"


def _assignments_in(url):
    """Names of the assignments in the gradebook at `url` (str): set."""
    with warnings.catch_warnings(), Gradebook(url) as gb:
        warnings.simplefilter("ignore", SAWarning)
        return {a.name for a in gb.assignments}


def shown_url(url):
    """`url` (str) fit to print: its password hidden."""
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def _zero_scores(db, assignment):
    """{"notebook/grade_id": [0, max, graded_by_hand]} for every grade cell, in notebook order."""
    with Gradebook(f"sqlite:///{db}") as gb:
        a = gb.find_assignment(assignment)
        scores = {}
        for nb in a.notebooks:
            by_hand = {c.name for c in nb.solution_cells}
            for cell in nb.grade_cells:
                scores[f"{nb.name}/{cell.name}"] = [0.0, float(cell.max_score), cell.name in by_hand]
        return scores


def _ungradable(job, reasons, fingerprint, zeros):
    """A result of zeros: nothing was graded, so no written answer waits for a person either."""
    return Result(job.student, job.assignment, UNGRADABLE, reasons, dict(zeros), fingerprint=fingerprint,
                  unanswered=[k for k, (_, _, by_hand) in zeros.items() if by_hand])


def _to_result(job, raw, fingerprint, zeros, isolated=True):
    result = _classify(job, raw, fingerprint, zeros)
    result.seconds, result.peak_mb = raw.get("seconds", 0.0), raw.get("peak_mb", 0.0)
    result.stages = dict(raw.get("stages", {}))
    result.isolated = isolated
    result.grader_fault = bool(raw.get("grader_fault"))
    return result


def _classify(job, raw, fingerprint, zeros):
    # Points come from the course's gradebook, never from the working copy a kernel could reach.
    worth = {key: most for key, (_, most, _) in zeros.items()}
    earned = {f"{nb}/{gid}": (s, by_hand) for nb, cells in raw.get("scores", {}).items()
              for gid, (s, _, by_hand) in cells.items()}
    scores = {key: [min(s, worth[key]), worth[key], by_hand] for key, (s, by_hand) in earned.items()
              if key in worth}
    reasons = list(job.problems) + list(raw.get("notes", []))
    if raw.get("error"):
        return _ungradable(job, reasons + [raw["error"]], fingerprint, zeros)
    if raw.get("tampering"):
        # Code that looks like tampering is for a person to look at; it changes no score: the judge
        # decided every test outside the kernel, where such code cannot reach.
        reasons = reasons + ["for review, code that looks like tampering: " + t for t in raw["tampering"]]
        return Result(job.student, job.assignment, FLAGGED, reasons, scores, raw.get("failures", {}),
                      fingerprint, raw.get("unanswered", []))
    status = PROBLEMS if reasons else GRADED
    return Result(job.student, job.assignment, status, reasons, scores, raw.get("failures", {}), fingerprint,
                  raw.get("unanswered", []))


def _result_label(assignment, student):
    """Where a stored result lives, relative to <out>/.grading: also what its signature is bound to."""
    return f"results/{assignment}/{student}.json"


def _store(out, result, key):
    """Keep `result` in <out>/.grading/results/, signed with `key` (bytes), for later runs to reuse."""
    label = _result_label(result.assignment, result.student)
    data = json.dumps(asdict(result), sort_keys=True)
    path = out / ".grading" / label
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, json.dumps({"result": json.loads(data), "signature": signing.sign(key, label, data.encode())},
                                       indent=1, sort_keys=True))


def _stored(out, job, fingerprint, key, log=print):
    """The stored result of `job` if it is signed with `key` and its fingerprint matches, else None.

    A result that does not match its signature was changed on disk: it is logged and not used.
    """
    label = _result_label(job.assignment, job.student)
    path = out / ".grading" / label
    if not path.is_file():
        return None
    try:
        sealed = json.loads(path.read_text())
        if "signature" not in sealed:
            log(f"stored result {path} is not signed (stored by an earlier version?): graded again")
            return None
        data = json.dumps(sealed["result"], sort_keys=True)
        if not signing.verify(key, label, data.encode(), sealed["signature"]):
            log(f"stored result {path} does not match its signature (changed on disk?): graded again")
            return None
        result = Result(**sealed["result"])
    except (ValueError, KeyError, TypeError) as exc:
        log(f"stored result {path} is unreadable ({type(exc).__name__}: {exc}): graded again")
        return None
    return result if result.fingerprint == fingerprint else None


def _recorded_path(out, db_url):
    """File (in <out>/.grading) holding the fingerprint of each submission last written into the
    class gradebook at `db_url` (None: SQLite <out>/gradebook.db): what a person graded is of that."""
    return out / ".grading" / _stamps_name(db_url).replace("gradebook-sources", "gradebook-recorded")


def _add_student(gb, student):
    """The gradebook's student `student`, added if new; named by id until a person names them."""
    from nbgrader.api import MissingEntry
    try:
        found = gb.find_student(student)
    except MissingEntry:
        return gb.add_student(student, last_name=student, first_name="")
    if found.last_name is None and found.first_name is None:   # added by nbgrader without a name
        found.last_name, found.first_name = student, ""
    return found


def _record(central_url, course_id, results, recorded):
    """Write the results into the class gradebook at `central_url` (str), in one session (zeros for
    what could not be graded).

    What a person did there stays: manual scores and comments are never written. recorded:
    {"assignment/student": fingerprint} of what the gradebook holds (updated here): a submission
    whose fingerprint is unchanged keeps each grade's needs-manual-grade state; a changed one
    (new work) that a person had graded is flagged for them to look again, their score kept.
    """
    with warnings.catch_warnings(), Gradebook(central_url, course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session handling; harmless
        for result in results:
            _add_student(gb, result.student)
            submission = gb.update_or_create_submission(result.assignment, result.student)
            changed = recorded.get(f"{result.assignment}/{result.student}") != result.fingerprint
            for nb in submission.notebooks:
                for grade in nb.grades:
                    key = f"{nb.name}/{grade.name}"
                    score, _, by_hand = result.scores.get(key, [0.0, 0.0, False])
                    pending = by_hand and key not in result.unanswered and result.status != UNGRADABLE
                    grade.auto_score = None if pending else score
                    if grade.manual_score is None:
                        grade.needs_manual_grade = pending
                    elif changed:
                        grade.needs_manual_grade = True
            recorded[f"{result.assignment}/{result.student}"] = result.fingerprint
        gb.db.commit()


def job_limits(out, workers, timeout, budget, memory_mb, fork_server=True, sandboxed=True, disk_mb=512):
    """The limits part of a worker's job spec (see worker.grade_job); writes the grading kernel spec.

    sandboxed: kernels run in bubblewrap (nnlib.course.sandbox) with these limits; False: without.
    """
    from nnlib.course.forkserver import kernelspec
    limits = sandbox.Limits(memory_mb=memory_mb, disk_mb=disk_mb) if sandboxed else None
    return {"timeout": timeout, "budget": budget, "memory_mb": memory_mb, "fork_server": fork_server,
            "sandbox": limits, "threads": max(1, (os.cpu_count() or 1) // max(1, workers)),
            "kernelspec_dir": str(kernelspec(out / ".grading" / "kernelspec", memory_mb))}


def job_spec(root, out, job, template, limits):
    """What worker.grade_job needs to grade `job`: plain data, so it can cross to a spawned process."""
    return {"course_root": str(root), "template_db": str(template), "out_dir": str(out),
            "student": job.student, "assignment": job.assignment, "folder": str(job.folder),
            "notebooks": job.notebooks, **limits}


WITHOUT_ISOLATION = "graded WITHOUT isolation (--no-sandbox): student code could reach the grader"


def require_sandbox(sandboxed):
    """Refuse (SystemExit with what is missing and how to get it) if sandboxed grading cannot run."""
    missing = sandbox.unavailable() if sandboxed else None
    if missing:
        raise SystemExit(f"course grade: cannot grade safely: {missing}")


def grade(root, assignments=None, submitted=None, out=None, workers=1, timeout=None,
          force=False, progress=True, log=print, budget=900, memory_mb=3072, fork_server=True,
          sandboxed=True, disk_mb=512, collected=None, cluster=None, db_url=None, students=None):
    """Grade all submissions; returns [Result] sorted by assignment and student.

    workers: processes grading in parallel; timeout: seconds per cell (None: nbgrader_config.py);
    budget: seconds for one whole submission; memory_mb: address-space cap of each kernel;
    fork_server: fork kernels from a process that has done their imports (nnlib.course.forkserver);
    sandboxed: run kernels in bubblewrap (nnlib.course.sandbox; refuses where it cannot run);
    False grades without isolation and says so in the log, grades.csv and the report;
    disk_mb: size of a sandbox's /tmp, the only place a kernel may write;
    collected: intake.Collected of the LMS downloads sorted into `submitted`, whose refusals become
    reasons (a student with nothing collected is ungradable) and whose uncollected files are listed
    in the report;
    cluster: address of a Dask scheduler (tcp://host:8786) whose workers grade instead of a
    local pool (`workers` is then unused; see nnlib.course.cluster);
    db_url: SQLAlchemy URL of the class gradebook (postgresql://...); None: <out>/gradebook.db;
    students: grade only these student ids (None: everyone under `submitted`).

    Each submission is kept as submitted in <out>/submitted/<student>/<assignment>/ (nbgrader's
    layout, what formgrader lists), grades.csv and report.html cover every assignment in the
    class gradebook, and <out>/nbgrader_config.py lets nbgrader and formgrader run in `out`.
    """
    require_sandbox(sandboxed)
    if not sandboxed:
        log(f"WARNING: {WITHOUT_ISOLATION}")
    root = Path(root).resolve()
    out = Path(out or root).resolve()
    submitted = Path(submitted or root / "submitted").resolve()
    assignments = assignments or list_assignments(root)
    unknown = sorted(set(assignments) - set(list_assignments(root)))
    if unknown:
        raise SystemExit(f"unknown assignment(s) {unknown}; source/ has {list_assignments(root)}")
    jobs = intake.find_jobs(submitted, {a: notebooks(root, a) for a in assignments})
    if collected:
        jobs = collected.add_to(jobs, submitted)
    if students is not None:
        jobs = [j for j in jobs if j.student in set(students)]
    if not jobs:
        log(f"no submissions of {assignments} under {submitted}")
    course_id = load_config(root).CourseDirectory.course_id
    out.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        _keep_submission(job, out)
    write_out_config(root, out, db_url)
    templates = {a: _template_db(root, a, log) for a in sorted({j.assignment for j in jobs})}
    central = _central_gradebook(root, out, templates, db_url)

    zeros = {a: _zero_scores(db, a) for a, db in templates.items()}
    results, pending = [], []
    key = signing.folder_key(out / ".grading")
    # A template built again (changed on disk, or deleted) gets a new stamp: its results are regraded.
    # Results graded without the sandbox are never reused by a sandboxed run, nor the other way.
    isolation = "" if sandboxed else "-unsandboxed"
    course_hash = {a: _course_hash(root) + isolation + (_template_stamp(db) or "") for a, db in templates.items()}
    for job in jobs:
        fingerprint = _fingerprint(course_hash[job.assignment], job)
        reuse = None if force else _stored(out, job, fingerprint, key, log)
        if reuse:
            results.append(reuse)
        elif not job.notebooks:
            results.append(_ungradable(job, job.problems, fingerprint, zeros[job.assignment]))
            _store(out, results[-1], key)
        else:
            pending.append((job, fingerprint))
    if pending:
        where = f"on the Dask cluster at {cluster}" if cluster else f"with {workers} worker(s)"
        log(f"grading {len(pending)} submission(s) {where}; {len(results)} reused or ungradable")
        limits = job_limits(out, workers, timeout, budget, memory_mb, fork_server, sandboxed, disk_mb)
        if cluster:
            graded = _grade_on_cluster(root, out, pending, templates, zeros, limits, cluster, progress, log)
        else:
            graded = _grade_pending(root, out, pending, templates, zeros, limits, workers, progress, log)
        # closing: an interrupt here stops the workers and removes the run folder at once
        with closing(graded):
            for result in graded:
                if not result.grader_fault:   # a grader fault is not the student's: grade again next run
                    _store(out, result, key)
                results.append(result)
        faults = sum(r.grader_fault for r in results)
        if faults:
            log(f"WARNING: the grader itself failed on {faults} submission(s) (see their reasons and "
                f"{out / '.grading' / 'logs'}); they were not stored and are graded again next run")
    results.sort(key=lambda r: (r.assignment, r.student))
    recorded_path = _recorded_path(out, db_url)
    recorded = json.loads(recorded_path.read_text()) if recorded_path.is_file() else {}
    _record(central, course_id, results, recorded)
    _write_atomically(recorded_path, json.dumps(recorded, indent=1, sort_keys=True))
    write_outputs(out, central, course_id, results, collected.not_collected if collected else ())
    return results


def write_outputs(out, url, course_id, results=(), not_collected=()):
    """grades.csv and report.html of every submission in the class gradebook at `url` (str):
    scores from the gradebook (manual grades included), statuses and reasons from `results`
    ([Result] of this run) or else from the results stored in `out` (Path)."""
    export.write(out / "grades.csv", url, course_id, out, results)
    known = export.stored_results(out)
    known.update({(r.assignment, r.student): r for r in results})
    _, rows = export.read_gradebook(url, course_id)
    everyone = [known[(row.assignment, row.student)] for row in rows
                if isinstance(known.get((row.assignment, row.student)), Result)]
    write_report(out / "report.html", everyone, not_collected, rows)


def _keep_submission(job, out):
    """Copy `job`'s folder, as submitted, to <out>/submitted/<student>/<assignment>/ (nbgrader's
    layout), replacing what was there; links are left out. Nothing to do if it is already there."""
    target = out / "submitted" / job.student / job.assignment
    if target.resolve() == Path(job.folder).resolve():
        return
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    if not Path(job.folder).is_dir():
        target.mkdir(parents=True)
        return
    shutil.copytree(job.folder, target, symlinks=True,
                    ignore=lambda folder, names: [n for n in names if (Path(folder) / n).is_symlink()])


OUT_CONFIG = """\
# Written by `course grade`: nbgrader and formgrader started in this folder grade the course at
# {root!r} with this folder as their course directory (submitted/, autograded/, feedback/ and
# the class gradebook). Written again by each run; edit the course's own nbgrader_config.py.
import os

c = get_config()  # noqa: F821
load_subconfig({config!r})  # noqa: F821
here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = here
c.CourseDirectory.source_directory = {source!r}
c.CourseDirectory.release_directory = {release!r}
c.CourseDirectory.solution_directory = {solutions!r}
c.CourseDirectory.db_url = {db_url}
# formgrader's Release buttons copy into this folder's exchange instead of /srv/nbgrader/exchange.
c.Exchange.root = os.path.join(here, "exchange")
"""


def write_out_config(root, out, db_url=None):
    """Write <out>/nbgrader_config.py (see OUT_CONFIG) unless `out` is the course root itself.

    A gradebook URL with a password is not written: the file reads it from $COURSE_DB_URL.
    """
    if out.resolve() == Path(root).resolve():
        return
    shown = '"sqlite:///" + os.path.join(here, "gradebook.db")'
    if db_url:
        from sqlalchemy.engine import make_url
        if make_url(db_url).password:
            db_url = None
            shown = '(os.environ.get("COURSE_DB_URL") or "the class gradebook\'s URL: set COURSE_DB_URL")'
    text = OUT_CONFIG.format(root=str(root), config=str(Path(root) / "nbgrader_config.py"),
                             source=str(Path(root) / "source"), release=str(Path(root) / "release"),
                             solutions=str(Path(root) / "solutions"),
                             db_url=repr(db_url) if db_url else shown)
    (out / "exchange").mkdir(exist_ok=True)
    _write_atomically(out / "nbgrader_config.py", text)


def _grade_pending(root, out, pending, templates, zeros, limits, workers, progress, log):
    """Grade [(job, fingerprint)] in a pool of worker processes; yields each Result as it is done.

    A worker that dies is replaced and its submission graded again alone; one whose worker dies
    twice is ungradable (nnlib.course.pool). Working copies live in one run folder, removed at
    the end even if grading is interrupted.
    """
    with _run_folder(log) as run_dir:
        limits = {**limits, "run_dir": str(run_dir)}
        tasks = {f"{job.assignment}/{job.student}": (job, fp) for job, fp in pending}
        specs = {name: job_spec(root, out, job, templates[job.assignment], limits) for name, (job, _) in tasks.items()}
        # Workers are spawned, not forked: forking a process whose threads are running (tqdm's
        # monitor, zmq's I/O threads) is unsafe.
        initargs = (str(out / ".grading" / "logs"), str(run_dir))
        with pool.Pool(grade_job, workers, _start_worker, initargs, log) as graders, \
                tqdm(total=len(tasks), desc="grading", unit="submission", disable=not progress) as bar:
            for done in graders.run(specs):
                job, fp = tasks[done.key]
                raw = {"error": done.error} if done.error else done.value
                bar.update(1)
                yield _to_result(job, raw, fp, zeros[job.assignment], isolated=limits["sandbox"] is not None)


def _grade_on_cluster(root, out, pending, templates, zeros, limits, address, progress, log):
    """Grade [(job, fingerprint)] on the Dask cluster at `address` (str); yields each Result as it is done.

    The same job specs as the local pool's, each with the submission and template gradebook it
    needs (nnlib.course.cluster); autograded notebooks and feedback come back and are written
    into `out` here. Dask runs the job of a worker that dies on another; one whose workers keep
    dying is ungradable.
    """
    try:
        from nnlib.course import cluster
    except ImportError as exc:
        raise SystemExit(f"--cluster needs Dask: pip install 'nnlib[cluster]' ({exc})") from exc
    # One BLAS/torch thread per kernel: a worker machine runs one worker process per core.
    limits = {**limits, "threads": 1}
    tasks = {f"{job.assignment}/{job.student}": (job, fp) for job, fp in pending}
    with cluster.Cluster(address, out, log) as engine, \
            tqdm(total=len(tasks), desc="grading", unit="submission", disable=not progress) as bar:
        jobs = {name: engine.job(name, job_spec(root, out, job, templates[job.assignment], limits), job.folder,
                                 templates[job.assignment]) for name, (job, _) in tasks.items()}
        for done in engine.run(jobs):
            job, fp = tasks[done.key]
            raw = {"error": done.error} if done.error else done.value
            bar.update(1)
            yield _to_result(job, raw, fp, zeros[job.assignment], isolated=limits["sandbox"] is not None)


def _start_worker(log_dir, run_dir):
    """Pool initializer: log to a file; the worker's and its children's temporary files go in `run_dir`.

    (So the fork server's socket folder and anything a kernel writes to the temporary folder go
    away with the run folder, even when the worker is killed.)
    """
    os.environ["TMPDIR"] = run_dir
    tempfile.tempdir = run_dir
    quiet_worker(log_dir)


@contextmanager
def _run_folder(log):
    """A temporary folder for one run (Path), removed when the run ends, however it ends."""
    path = Path(tempfile.mkdtemp(prefix="course-run-"))
    try:
        yield path
    finally:
        _remove(path, log)


def _remove(path, log, tries=5):
    """Remove folder `path` (Path); a process that was killed may still be exiting, so try again."""
    for attempt in range(tries):
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if attempt == tries - 1:
                log(f"could not remove the run's temporary folder {path}: {exc}")
                return
            time.sleep(0.5)


def shorten(text, most=300):
    """`text`'s first line, cut at a word (with an ellipsis) when longer than `most` characters."""
    line = text.split("\n")[0]
    if len(line) <= most:
        return line
    cut = line[:most].rsplit(" ", 1)[0] if " " in line[:most] else line[:most]
    return cut.rstrip(" ,;:") + " \u2026"


def table(results):
    """A plain-text score table: one line per submission, then reasons and failures.

    The total counts every grade cell as formgrader and the feedback do (written answers
    included): an answer that waits for a person shows as ?, and the count of them follows.
    """
    lines = []
    for r in results:
        exercises = "  ".join(f"{k.split('/')[-1]}={'?' if m and k not in r.unanswered else f'{s:g}'}/{t:g}"
                              for k, (s, t, m) in r.scores.items())
        total = sum(t for _, t, _ in r.scores.values())
        waiting = f" +{r.points_pending:g}?" if r.manual_pending else ""
        lines.append(f"{r.student:<16} {r.assignment:<22} {r.status:<21} "
                     f"{r.score_so_far:>5g}/{total:<5g}{waiting:<4} {exercises}")
        for reason in r.reasons:
            lines.append(f"{'':<16} reason: {reason}")
        for gid, message in r.failures.items():
            lines.append(f"{'':<16} {gid}: {shorten(message, 160)}")
    return "\n".join(lines)
