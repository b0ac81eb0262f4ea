"""Where the time of assignment 2 (deep linear networks) goes.

    python benchmarks/bench_deep_linear.py

Prints the wall time of one 250-epoch training run (8 -> 30 -> 10,000, every epoch recorded),
then executes the solution notebook once with nbclient and lists its slowest cells, with the
total. Targets (issue): the whole notebook under 60 s on a 2-core CPU, every cell well under the
10 s per-cell limit of the grading tests.
"""

import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnlib.topics import deep_linear as topic  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "a2_deep_linear" / "deep_linear.ipynb"


def training_time(repeat=3):
    np.random.seed(2021)
    labels, features = topic.generate_hsd()
    times = []
    for seed in range(repeat):
        torch.manual_seed(seed)
        start = time.perf_counter()
        topic.train_hsd(labels, features, progressbar=False)
        times.append(time.perf_counter() - start)
    return times


class TimedClient(NotebookClient):
    """nbclient that records the wall time of every cell."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.times = []

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        start = time.perf_counter()
        result = await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        if cell.cell_type == "code":
            self.times.append((time.perf_counter() - start, cell.get("id", str(cell_index)),
                               cell.source.splitlines()[0][:60] if cell.source else ""))
        return result


def main():
    times = training_time()
    print("one training run (250 epochs, records every epoch): "
          + ", ".join(f"{t:.2f} s" for t in times) + " (first includes warm-up)")
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    client = TimedClient(nb, timeout=600, kernel_name="python3",
                         resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    start = time.perf_counter()
    client.execute()
    total = time.perf_counter() - start
    print(f"solution notebook, kernel start included: {total:.1f} s; slowest cells:")
    for seconds, cell_id, first_line in sorted(client.times, reverse=True)[:8]:
        print(f"  {seconds:6.2f} s  {cell_id}  {first_line}")


if __name__ == "__main__":
    main()
