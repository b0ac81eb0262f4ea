"""Time and memory of one assignment's life cycle on this machine.

    python benchmarks/bench_assignment.py [ASSIGNMENT ...] [--repeat N]

Prints, per assignment (median of N runs where repeated):
  build          `course build` of that assignment (generate_assignment + generate_solution)
  bare           executing the solution notebook with nbclient, kernel start included
  autograde      `course grade` of one full-marks submission, one worker, nothing reused
  ratio          autograde / bare
  peak memory    largest resident set of the kernel and grader processes (MiB)
Targets (issue text): assignment 1 autograde <= 1.5 x bare and < 30 s.
"""

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnlib.course import build, config, grade, submissions  # noqa: E402


def _time(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bare(assignment):
    for name in config.notebooks(ROOT, assignment):
        nb = nbformat.read(str(ROOT / "solutions" / assignment / name), as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "solutions" / assignment)}}).execute()


def autograde_one(assignment, tmp):
    out = Path(tmp) / "out"
    shutil.rmtree(out, ignore_errors=True)
    folder = out / "submitted" / "student" / assignment
    folder.mkdir(parents=True)
    for name in config.notebooks(ROOT, assignment):
        nb = submissions.solved(submissions.read(ROOT / "release" / assignment / name),
                                submissions.read(ROOT / "source" / assignment / name))
        nbformat.write(nb, str(folder / name))
    (result,) = grade.grade(ROOT, [assignment], out / "submitted", out, workers=1, force=True,
                            progress=False, log=lambda *_: None)
    assert result.auto_score == result.auto_max, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for assignment in args.assignments or config.assignments(ROOT):
        with tempfile.TemporaryDirectory() as tmp:
            t_build = _time(lambda: build.build(ROOT, [assignment], release_dir=Path(tmp) / "r",
                                                solution_dir=Path(tmp) / "s", log=lambda *_: None))
            t_bare = statistics.median(_time(lambda: bare(assignment)) for _ in range(args.repeat))
            t_grade = statistics.median(_time(lambda: autograde_one(assignment, tmp)) for _ in range(args.repeat))
        peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
        print(f"{assignment}: build {t_build:.1f} s | bare execution {t_bare:.1f} s | "
              f"autograde one submission {t_grade:.1f} s | ratio {t_grade / t_bare:.2f} | "
              f"peak memory {peak:.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
