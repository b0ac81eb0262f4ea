"""Grading a class: plain sequential `nbgrader autograde` against `course grade --workers N`.

    python benchmarks/bench_class.py [--n 40] [--workers 2] [--scaling 10,40,160] [--jobs-only]
    python benchmarks/bench_class.py --scaling-only --scaling 40,160,1000 [--workers 2]
    python benchmarks/bench_class.py --cluster [--n 20] [--workers 2]
    python benchmarks/bench_class.py --breakdown [ASSIGNMENT ...] [--repeat 3] [--no-sandbox]

On the same N synthetic submissions of assignment 1 (answers drawn from its catalogue), prints:
  plain       wall time of `nbgrader autograde` over the class (one process, one after another)
  ours        wall time of `course grade --workers N` (feedback, CSV and report included)
  speed-up    plain / ours (target >= 1.8 on 2 cores)
  overhead    time of one worker's job grading the solution (restore, tamper scan, nbgrader
              autograde, feedback HTML, scores) over bare nbclient execution of the master notebook
              (the same code: solutions and hidden tests), medians of 7 taken in turns
              (target <= 20 %); with forked kernels and with kernels started from scratch
  sandbox     the same job in the bubblewrap sandbox (as course grade runs it) against forked
              kernels without it (--no-sandbox): the sandbox's cost per submission (target <= 10 %)
  peak memory largest resident set of a worker or its kernels
  scaling     wall time for 10, 40, 160 submissions (should grow linearly)

With --cluster, only: the same N submissions graded by the local pool of --workers processes and
by a Dask LocalCluster of as many worker processes (one thread each; `course grade --cluster`),
both wall times (the cluster's start apart) and the engine's overhead over the pool (%).

With --scaling-only, only the scaling figures, each with the mean of each stage per submission.

With --breakdown, only: each assignment's cost per submission, one worker grading its example
submissions (the solution, the first wrong answer of each region, the first right variant: see
nnlib.course.demo) one after another in this process, in the sandbox as course grade runs them,
after one warm-up job; the mean of each stage of worker.Stages per submission (kernel start,
cells, judge, nbgrader's pipeline, gradebook SQL, feedback HTML...) and the mean and median total.
The class run prints the same stages, averaged over its submissions.
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

from nnlib.course import catalogue, config, demo, grade, intake, submissions, synthetic, worker  # noqa: E402

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


def bare_once(cat):
    """Seconds nbclient takes to run the master notebook (what grading executes: solutions and
    hidden tests), with NBGRADER_EXECUTION set as nbgrader sets it, so demo cells shrink as they do
    at grading, and the kernel killed at the end as grading kills it (nbgrader_config.py)."""
    nb = submissions.read(ROOT / "source" / A / cat.notebook)
    start = time.perf_counter()
    with mock.patch.dict(os.environ, {"NBGRADER_EXECUTION": "autograde"}):
        NotebookClient(nb, timeout=600, kernel_name="python3", shutdown_kernel="immediate",
                       resources={"metadata": {"path": str(ROOT / "source" / A)}}).execute()
    return time.perf_counter() - start


def graded_once(spec):
    """Seconds one worker spends grading one submission (worker.grade_job, in this process)."""
    with mock.patch.dict(os.environ):   # the job sets the kernel's environment: keep it to the job
        raw = worker.grade_job(spec)
    if raw["error"]:
        raise SystemExit(f"grading the solution failed: {raw['error']}")
    return raw["seconds"]


def overhead(cat, tmp, repeat=7):
    """Median seconds of grading the solution in the sandbox, with forked kernels outside it, with
    kernels started from scratch, and of running the master bare; taken in turns after one warm-up
    each, so all see the same machine and none pays first-import costs."""
    make_solutions(1, tmp / "one", cat)
    job, = intake.find_jobs(tmp / "one", {A: [cat.notebook]})
    limits = grade.job_limits(tmp / "out-one", 1, None, 900, 3072)
    spec = grade.job_spec(ROOT, tmp / "out-one", job, grade._template_db(ROOT, A), limits)
    plain = {**spec, "sandbox": None}
    runs = {"sandboxed": lambda: graded_once(spec),
            "forked": lambda: graded_once(plain),
            "scratch": lambda: graded_once({**plain, "fork_server": False}),
            "bare": lambda: bare_once(cat)}
    times = {name: [] for name in runs}
    for i in range(repeat + 1):
        for name, run in runs.items():
            seconds = run()
            if i:
                times[name].append(seconds)
    worker.SERVER.stop()
    return {name: statistics.median(t) for name, t in times.items()}


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


def on_cluster(submitted, out, workers):
    """(seconds to start a LocalCluster of `workers` processes, wall time of grading on it, results)."""
    from dask.distributed import LocalCluster
    start = time.perf_counter()
    with LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        started = time.perf_counter() - start
        start = time.perf_counter()
        results = grade.grade(ROOT, [A], submitted, out, force=True, progress=False, log=lambda *_: None,
                              cluster=cluster.scheduler_address)
        return started, time.perf_counter() - start, results


def compare_engines(n, workers, tmp, outcomes, cat):
    """Print the local pool's and a LocalCluster's wall times on the same `n` submissions."""
    make(n, tmp / "submitted", outcomes, cat)
    grade._template_db(ROOT, A)     # built (or checked) once, before either is timed
    pool_wall, pool_results = ours(tmp / "submitted", tmp / "pool", workers)
    started, wall, results = on_cluster(tmp / "submitted", tmp / "cluster", workers)
    same = (tmp / "pool" / "grades.csv").read_bytes() == (tmp / "cluster" / "grades.csv").read_bytes()
    print(f"{n} submissions of {A}, {workers} workers")
    print(f"  local pool                        {pool_wall:6.1f} s  ({pool_wall / n:.2f} s each)")
    print(f"  Dask LocalCluster                 {wall:6.1f} s  ({wall / n:.2f} s each; "
          f"the cluster took {started:.1f} s more to start)")
    print(f"  engine's overhead                 {100 * (wall / pool_wall - 1):+6.0f} %")
    print(f"  grades.csv identical              {'yes' if same else 'NO'}")


SAMPLE = ("solution", "mistakes", "variants")   # the example students a breakdown grades
STAGE_WORDS = {
    "prepare": "repair, scan, working copy",
    "kernel_start": "kernel start",
    "cells": "notebook cells in the kernel",
    "judge_kernel": "judge: waiting on the kernel",
    "judge_compute": "judge: its own computing",
    "kernel_stop": "kernel stop",
    "nbgrader": "nbgrader's pipeline (rest)",
    "gradebook": "gradebook SQL",
    "feedback": "feedback HTML",
    "outputs": "copying outputs",
    "other": "other",
}


def sample_specs(assignment, tmp, sandboxed=True):
    """Job specs of `assignment`'s example submissions named in SAMPLE (those it has)."""
    submitted = tmp / f"sample-{assignment}"
    shutil.rmtree(submitted, ignore_errors=True)
    demo.example_class(ROOT, assignment, submitted)
    for student in {p.name for p in submitted.iterdir()} - set(SAMPLE):
        shutil.rmtree(submitted / student)
    jobs = intake.find_jobs(submitted, {assignment: config.notebooks(ROOT, assignment)})
    limits = grade.job_limits(tmp / f"out-{assignment}", 1, None, 900, 3072, sandboxed=sandboxed)
    template = grade._template_db(ROOT, assignment, log=lambda *_: None)
    return [grade.job_spec(ROOT, tmp / f"out-{assignment}", job, template, limits) for job in jobs]


def breakdown(assignments, tmp, repeat=3, sandboxed=True):
    """{assignment: [raw results of grade_job]}: each example submission graded `repeat` times by
    this process, after one warm-up job per assignment (not counted)."""
    raws = {}
    for assignment in assignments:
        specs = sample_specs(assignment, tmp, sandboxed)
        with mock.patch.dict(os.environ):   # the job sets the kernel's environment: keep it to the job
            worker.grade_job(specs[0])
            raws[assignment] = []
            for _ in range(repeat):
                for spec in specs:
                    raw = worker.grade_job(spec)
                    if raw["error"]:
                        raise SystemExit(f"{assignment}/{spec['student']}: {raw['error']}")
                    raws[assignment].append(raw)
        print(f"  ({assignment}: {len(raws[assignment])} jobs graded)", file=sys.stderr, flush=True)
    worker.SERVER.stop()
    return raws


def print_stages(raws):
    """Mean seconds per submission of each stage, one column per assignment; then the totals."""
    names = list(raws)
    print(f"  {'seconds per submission':<32}" + "".join(f"{n.split('_')[0]:>9}" for n in names))
    staged = {n: [r["stages"] for r in rs if r.get("stages")] for n, rs in raws.items()}
    for stage in worker.Stages.names() if any(staged.values()) else ():
        row = [statistics.mean(s[stage] for s in staged[n]) if staged[n] else float("nan") for n in names]
        print(f"  {STAGE_WORDS.get(stage, stage):<32}" + "".join(f"{x:9.2f}" for x in row))
    means = [statistics.mean(r["seconds"] for r in raws[n]) for n in names]
    medians = [statistics.median(r["seconds"] for r in raws[n]) for n in names]
    print(f"  {'total, mean':<32}" + "".join(f"{x:9.2f}" for x in means))
    print(f"  {'total, median':<32}" + "".join(f"{x:9.2f}" for x in medians))
    print(f"  {'submissions':<32}" + "".join(f"{len(raws[n]):9d}" for n in names))


def print_jobs(t):
    """Print the one-job medians of `overhead`."""
    print(f"  running the master bare           {t['bare']:6.2f} s  (median of 7)")
    over = {k: 100 * (t[k] / t["bare"] - 1) for k in ("sandboxed", "forked", "scratch")}
    print(f"  grading the solution, one job     {t['sandboxed']:6.2f} s  overhead {over['sandboxed']:4.0f} %"
          "  (in the sandbox, forked kernel, as course grade runs it)")
    print(f"    the same, --no-sandbox          {t['forked']:6.2f} s  overhead {over['forked']:4.0f} %"
          "  (forked kernel: its imports done once per worker)")
    print(f"    the same, no fork server        {t['scratch']:6.2f} s  overhead {over['scratch']:4.0f} %"
          "  (kernel started from scratch, as bare)")
    print(f"  sandbox's cost per submission     {t['sandboxed'] - t['forked']:+6.2f} s  "
          f"({100 * (t['sandboxed'] / t['forked'] - 1):+.0f} % against --no-sandbox)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scaling", default="10,40,160")
    parser.add_argument("--jobs-only", action="store_true", help="only the one-job figures (overhead, sandbox)")
    parser.add_argument("--cluster", action="store_true",
                        help="only the local pool against a Dask LocalCluster of as many workers")
    parser.add_argument("--breakdown", nargs="*", metavar="ASSIGNMENT",
                        help="only each assignment's cost per submission, stage by stage (all: none named)")
    parser.add_argument("--scaling-only", action="store_true", help="only the scaling figures, with stages")
    parser.add_argument("--repeat", type=int, default=3, help="with --breakdown: rounds of the example submissions")
    parser.add_argument("--no-sandbox", action="store_true", help="with --breakdown: grade without the sandbox")
    args = parser.parse_args()
    cat = catalogue.find(ROOT)[A]
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        tmp = Path(tmp)
        if args.breakdown is not None:
            where = "--no-sandbox" if args.no_sandbox else "in the sandbox"
            print(f"cost per submission, one worker, {where} (means of {args.repeat} rounds of {', '.join(SAMPLE)})")
            print_stages(breakdown(args.breakdown or config.assignments(ROOT), tmp, args.repeat,
                                   not args.no_sandbox))
            return
        if args.jobs_only:
            print_jobs(overhead(cat, tmp))
            return
        _, outcomes = catalogue.run(ROOT, cat)
        if args.cluster:
            compare_engines(args.n, args.workers, tmp, outcomes, cat)
            return
        if args.scaling_only:
            scaling(args.scaling, args.workers, tmp, outcomes, cat, stages=True)
            return
        make(args.n, tmp / "submitted", outcomes, cat)
        plain = plain_nbgrader(tmp / "submitted", tmp)
        wall, results = ours(tmp / "submitted", tmp / "out", args.workers)
        t = overhead(cat, tmp)
        print(f"{args.n} submissions of {A}")
        print(f"  plain nbgrader autograde          {plain:6.1f} s  ({plain / args.n:.2f} s each)")
        print(f"  course grade --workers {args.workers}         {wall:6.1f} s  ({wall / args.n:.2f} s each)")
        print(f"  speed-up                          {plain / wall:6.2f} x")
        print_jobs(t)
        print(f"  peak memory of a worker or kernel  {max(r.peak_mb for r in results):.0f} MiB")
        print(f"  where a worker's time went, mean of the {args.n} submissions:")
        print_stages({A: [{"stages": r.stages, "seconds": r.seconds} for r in results if r.seconds]})
        scaling(args.scaling, args.workers, tmp, outcomes, cat)


def scaling(ns, workers, tmp, outcomes, cat, stages=False):
    """Grade classes of each size in `ns` ("10,40,160") with `workers` workers; print the wall times
    (and, with `stages`, where the workers' time went)."""
    for n in (int(x) for x in ns.split(",") if x):
        make(n, tmp / f"s{n}", outcomes, cat)
        t, results = ours(tmp / f"s{n}", tmp / f"o{n}", workers)
        print(f"  scaling: {n:4d} submissions in {t:7.1f} s ({t / n:.2f} s each, {workers} workers)", flush=True)
        if stages:
            print_stages({A: [{"stages": r.stages, "seconds": r.seconds} for r in results if r.seconds]})
        shutil.rmtree(tmp / f"s{n}")
        shutil.rmtree(tmp / f"o{n}")


if __name__ == "__main__":
    main()
