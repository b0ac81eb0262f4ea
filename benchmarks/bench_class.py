"""Grading a class: plain sequential `nbgrader autograde` against `course grade --workers N`.

    python benchmarks/bench_class.py [--n 40] [--workers 2] [--scaling 10,40,160]

On the same N synthetic submissions of assignment 1 (answers drawn from its catalogue), prints:
  plain       wall time of `nbgrader autograde` over the class (one process, one after another)
  ours        wall time of `course grade --workers N` (feedback, CSV and report included)
  speed-up    plain / ours (target >= 1.8 on 2 cores)
  overhead    per-submission worker time with one worker, grading 5 copies of the solution, over
              bare nbclient execution of the master notebook (the same code: solutions and hidden
              tests), median of 5 (target <= 20 %)
  peak memory largest resident set of a worker or its kernels
  scaling     wall time for 10, 40, 160 submissions (should grow linearly)
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnlib.course import catalogue, grade, submissions, synthetic  # noqa: E402

A = "a1_hyperparameters"


def make(n, folder, outcomes, cat):
    shutil.rmtree(folder, ignore_errors=True)
    synthetic.make_class(ROOT, cat, outcomes, n, folder, seed=n)


def make_solutions(n, folder, cat):
    """`n` students who all hand in the master's solutions."""
    shutil.rmtree(folder, ignore_errors=True)
    release = submissions.read(ROOT / "release" / A / cat.notebook)
    source = submissions.read(ROOT / "source" / A / cat.notebook)
    for i in range(n):
        path = folder / f"student{i:03d}" / A / cat.notebook
        path.parent.mkdir(parents=True)
        nbformat.write(submissions.solved(release, source), str(path))


def bare_seconds(cat, repeat=5):
    """Median wall time of nbclient running the master notebook (what grading executes), with
    NBGRADER_EXECUTION set as nbgrader sets it, so demo cells shrink as they do at grading."""
    def once():
        nb = submissions.read(ROOT / "source" / A / cat.notebook)
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "source" / A)}}).execute()
        return time.perf_counter() - start
    with mock.patch.dict(os.environ, {"NBGRADER_EXECUTION": "autograde"}):
        return statistics.median(once() for _ in range(repeat))


def plain_nbgrader(submitted, tmp):
    """Wall time of `nbgrader autograde` over `submitted` in a scratch course root."""
    course = Path(tmp) / "plain"
    shutil.rmtree(course, ignore_errors=True)
    course.mkdir()
    (course / "source").symlink_to(ROOT / "source")
    (course / "submitted").symlink_to(submitted)
    (course / "nbgrader_config.py").write_text(
        f"exec(open({str(ROOT / 'nbgrader_config.py')!r}).read())\nc.CourseDirectory.root = {str(course)!r}\n")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run(nbgrader + ["generate_assignment", A, "--force"], cwd=course, check=True,
                   capture_output=True)
    start = time.perf_counter()
    subprocess.run(nbgrader + ["autograde", A, "--force"], cwd=course, check=True, capture_output=True)
    return time.perf_counter() - start


def ours(submitted, out, workers):
    start = time.perf_counter()
    results = grade.grade(ROOT, [A], submitted, out, workers=workers, force=True, progress=False,
                          log=lambda *_: None)
    return time.perf_counter() - start, results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scaling", default="10,40,160")
    args = parser.parse_args()
    cat = catalogue.find(ROOT)[A]
    _, outcomes = catalogue.run(ROOT, cat)
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        tmp = Path(tmp)
        make(args.n, tmp / "submitted", outcomes, cat)
        bare = bare_seconds(cat)
        plain = plain_nbgrader(tmp / "submitted", tmp)
        wall, results = ours(tmp / "submitted", tmp / "out", args.workers)
        make_solutions(5, tmp / "few", cat)
        _, single = ours(tmp / "few", tmp / "out1", 1)
        per_job = statistics.mean(r.seconds for r in single)
        print(f"{args.n} submissions of {A}")
        print(f"  bare execution of the master     {bare:6.2f} s")
        print(f"  plain nbgrader autograde          {plain:6.1f} s  ({plain / args.n:.2f} s each)")
        print(f"  course grade --workers {args.workers}         {wall:6.1f} s  ({wall / args.n:.2f} s each)")
        print(f"  speed-up                          {plain / wall:6.2f} x")
        print(f"  grading the solution (1 worker)  {per_job:6.2f} s: overhead {100 * (per_job / bare - 1):.0f} % over bare")
        print(f"  peak memory of a worker or kernel  {max(r.peak_mb for r in results):.0f} MiB")
        for n in (int(x) for x in args.scaling.split(",") if x):
            make(n, tmp / f"s{n}", outcomes, cat)
            t, _ = ours(tmp / f"s{n}", tmp / f"o{n}", args.workers)
            print(f"  scaling: {n:4d} submissions in {t:7.1f} s ({t / n:.2f} s each)", flush=True)


if __name__ == "__main__":
    main()
