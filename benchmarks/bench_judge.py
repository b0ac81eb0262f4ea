"""What the judge costs: per request by the size of what it sends, and per test of each assignment.

    python benchmarks/bench_judge.py [--sizes 0.01,1,4,16,64] [--repeat 3]
    python benchmarks/bench_judge.py --tests [ASSIGNMENT ...]

Sizes: for each size (MB of float64 tensor), the wall time of one request that calls a notebook
function changing the tensor in place (the tensor goes to the kernel and comes back, as
`initialize_layers`-like checks do), median of --repeat, and the rate in MB/s counting both ways.

--tests: each assignment's master notebook run in one kernel (answer key sealed, as grading runs
it); for every judged test cell, the judge's requests, the wall time of deciding it (self-check and
hidden test) and the part of it spent in round trips to the kernel (sending, the kernel, reading); then the assignment's totals. The
whole-submission figures are `bench_class.py --breakdown`'s "judge" stages.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnlib.course import cells, config, judge, submissions  # noqa: E402
from nnlib.course.client import GradingKernelManager  # noqa: E402
from nnlib.course.preprocessors import sealed_env  # noqa: E402


def tests(assignment):
    """Print, per judged test cell of the master notebook: requests, seconds, seconds in the kernel."""
    requests, waited = [0], [0.0]
    original = judge.Link.request

    def counted(link, **req):
        requests[0] += 1
        start = time.perf_counter()
        try:
            return original(link, **req)
        finally:
            waited[0] += time.perf_counter() - start

    total = [0, 0.0, 0.0]
    for name in config.notebooks(ROOT, assignment):
        nb = submissions.read(ROOT / "source" / assignment / name)
        client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                kernel_manager_class=GradingKernelManager,
                                resources={"metadata": {"path": str(ROOT / "source" / assignment)}})
        judge.Link.request = counted
        try:
            with client.setup_kernel(env=sealed_env()):
                for i, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    if not judge.is_judged(cell):
                        client.execute_cell(cell, i)
                        continue
                    requests[0], waited[0] = 0, 0.0
                    start = time.perf_counter()
                    verdict = judge.decide(client, cell, i, assignment)
                    seconds = time.perf_counter() - start
                    grade_id = cells.grade_id(cell)
                    print(f"  {grade_id:28s} {requests[0]:5d} requests {seconds:6.2f} s, round trips {waited[0]:5.2f} s"
                          f"{'' if verdict.passed else '  (failed: ' + str(verdict.message)[:60] + ')'}", flush=True)
                    total[0] += requests[0]
                    total[1] += seconds
                    total[2] += waited[0]
        finally:
            judge.Link.request = original
    print(f"{assignment}: {total[0]} requests, {total[1]:.2f} s judging, {total[2]:.2f} s of it in round trips to the kernel",
          flush=True)


def sizes(args):
    """Print the time of one in-place call per size of tensor sent."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def scale_(w, c):\n    w *= c"),
                                         nbformat.v4.new_code_cell("")])
    client = NotebookClient(nb, timeout=600, kernel_name="python3")
    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        scale_ = judge.Link(client, 1, 600).request(op="get", name="scale_")
        for mb in (float(s) for s in args.sizes.split(",")):
            w = torch.ones(max(1, int(mb * 2 ** 20 / 8)), dtype=torch.float64)
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                scale_(w, 1.0)
                times.append(time.perf_counter() - start)
            t = statistics.median(times)
            print(f"{mb:g} MB: {t:.3f} s per request ({2 * mb / t:.0f} MB/s both ways)", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0.01,1,4,16,64")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tests", nargs="*", metavar="ASSIGNMENT")
    args = parser.parse_args()
    if args.tests is None:
        sizes(args)
    else:
        for assignment in args.tests or config.assignments(ROOT):
            tests(assignment)


if __name__ == "__main__":
    main()
