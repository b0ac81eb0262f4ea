"""Random generators of the course: seeding them, and leaving them as they were.

The course draws from three global generators: Python's `random`, numpy's and torch's (CPU).
`set_seed` seeds them for a notebook; `kept` is the one way code that is not the notebook's own
(a check, a demo helper, the judge) draws random numbers without moving the notebook's streams.

Generators are named "random", "numpy" and "torch". numpy and torch are imported only when a
call needs them: with `imported_only=True` a generator whose module is not loaded yet is left
alone (nothing has drawn from it), which keeps this module light enough for the grading agent.
"""

import contextlib
import importlib
import random
import sys

GENERATORS = ("random", "numpy", "torch")


def set_seed(seed=None, seed_torch=True):
    """Seed `random`, numpy and (optionally) torch, and say so.

    seed: int or None (None draws one at random); seed_torch: bool.
    """
    import numpy as np

    if seed is None:
        seed = int(np.random.choice(2 ** 32))
    seed_all(seed, ("random", "numpy", "torch") if seed_torch else ("random", "numpy"))
    if seed_torch:
        import torch

        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    print(f"Random seed {seed} has been set.")


def seed_worker(worker_id):
    """Re-seed numpy and `random` in a DataLoader worker from torch's seed."""
    import torch

    seed_all(torch.initial_seed() % 2 ** 32, ("numpy", "random"))


def _modules(generators, imported_only):
    """(name, module) of each generator; unknown names are refused with the list of known ones."""
    unknown = [name for name in generators if name not in GENERATORS]
    if unknown:
        raise ValueError(f"unknown random generator(s) {unknown}: the course's are {list(GENERATORS)}")
    for name in generators:
        if name == "random":
            yield name, random
        elif not imported_only:
            yield name, importlib.import_module(name)
        elif name in sys.modules:
            yield name, sys.modules[name]


def states(generators=GENERATORS, imported_only=False):
    """The current states of `generators`, as a dict that `restore` takes back."""
    getters = {"random": lambda m: m.getstate(), "numpy": lambda m: m.random.get_state(),
               "torch": lambda m: m.random.get_rng_state()}
    return {name: getters[name](module) for name, module in _modules(generators, imported_only)}


def restore(saved):
    """Put the generators named in `saved` (from `states`) back in those states."""
    setters = {"random": lambda m, s: m.setstate(s), "numpy": lambda m, s: m.random.set_state(s),
               "torch": lambda m, s: m.random.set_rng_state(s)}
    for name, module in _modules(tuple(saved), imported_only=False):
        setters[name](module, saved[name])


def seed_all(seed, generators=GENERATORS, imported_only=False):
    """Seed each of `generators` with `seed`."""
    seeders = {"random": lambda m: m.seed(seed), "numpy": lambda m: m.random.seed(seed),
               "torch": lambda m: m.manual_seed(seed)}
    for name, module in _modules(generators, imported_only):
        seeders[name](module)


@contextlib.contextmanager
def kept(seed=None, generators=GENERATORS, imported_only=False):
    """Inside the block `generators` start from `seed` (when one is given); after it, whatever
    happened inside, they are back in the states they had before it.

    seed: int or None (None: no seeding, the block only may not move the outside streams);
    generators: names among GENERATORS; imported_only: leave out numpy or torch when not loaded.
    """
    saved = states(generators, imported_only)
    try:
        if seed is not None:
            seed_all(seed, tuple(saved))
        yield
    finally:
        restore(saved)
