"""Reproducible runs: one call seeds Python, numpy and torch."""

import random

import numpy as np


def set_seed(seed=None, seed_torch=True):
    """Seed `random`, numpy and (optionally) torch, and say so.

    seed: int or None (None draws one at random); seed_torch: bool.
    """
    if seed is None:
        seed = int(np.random.choice(2 ** 32))
    random.seed(seed)
    np.random.seed(seed)
    if seed_torch:
        import torch

        torch.manual_seed(seed)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    print(f"Random seed {seed} has been set.")


def seed_worker(worker_id):
    """Re-seed numpy and `random` in a DataLoader worker from torch's seed."""
    import torch

    worker_seed = torch.initial_seed() % 2 ** 32
    np.random.seed(worker_seed)
    random.seed(worker_seed)
