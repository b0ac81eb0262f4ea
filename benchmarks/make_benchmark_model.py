"""Train the benchmark classifier of the optimization assignment and store it in nnlib/assets/.

    python benchmarks/make_benchmark_model.py [--data digits|mnist] [--mnist-dir DIR]

An MLP with hidden layers (200, 100, 50) trained with Adam on the data set's training images
(torch seed 2021, one CPU thread, so the same machine gives the same weights every time). The
parameters are stored as float16 in nnlib/assets/<data>_benchmark_mlp.npz (about 70 kB for the
digits); `nnlib.topics.optimization.load_benchmark(<data>)` reads them. Digits: a few seconds on a laptop CPU.
"""

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnlib import models  # noqa: E402
from nnlib.topics import optimization as topic  # noqa: E402

SETTINGS = {"digits": dict(epochs=40, batch_size=64, lr=1e-3), "mnist": dict(epochs=8, batch_size=128, lr=1e-3)}


def train(dataset, epochs, batch_size, lr, seed=2021):
    torch.manual_seed(seed)
    model = models.MLP(in_dim=dataset.in_dim, out_dim=10, hidden_dims=list(topic.BENCHMARK_HIDDEN))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    X, y = dataset.X_train, dataset.y_train
    for _ in range(epochs):
        order = torch.randperm(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            optimizer.zero_grad()
            F.nll_loss(model(X[idx]), y[idx]).backward()
            optimizer.step()
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(SETTINGS), default="digits")
    parser.add_argument("--mnist-dir", default=None, help="folder of the MNIST IDX files (else $NNLIB_MNIST_DIR)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    dataset = topic.handwritten_digits(args.data, path=args.mnist_dir)
    model = train(dataset, **SETTINGS[args.data])
    path = topic.save_benchmark(model, args.data)
    stored = topic.load_benchmark(args.data)
    from nnlib.checks.optimization import _held_out_digits

    held_out = _held_out_digits(args.data)
    for split, X, y in (("train", dataset.X_train, dataset.y_train), ("test", dataset.X_test, dataset.y_test),
                        ("held-out (bonus grading)", *held_out)):
        loss, acc = topic.evaluate(stored, X, y)
        print(f"{split}: loss {loss:.3f}, accuracy {100 * acc:.2f}% (stored float16 weights)")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
