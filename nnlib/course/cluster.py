"""Grading on a Dask distributed cluster: the local pool's jobs, run on other machines.

    course grade --cluster tcp://SCHEDULER:8786

The grading machine (where `course grade` runs) sends each submission as a `ClusterJob`: the
job spec of grade.job_spec, plus the bytes of what a worker must not look for on its own disk
(the submitted notebooks, the assignment's template gradebook). A Dask worker process grades it
with worker.grade_job in a folder of its own, in the same sandbox with the same limits, and
sends back a `Graded`: grade_job's plain result and the bytes of the autograded notebooks and
feedback files, which the grading machine writes into --out. Neither --submitted nor --out has
to be shared. What every worker must have is the course itself: its root at the same path, the
same nnlib code and the same grading packages. Each job checks that before grading
(`WorkerUnfit` otherwise, which stops the run: it is the cluster's fault, not the student's).

A worker process grades one job at a time and keeps its kernel fork server warm between jobs,
as a pool worker does: `GradingPlugin` prepares it (TMPDIR in a run folder, output to a log
file) and undoes that when the run ends. Dask runs the jobs of a worker that dies again on
another; a job whose workers die more often than the scheduler's `allowed-failures` ends with
KilledWorker, reported like a job that killed two pool workers.
"""

import hashlib
import importlib.metadata
import os
import platform
import shutil
import socket
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from distributed import KilledWorker, WorkerPlugin, as_completed

from nnlib.course import forkserver, sandbox
from nnlib.course import worker as grader
from nnlib.course.pool import Done

# What decides a grade besides the course's own files: a worker must have the same versions.
PACKAGES = ("nbgrader", "nbconvert", "nbclient", "nbformat", "ipykernel", "jupyter_client",
            "numpy", "torch", "scikit-learn", "matplotlib")
STEPS = ("autograded", "feedback")   # the folders of --out that grade_job writes for a submission
PLUGIN = "nnlib-course-grading"
CONNECT_SECONDS = 10
WORKERS_SECONDS = 60


class WorkerUnfit(RuntimeError):
    """A Dask worker cannot grade as the grading machine would (other course, packages, no sandbox)."""


@dataclass(frozen=True)
class File:
    """A file's path (str, relative to the folder it belongs in) and its bytes."""
    path: str
    data: bytes


@dataclass(frozen=True)
class Environment:
    """What decides a grade on a machine besides the submission (all str hashes and versions)."""
    course: str                 # course root: config, master and release notebooks, nnlib there
    nnlib: str                  # the nnlib package this Python imports (what kernels import too)
    python: str
    packages: tuple = ()        # ((name, version), ...) of PACKAGES

    def differences(self, other):
        """What differs from `other` (Environment), in words: [str] (empty if nothing)."""
        found = [f"{what} code differs from the grading machine's" for what in ("course", "nnlib") if getattr(self, what) != getattr(other, what)]
        if self.python != other.python:
            found.append(f"Python {other.python} on the worker, {self.python} on the grading machine")
        theirs = dict(other.packages)
        found += [f"{name} {theirs.get(name)} on the worker, {version} on the grading machine"
                  for name, version in self.packages if theirs.get(name) != version]
        return found


@dataclass(frozen=True)
class ClusterJob:
    """One submission to grade on a Dask worker."""
    key: str                    # "assignment/student"
    run: str                    # id of this run (names the workers' run folders)
    spec: dict                  # grade.job_spec's; its paths are the grading machine's
    submission: tuple           # (File, ...): the submission folder's notebooks and timestamp.txt
    template: File              # the assignment's template gradebook
    environment: Environment    # the grading machine's, which the worker must match


@dataclass(frozen=True)
class Graded:
    """What a Dask worker sends back for a ClusterJob."""
    raw: dict                   # worker.grade_job's result (plain data)
    files: tuple = ()           # (File, ...) relative to --out: autograded/..., feedback/...
    worker: str = ""            # host and process that graded it


# ---------------------------------------------------------------- both sides

def _tree_hash(root, patterns):
    """sha256 (str) of the files matching `patterns` (glob strings) under `root` (Path), names included."""
    h = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def environment(root):
    """The Environment of this machine for the course at `root` (Path or str)."""
    import nnlib
    root = Path(root)
    if not (root / "nbgrader_config.py").is_file():
        raise WorkerUnfit(f"no course at {root} (no nbgrader_config.py there)")
    course = _tree_hash(root, ["nbgrader_config.py", "source/**/*.ipynb", "release/**/*.ipynb", "nnlib/**/*.py"])
    versions = []
    for name in PACKAGES:
        try:
            versions.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            versions.append((name, "missing"))
    return Environment(course, _tree_hash(Path(nnlib.__file__).parent, ["**/*.py"]), platform.python_version(),
                       tuple(versions))


def run_folder_name(run):
    """Name (str) of the folder holding a run's worker folders in a machine's temporary folder."""
    return f"course-cluster-{run}"


# ---------------------------------------------------------------- worker side

@dataclass
class _Prepared:
    """How GradingPlugin left this worker process, to grade and later to undo."""
    run: str
    folder: Path                # this process's run folder (TMPDIR of it and its kernels)
    saved_tmpdir: str | None
    saved_fds: tuple            # duplicates of stdout and stderr before they went to the log
    log: object                 # the log file
    checked: dict = field(default_factory=dict)   # course root -> Environment, computed once a run


_PREPARED = None                       # this process's _Prepared while a run's plugin is set up
_ONE_AT_A_TIME = threading.Lock()      # one job per process: the fork server and environment are shared


class GradingPlugin(WorkerPlugin):
    """Dask WorkerPlugin: a worker process prepared as the local pool's initializer prepares its
    workers, for run `run` (str): TMPDIR in a folder of the run (removed at teardown), the
    process's stdout and stderr (its kernels', nbgrader's, Dask's own) in a log file under
    <temporary folder>/course-worker-logs, restored at teardown, when the kernel server stops."""

    def __init__(self, run):
        self.run = run

    def setup(self, worker=None):
        global _PREPARED
        base = Path(tempfile.gettempdir())
        folder = base / run_folder_name(self.run)
        folder.mkdir(exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="w-", dir=folder))   # short: socket paths live under it
        logs = base / "course-worker-logs"
        logs.mkdir(exist_ok=True)
        log = open(logs / f"worker-{socket.gethostname()}-{os.getpid()}.log", "ab", buffering=0)
        sys.stdout.flush()
        sys.stderr.flush()
        saved = (os.dup(1), os.dup(2))
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        _PREPARED = _Prepared(self.run, folder, os.environ.get("TMPDIR"), saved, log)
        os.environ["TMPDIR"] = str(folder)
        tempfile.tempdir = str(folder)

    def teardown(self, worker=None):
        global _PREPARED
        prepared, _PREPARED = _PREPARED, None
        if prepared is None:
            return
        # Not waiting for a job still running (a run interrupted): its kernel stops with the server.
        grader.SERVER.stop()
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, saved in zip((1, 2), prepared.saved_fds):
            os.dup2(saved, fd)
            os.close(saved)
        prepared.log.close()
        if prepared.saved_tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = prepared.saved_tmpdir
        tempfile.tempdir = None
        shutil.rmtree(prepared.folder, ignore_errors=True)   # what remains is removed by remove_run


def _check(job, prepared):
    """Raise WorkerUnfit if this worker cannot grade `job` (ClusterJob) as the grading machine would."""
    root = job.spec["course_root"]
    if root not in prepared.checked:
        prepared.checked[root] = environment(root)
    differences = job.environment.differences(prepared.checked[root])
    if differences:
        raise WorkerUnfit(f"course root {root}: " + "; ".join(differences))
    missing = sandbox.unavailable() if job.spec.get("sandbox") else None
    if missing:
        raise WorkerUnfit(f"cannot grade in the sandbox: {missing}")


def _start_server(spec):
    """Start (or keep) this process's kernel server as `spec` asks; WorkerUnfit if it cannot start,
    so that a fault of the worker never becomes a student's ungradable result."""
    try:
        grader._start_server(spec)
    except RuntimeError as exc:
        raise WorkerUnfit(str(exc)) from exc


def _write_files(folder, files):
    """Write each File under `folder` (Path)."""
    for f in files:
        target = folder / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.data)


def _template(prepared, template):
    """The template gradebook File written once in this worker's run folder -> Path."""
    path = prepared.folder / "templates" / template.path
    if not path.is_file():
        partial = path.with_name(f".{path.name}.tmp")
        _write_files(prepared.folder / "templates", [File(partial.name, template.data)])
        partial.replace(path)
    return path


def run_job(job):
    """Grade `job` (ClusterJob) on this Dask worker -> Graded. Raises WorkerUnfit (see _check)."""
    prepared = _PREPARED
    if prepared is None or prepared.run != job.run:
        raise WorkerUnfit("this Dask worker was not prepared for this grading run (its plugin is missing)")
    with _ONE_AT_A_TIME:
        _check(job, prepared)
        _start_server(job.spec)
        work = Path(tempfile.mkdtemp(prefix="job-", dir=prepared.folder))
        saved_path = os.environ.get("JUPYTER_PATH")
        try:
            _write_files(work / "submission", job.submission)
            memory_mb = int(job.spec["memory_mb"])
            specs = prepared.folder / f"kernelspec-{memory_mb}"
            if not specs.is_dir():
                forkserver.kernelspec(specs, memory_mb)
            spec = {**job.spec, "folder": str(work / "submission"), "template_db": str(_template(prepared, job.template)),
                    "out_dir": str(work / "out"), "kernelspec_dir": str(specs), "run_dir": str(prepared.folder)}
            raw = grader.grade_job(spec)
            files = tuple(File(str(p.relative_to(work / "out")), p.read_bytes())
                          for p in sorted((work / "out").rglob("*")) if p.is_file())
            return Graded(raw, files, f"{socket.gethostname()}:{os.getpid()}")
        finally:
            if saved_path is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = saved_path   # grade_job puts the kernel spec first each time
            shutil.rmtree(work, ignore_errors=True)


def remove_run(run):
    """Remove run `run`'s folder from this machine's temporary folder (workers that died left theirs);
    -> None, or what went wrong (str)."""
    folder = Path(tempfile.gettempdir()) / run_folder_name(run)
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:   # another worker of this machine removed it
        return None
    except OSError as exc:
        return f"could not remove {folder} on {socket.gethostname()}: {exc}"
    return None


# ---------------------------------------------------------------- grading machine side

def submission_files(folder, notebooks):
    """The Files of a submission folder (Path) that grade_job reads: its notebooks and timestamp.txt."""
    names = [*notebooks, "timestamp.txt"]
    return tuple(File(name, (folder / name).read_bytes()) for name in names if (folder / name).is_file())


def unpack(out, key, files):
    """Write a graded submission's Files into `out` (Path), replacing its autograded and feedback
    folders as grade_job replaces them; `key` is "assignment/student"."""
    assignment, student = key.split("/", 1)
    steps = {f.path.split("/", 1)[0] for f in files}
    for step in steps:
        if step not in STEPS:
            raise ValueError(f"{key}: the worker sent a file outside {STEPS}: {step}")
        shutil.rmtree(out / step / student / assignment, ignore_errors=True)
    for f in files:
        target = (out / f.path).resolve()
        if not any(target.is_relative_to((out / step / student / assignment).resolve()) for step in STEPS):
            raise ValueError(f"{key}: the worker sent a file for another place: {f.path}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.data)


def connect(address, seconds=None):
    """A dask.distributed Client of the scheduler at `address` (str), waiting `seconds` (default
    CONNECT_SECONDS) for it; SystemExit if unreachable."""
    from distributed import Client
    try:
        return Client(address, timeout=seconds or CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SystemExit(f"cannot reach the Dask scheduler at {address}: {type(exc).__name__}: {exc}") from exc


class Cluster:
    """One grading run on the Dask cluster at `address` (str), writing files into `out` (Path).

        with Cluster(address, out, log) as cluster:
            for done in cluster.run({key: ClusterJob}):   # pool.Done(key, value=raw, error=str)
    """

    def __init__(self, address, out, log=print):
        self.address, self.out, self.log = address, Path(out), log
        self.run_id = uuid.uuid4().hex[:8]
        self.client = None

    def __enter__(self):
        self.client = connect(self.address)
        try:
            self._prepare()
        except BaseException:
            self.client.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self._finish()
        finally:
            self.client.close()

    def _prepare(self):
        """Wait for a worker, refuse workers with several threads, set up the plugin on every worker."""
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError as exc:
            raise SystemExit(f"no Dask worker joined the scheduler at {self.address} "
                             f"within {WORKERS_SECONDS} s") from exc
        self._require_one_thread()
        self.client.register_plugin(GradingPlugin(self.run_id), name=f"{PLUGIN}-{self.run_id}")

    def _require_one_thread(self):
        threads = self.client.nthreads()
        several = {w: n for w, n in threads.items() if n != 1}
        if several:
            raise SystemExit(f"Dask workers {several} run several threads: grading needs one job per process; "
                             "start them with `dask worker ADDRESS --nthreads 1 --nworkers N`")
        return len(threads)

    def _finish(self):
        """Tear the plugin down on every worker and remove what workers that died left in the run folder."""
        try:
            self.client.unregister_worker_plugin(f"{PLUGIN}-{self.run_id}")
        except (OSError, ValueError) as exc:
            self.log(f"could not tear down the grading plugin on the Dask workers: {exc}")
        for where, problem in self.client.run(remove_run, self.run_id, on_error="return").items():
            if problem:
                self.log(f"Dask worker {where}: {problem}")

    def job(self, key, spec, folder, template):
        """A ClusterJob for job spec `spec` (grade.job_spec) of the submission in `folder` (Path),
        graded with template gradebook `template` (Path)."""
        if not hasattr(self, "_environment"):
            self._environment = environment(spec["course_root"])
        return ClusterJob(key, self.run_id, spec, submission_files(folder, spec["notebooks"]),
                          File(template.name, template.read_bytes()), self._environment)

    def run(self, jobs):
        """Grade {key: ClusterJob}; yields a pool.Done per key (value: grade_job's raw dict) as they end.

        At most as many jobs are handed to the scheduler as there are workers, so a worker holds
        the one job it runs and no other: when it dies, only that job is blamed.
        """
        waiting = list(jobs)
        running = {}
        finished = as_completed(loop=self.client.loop)
        try:
            self._submit(waiting, jobs, running, finished)
            for future in finished:
                key = running.pop(future)
                yield self._done(key, future)
                self._submit(waiting, jobs, running, finished)
        finally:
            if running:
                self.client.cancel(list(running))

    def _submit(self, waiting, jobs, running, finished):
        """Hand waiting jobs to the scheduler until as many run as there are workers."""
        room = max(1, len(self.client.nthreads())) - len(running)
        for _ in range(min(room, len(waiting))):
            key = waiting.pop(0)
            future = self.client.submit(run_job, jobs[key], key=f"course-grade-{self.run_id}-{key}", pure=False)
            running[future] = key
            finished.add(future)

    def _done(self, key, future):
        """The pool.Done of a finished future: files written into --out, or the reason it failed."""
        try:
            graded = future.result()
        except KilledWorker as exc:
            deaths = exc.allowed_failures + 1
            self.log(f"{key}: its Dask worker died {deaths} times; given up")
            return Done(key, error=f"its grading process died {deaths} times while grading it "
                                   f"(Dask workers lost, the last {exc.last_worker.address})")
        except WorkerUnfit as exc:
            raise SystemExit(f"a Dask worker of {self.address} cannot grade: {exc}") from exc
        except Exception as exc:      # a fault of this job only, as the pool reports one
            return Done(key, error=f"the grader failed on it: {type(exc).__name__}: {exc}")
        finally:
            future.release()
        unpack(self.out, key, graded.files)
        return Done(key, graded.raw)
