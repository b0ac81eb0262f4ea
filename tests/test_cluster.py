"""Grading on a Dask cluster (`course grade --cluster`), and a class gradebook in PostgreSQL (`--db`).

A small class of assignment 1 is graded once by the local pool; a real Dask LocalCluster of two
worker processes (one thread each, as `dask worker --nthreads 1` runs them) grades the same
class, whole, with one of its workers SIGKILLed in the middle, and with a submission whose
workers are killed every time. The cluster's scheduler gives a job up after its second lost
worker (allowed-failures 1), as the local pool does. A PostgreSQL server started here from
Debian's `postgresql` package holds the class gradebook, read back as formgrader reads it.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from conftest import children_of, slow_a1_answers
from nnlib.course import grade, submissions

distributed = pytest.importorskip("distributed", reason="the cluster extra (dask[distributed]) is not installed")

ROOT = Path(__file__).resolve().parents[1]
A, NAME = "a1_hyperparameters", "hyperparameters.ipynb"
WRONG_MSE = "mse = ((y_true - y_prediction) ** 2).sum()"
# dee's notebook runs 3 s longer than the others: the worker grading it is the one caught and killed.
CLASS = {"ada": {}, "ben": {"loss": WRONG_MSE}, "cy": None, "dee": slow_a1_answers(), "eve": {"loss": WRONG_MSE},
         "fay": None}
WORKER_RESTART_SECONDS = 240   # a killed worker's nanny starts a new one (torch imported again) on a busy machine
QUIET = dict(timeout=30, progress=False, log=lambda *_: None)


def _make_class(submitted, students):
    """Write {student: answers (None: the blank release)} under `submitted` (Path)."""
    release = submissions.read(ROOT / "release" / A / NAME)
    source = submissions.read(ROOT / "source" / A / NAME)
    for student, answers in students.items():
        path = submitted / student / A / NAME
        path.parent.mkdir(parents=True)
        nbformat.write(release if answers is None else submissions.solved(release, source, answers), str(path))


def _text(output):
    """What an output says in words: stream text, error name and value, a result's text/plain."""
    if output.output_type == "error":
        return f"{output.ename}: {output.evalue}"
    return output.get("text", "") or output.get("data", {}).get("text/plain", "")


def _files(out):
    """{path relative to out: what it holds} of the autograded and feedback files: for notebooks
    each cell's source and the words of its outputs (how a stream is cut into outputs, widget ids
    and figures differ from one run to the next on one machine too), for feedback that it is HTML."""
    def seen(path):
        if path.suffix != ".ipynb":
            return path.read_bytes().startswith(b"<!DOCTYPE html>")
        nb = nbformat.read(str(path), as_version=4)
        return [(c.source, "".join(_text(o) for o in c.get("outputs", []))) for c in nb.cells]
    return {str(p.relative_to(out)): seen(p) for step in ("autograded", "feedback")
            for p in sorted((out / step).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class") / "submitted"
    _make_class(folder, CLASS)
    return folder


@pytest.fixture(scope="module")
def pool_graded(submitted, tmp_path_factory):
    """The class graded by the local pool: (out folder, grades.csv bytes, [Result])."""
    out = tmp_path_factory.mktemp("pool")
    results = grade.grade(ROOT, [A], submitted, out, workers=2, **QUIET)
    return out, (out / "grades.csv").read_bytes(), results


@pytest.fixture(scope="module")
def dask_cluster():
    """A LocalCluster of 2 worker processes with one thread each, giving a job up after its second
    lost worker, whose temporary folder (TMPDIR) is one of this module's -> (scheduler address, Client)."""
    import dask
    saved = os.environ.get("TMPDIR")
    folder = tempfile.mkdtemp(prefix="dask-", dir="/tmp")   # short: the kernel servers' sockets are under it
    os.environ["TMPDIR"] = folder
    try:
        yield from _local_cluster(dask)
    finally:
        os.environ.pop("TMPDIR")
        if saved is not None:
            os.environ["TMPDIR"] = saved
        shutil.rmtree(folder)


def _local_cluster(dask):
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield cluster.scheduler_address, client


# ---------------------------------------------------------------- killing Dask workers from outside

def _grading(pid):
    """The student whose kernel the Dask worker process `pid` runs, or None."""
    for child in children_of(pid):
        try:
            cwd = os.readlink(f"/proc/{child}/cwd")
        except OSError:
            continue
        if "/course-grade-" in cwd and cwd.endswith(f"/{A}"):
            return cwd.split("/")[-2]
    return None


class Killer(threading.Thread):
    """SIGKILLs Dask worker processes while they grade: `times` kills of any student's worker
    (student None), or every time the named student is seen; each after `after` s of grading."""

    def __init__(self, client, student=None, times=1, after=1.5):
        super().__init__(daemon=True)
        self.client, self.student, self.times, self.after = client, student, times, after
        self.kills, self.done = [], threading.Event()

    def run(self):
        seen = {}
        while not self.done.is_set() and len(self.kills) < self.times:
            for pid in self.client.run(os.getpid).values():
                student = _grading(pid)
                if student is None or (self.student and student != self.student):
                    seen.pop(pid, None)
                elif time.monotonic() - seen.setdefault(pid, time.monotonic()) >= self.after:
                    os.kill(pid, signal.SIGKILL)
                    self.kills.append(student)
                    seen.pop(pid)
                    break
            time.sleep(0.1)


# ---------------------------------------------------------------- the cluster

def _no_run_folder_left(client):
    """Did the workers remove their run folders from their temporary folder?"""
    return not any(client.run(lambda: [p.name for p in Path(tempfile.gettempdir()).glob("course-cluster-*")]).values())


def test_a_dask_cluster_grades_the_class_as_the_local_pool_does(submitted, pool_graded, dask_cluster, tmp_path):
    """Does a LocalCluster of two worker processes give a byte-identical grades.csv to the local
    pool's, and the same autograded notebooks and feedback, written by the grading machine?"""
    pool_out, pool_csv, _ = pool_graded
    address, client = dask_cluster
    said = []
    results = grade.grade(ROOT, [A], submitted, tmp_path, cluster=address, timeout=30, progress=False,
                          log=said.append)
    assert sorted(r.student for r in results) == sorted(CLASS)
    assert (tmp_path / "grades.csv").read_bytes() == pool_csv, said
    assert _files(tmp_path) == _files(pool_out)
    assert _no_run_folder_left(client)


def test_a_dask_worker_killed_midway_costs_only_a_retry(submitted, pool_graded, dask_cluster, tmp_path):
    """When a Dask worker process is SIGKILLed while it grades, is its job graded again elsewhere,
    every student graded, grades.csv the pool's, and the worker replaced for the next run?"""
    _, pool_csv, _ = pool_graded
    address, client = dask_cluster
    killer = Killer(client, student="dee", times=1)
    killer.start()
    said = []
    try:
        grade.grade(ROOT, [A], submitted, tmp_path, cluster=address, timeout=30, progress=False, log=said.append)
    finally:
        killer.done.set()
        killer.join()
    assert len(killer.kills) == 1, "no worker was killed while grading"
    assert (tmp_path / "grades.csv").read_bytes() == pool_csv, (killer.kills, said)
    client.wait_for_workers(2, timeout=WORKER_RESTART_SECONDS)
    assert _no_run_folder_left(client)


def test_a_submission_whose_workers_keep_dying_is_ungradable(dask_cluster, tmp_path):
    """Is a submission whose Dask worker dies every time given up after the second death, ungradable
    with that reason, while its classmate is graded normally?"""
    address, client = dask_cluster
    _make_class(tmp_path / "submitted", {"doomed": slow_a1_answers(), "calm": {}})
    killer = Killer(client, student="doomed", times=2, after=1.0)
    killer.start()
    said = []
    try:
        results = grade.grade(ROOT, [A], tmp_path / "submitted", tmp_path / "out", cluster=address, timeout=30,
                              progress=False, log=said.append)
    finally:
        killer.done.set()
        killer.join()
    by_student = {r.student: r for r in results}
    assert killer.kills == ["doomed", "doomed"], said
    assert by_student["doomed"].status == grade.UNGRADABLE
    assert any("died 2 times" in reason for reason in by_student["doomed"].reasons), by_student["doomed"].reasons
    assert by_student["calm"].status == grade.GRADED and by_student["calm"].auto_score == 10
    client.wait_for_workers(2, timeout=WORKER_RESTART_SECONDS)


def test_an_unreachable_scheduler_is_named_in_the_error(submitted, tmp_path, monkeypatch):
    """Does grading on a scheduler nobody listens at stop with a message naming its address?"""
    from nnlib.course import cluster
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    with pytest.raises(SystemExit, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        grade.grade(ROOT, [A], submitted, tmp_path, cluster="tcp://127.0.0.1:9", force=True, **QUIET)


# ---------------------------------------------------------------- PostgreSQL

def _postgres_bin():
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of our own, on a unix socket in a temporary folder -> the SQLAlchemy URL
    of an empty database. Skipped where PostgreSQL is missing, except in CI (CI=true), where it fails."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed (make install installs Debian's postgresql as root)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    pytest.importorskip("psycopg2", reason="the PostgreSQL driver (psycopg2-binary, test extra) is missing")
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"

    def run(*argv):
        subprocess.run(as_owner + [str(a) for a in argv], check=True, capture_output=True, timeout=120)
    try:
        run(bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
        run(bin_dir / "pg_ctl", "-D", data, "-l", folder / "server.log", "-w", "-t", "60", "start",
            "-o", f"-k {folder} -c listen_addresses='' -c fsync=off")
        run(bin_dir / "createdb", "-h", folder, "-U", "postgres", "gradebook")
    except subprocess.CalledProcessError as exc:
        log = (folder / "server.log").read_text() if (folder / "server.log").is_file() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc}\n{exc.stderr.decode()}\n{log}")
    try:
        yield f"postgresql+psycopg2://postgres@/gradebook?host={folder}"
    finally:
        run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder)


def _formgrader_view(url):
    """What formgrader shows of the class, read through nbgrader's Gradebook API: students,
    submissions with their scores, each notebook's submissions, the assignment's mean."""
    from nbgrader.api import Gradebook

    def plain(rows, drop=("id", "timestamp")):   # ids of submissions are random
        return sorted(({k: v for k, v in row.items() if k not in drop} for row in rows),
                      key=lambda row: str(sorted(row.items())))
    with Gradebook(url) as gb:
        return {"students": plain(gb.student_dicts(), drop=()),
                "submissions": plain(gb.submission_dicts(A)),
                "notebook": plain(gb.notebook_submission_dicts(NAME[:-len(".ipynb")], A)),
                "mean": gb.average_assignment_score(A),
                "scores": {(s.student.id, nb.name, g.name): (g.auto_score, g.needs_manual_grade)
                           for s in gb.assignment_submissions(A) for nb in s.notebooks for g in nb.grades}}


def test_the_class_gradebook_can_live_in_postgresql(submitted, pool_graded, postgres_url):
    """With --db postgresql://..., does the server hold the class's gradebook, and do formgrader's
    queries on it give what they give on the SQLite gradebook of the same class?"""
    pool_out, pool_csv, pool_results = pool_graded
    results = grade.grade(ROOT, [A], submitted, pool_out, workers=2, db_url=postgres_url, **QUIET)
    assert [(r.student, r.scores) for r in results] == [(r.student, r.scores) for r in pool_results]
    assert (pool_out / "grades.csv").read_bytes() == pool_csv
    on_server = _formgrader_view(postgres_url)
    assert sorted(s["id"] for s in on_server["students"]) == sorted(CLASS)
    assert on_server["mean"] > 0
    assert on_server == _formgrader_view(f"sqlite:///{pool_out / 'gradebook.db'}")
    # a second grader's run finds the assignment there and records the same again
    grade.grade(ROOT, [A], submitted, pool_out, workers=2, db_url=postgres_url, **QUIET)
    assert _formgrader_view(postgres_url) == on_server
