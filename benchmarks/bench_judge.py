"""What a judge's request costs by the size of what it sends: one kernel, one in-place call.

    python benchmarks/bench_judge.py [--sizes 0.01,1,4,16,64] [--repeat 3]

For each size (MB of float64 tensor sent), the wall time of one request that calls a notebook
function changing the tensor in place (the tensor goes to the kernel and comes back, as
`initialize_layers`-like checks do), median of --repeat, and the rate in MB/s counting both ways.
The whole-submission figures per assignment are `bench_class.py --breakdown`'s "judge" stages.
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

from nnlib.course import judge  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0.01,1,4,16,64")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
