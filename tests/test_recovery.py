"""Grading survives its own failures: killed workers, files changed between runs, interrupts.

A small class of assignment 1 is graded with two workers while this test process SIGKILLs the
worker grading one student once, and the worker grading another student every time it sees it.
The kills come from here, not from the submission's own code: a kernel that kills its worker
(os.kill on its parent's parent) works only while kernels run unsandboxed; from the outside the
test does not depend on that, and a worker killed by anything (the OOM killer, a crash in C
code, an escaped kernel) looks the same to the grader. The worker grading a student is found as
the child of this process whose kernel launcher runs in that student's folder of the working copy.

Every test sets TMPDIR to a folder of its own, to check that nothing is left in it.
"""

import json
import os
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from conftest import children_of, slow_a1_answers
from nnlib.course import grade, pool, submissions

ROOT = Path(__file__).resolve().parents[1]
A, NAME = "a1_hyperparameters", "hyperparameters.ipynb"
TESTS = {"test_loss": 2, "test_forward": 1, "test_dloss_dw": 2, "test_train": 2, "test_registration": 3}
WRONG_MSE = "mse = ((y_true - y_prediction) ** 2).sum()"
# The killed students' notebooks run 3 s longer than the others: long enough to be caught while graded.
CLASS = {"honest": {}, "wrong": {"loss": WRONG_MSE}, "victim": slow_a1_answers(), "doomed": slow_a1_answers()}
EXPECTED = {"honest": TESTS, "wrong": {**TESTS, "test_loss": 0}, "victim": TESTS}


# ---------------------------------------------------------------- processes, from /proc

def _cwd(pid):
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:             # ended meanwhile, or not ours to see
        return ""


def _workers():
    """Grading worker processes started by this test process (spawned multiprocessing children)."""
    def spawned(pid):
        try:
            return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
    return [pid for pid in children_of(os.getpid()) if spawned(pid)]


def _grading(student):
    """The worker whose kernel runs in `student`'s working copy, or None."""
    for worker in _workers():
        if any(_cwd(child).endswith(f"/{student}/{A}") for child in children_of(worker)):
            return worker
    return None


class Killer(threading.Thread):
    """SIGKILLs the worker grading a student, `times` times, once it has been at it for `after` s."""

    def __init__(self, targets, after=1.0):
        super().__init__(daemon=True)
        self.targets, self.after = dict(targets), after     # student -> times to kill
        self.kills, self.done = [], threading.Event()

    def run(self):
        seen = {}
        while not self.done.is_set():
            for student, times in self.targets.items():
                worker = _grading(student) if self.kills.count(student) < times else None
                if worker is None:
                    seen.pop(student, None)
                elif time.monotonic() - seen.setdefault(student, (worker, time.monotonic()))[1] >= self.after:
                    os.kill(worker, signal.SIGKILL)
                    self.kills.append(student)
                    seen.pop(student)
            time.sleep(0.05)


def _double_or_die(arg):
    """Pool job for the tests: die as asked ("always", or "once" while `marker` does not exist)."""
    value, how, marker = arg
    if how == "always" or (how == "once" and not os.path.exists(marker)):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return 2 * value


def test_the_pool_blames_only_the_job_whose_worker_died(tmp_path):
    """Does the pool retry a job whose worker died once, give up one that dies twice, and lose no other?"""
    tasks = {f"job{i}": (i, "", "") for i in range(6)}
    tasks["once"] = (10, "once", str(tmp_path / "once"))
    tasks["always"] = (11, "always", str(tmp_path / "always"))
    said = []
    with pool.Pool(_double_or_die, 2, log=said.append) as workers:
        done = {d.key: d for d in workers.run(tasks)}
    assert {k: d.value for k, d in done.items() if not d.error} == {**{f"job{i}": 2 * i for i in range(6)}, "once": 20}
    assert "died 2 times" in done["always"].error and "SIGKILL" in done["always"].error, said


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def short_tmp(tmp_path_factory):
    """A folder of this module's own to use as TMPDIR."""
    return tmp_path_factory.mktemp("t")


@pytest.fixture()
def own_tmpdir(short_tmp, monkeypatch, request):
    """TMPDIR and tempfile's folder set to an empty folder of this test's own -> Path."""
    folder = short_tmp / request.node.name[:12]
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _make_class(submitted, students):
    release = submissions.read(ROOT / "release" / A / NAME)
    source = submissions.read(ROOT / "source" / A / NAME)
    for student, answers in students.items():
        (submitted / student / A).mkdir(parents=True)
        nbformat.write(submissions.solved(release, source, answers), str(submitted / student / A / NAME))


def _scores(result):
    return {key.split("/")[-1]: s for key, (s, _, by_hand) in result.scores.items() if not by_hand}


def _grade(out, root=ROOT, said=None, **options):
    results = grade.grade(root, [A], out / "submitted", out / "graded", workers=2, timeout=30, progress=False,
                          log=(said.append if said is not None else lambda *_: None), **options)
    return {r.student: r for r in results}


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory, short_tmp):
    """The class graded while the victim's worker is killed once and the doomed one's every time."""
    out = tmp_path_factory.mktemp("killed")
    _make_class(out / "submitted", CLASS)
    tmp = short_tmp / "killed"
    tmp.mkdir()
    said, killer = [], Killer({"victim": 1, "doomed": 5})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(tmp))
        mp.setattr(tempfile, "tempdir", str(tmp))
        killer.start()
        try:
            results = _grade(out, said=said)
        finally:
            killer.done.set()
            killer.join()
    return out, results, said, killer.kills, sorted(os.listdir(tmp)), _workers()


# ---------------------------------------------------------------- killed workers

def test_a_killed_worker_costs_nobody_anything(killed_run):
    """With a worker SIGKILLed while grading the victim, is every other student graded exactly as alone?"""
    _, results, said, kills, _, _ = killed_run
    for student, expected in EXPECTED.items():
        assert results[student].status == grade.GRADED, (student, results[student].reasons, said)
        assert _scores(results[student]) == expected, (student, results[student].failures)
    assert kills.count("victim") == 1, (kills, said)
    assert any("SIGKILL" in line and f"{A}/victim" in line for line in said), said


def test_a_submission_whose_worker_dies_twice_is_ungradable(killed_run):
    """Is a submission whose worker is killed twice, once with nothing else running, ungradable, saying so?"""
    _, results, said, kills, _, _ = killed_run
    doomed = results["doomed"]
    assert kills.count("doomed") == 2, (kills, said)
    assert doomed.status == grade.UNGRADABLE
    assert any("died 2 times" in r and "nothing else running" in r and "SIGKILL" in r for r in doomed.reasons), \
        doomed.reasons
    assert doomed.auto_score == 0


def test_killed_workers_leave_no_temporary_files_or_processes(killed_run):
    """After a run whose workers were killed, is the temporary folder empty and every worker gone?"""
    _, _, _, _, left_in_tmp, workers = killed_run
    assert left_in_tmp == []
    assert workers == []


def test_an_interrupted_run_leaves_nothing_behind(tmp_path, own_tmpdir, monkeypatch):
    """When grading is interrupted (KeyboardInterrupt) mid-run, are the workers and all temporary files gone?"""
    _make_class(tmp_path / "submitted", {s: CLASS[s] for s in ("honest", "wrong", "victim")})
    real_store = grade._store

    def store_then_interrupt(*args):
        real_store(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(grade, "_store", store_then_interrupt)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _grade(tmp_path)
    assert time.monotonic() - started < 30, "the interrupt waited for the rest of the class"
    assert _workers() == []
    assert sorted(os.listdir(own_tmpdir)) == []


# ---------------------------------------------------------------- what is reused between runs

def _result_of(stored):
    """The result's fields in a stored result file's JSON (signed: under "result")."""
    return stored.get("result", stored)


def test_changed_stored_results_are_not_believed(killed_run, own_tmpdir):
    """Are stored results edited on disk (a score raised, another student's result copied in) graded again?"""
    out, before, _, _, _, _ = killed_run
    results = out / "graded" / ".grading" / "results" / A
    raised = json.loads((results / "wrong.json").read_text())
    for score in _result_of(raised)["scores"].values():
        score[0] = score[1]
    (results / "wrong.json").write_text(json.dumps(raised))
    copied = json.loads((results / "victim.json").read_text())
    _result_of(copied)["student"] = "doomed"
    (results / "doomed.json").write_text(json.dumps(copied))
    said = []
    after = _grade(out, said=said)
    assert _scores(after["wrong"]) == _scores(before["wrong"]) == EXPECTED["wrong"]
    assert after["doomed"].status == grade.GRADED    # graded again, with no worker killed this time
    assert sum("does not match its signature" in line for line in said) == 2, said
    assert any(line.startswith("grading 2 submission") for line in said), said
    assert sorted(os.listdir(own_tmpdir)) == []


def _course_copy(folder):
    """A course root of assignment 1 only, with its own build/ folder (the real one is shared) -> Path."""
    for part in ("source", "release"):
        shutil.copytree(ROOT / part / A, folder / part / A)
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    (folder / "nnlib").symlink_to(ROOT / "nnlib", target_is_directory=True)
    return folder


def _rewrite_test_cell(db, grade_id, code):
    """Replace a test cell's source in a template gradebook, with a matching checksum (an attack)."""
    from nbgrader.utils import compute_checksum
    cell = nbformat.v4.new_code_cell(code, metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": grade_id, "points": TESTS[grade_id]}})
    with sqlite3.connect(db) as con:
        changed = con.execute("UPDATE source_cell SET source = ?, checksum = ? WHERE name = ?",
                              (code, compute_checksum(cell), grade_id)).rowcount
    assert changed == 1


def test_a_changed_template_gradebook_is_built_again(tmp_path, own_tmpdir):
    """Is a template gradebook whose test cell was rewritten on disk rebuilt, so the honest score comes back?"""
    root = _course_copy(tmp_path / "course")
    _make_class(tmp_path / "submitted", {"wrong": CLASS["wrong"]})
    first = _grade(tmp_path, root=root)
    (template,) = (root / "build" / "gradebooks").glob(f"{A}-*.db")
    _rewrite_test_cell(template, "test_loss", "print('all good')")
    said = []
    forced = _grade(tmp_path, root=root, said=said, force=True)
    assert _scores(first["wrong"]) == _scores(forced["wrong"]) == EXPECTED["wrong"], said
    assert any("template gradebook" in line and "does not match its signature" in line for line in said), said
    assert sorted(os.listdir(own_tmpdir)) == []


def test_results_graded_before_a_template_was_rebuilt_are_graded_again(tmp_path, own_tmpdir):
    """Once a changed template is rebuilt, are results stored before (maybe graded with it) not reused?"""
    root = _course_copy(tmp_path / "course")
    _make_class(tmp_path / "submitted", {"wrong": CLASS["wrong"]})
    _grade(tmp_path, root=root)
    (template,) = (root / "build" / "gradebooks").glob(f"{A}-*.db")
    _rewrite_test_cell(template, "test_loss", "print('all good')")
    said = []
    again = _grade(tmp_path, root=root, said=said)
    assert any(line.startswith("grading 1 submission") for line in said), said
    assert _scores(again["wrong"]) == EXPECTED["wrong"]


def test_a_grader_fault_is_reported_and_not_kept(tmp_path, own_tmpdir):
    """When the grader itself fails (here: a sandbox whose /tmp is too small to start in), is the
    submission reported with the reason, a warning given, and nothing stored, so the next run
    grades it properly instead of reusing the failure?"""
    _make_class(tmp_path / "submitted", {"alice": {}})
    said = []
    failed = _grade(tmp_path, said=said, disk_mb=0)["alice"]
    assert failed.status == grade.UNGRADABLE and failed.grader_fault
    assert any("grader error" in r and "sandbox" in r for r in failed.reasons), failed.reasons
    assert any("the grader itself failed on 1 submission" in line for line in said), said
    assert not list((tmp_path / "graded" / ".grading" / "results").rglob("*.json"))
    again = _grade(tmp_path)["alice"]
    assert again.status == grade.GRADED and again.auto_score == 10
