"""Data sets of the course, all made locally (nothing is downloaded)."""

import numpy as np

from nnlib import seeding


def gen_samples(n, a, sigma):
    """Noisy samples of the line y = a x.

    n: int > 0; a: float slope; sigma: float >= 0 noise std.
    With sigma > 0, x ~ U[0, 1) and y = a x + N(0, sigma^2) (numpy's global RNG);
    with sigma == 0, x is n evenly spaced points on [0, 1] and y = a x exactly.
    Returns x, y: (n,) float arrays.
    """
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"gen_samples: n must be a positive integer, got {n!r}")
    if sigma < 0:
        raise ValueError(f"gen_samples: sigma must be >= 0, got {sigma!r}")
    if sigma > 0:
        x = np.random.rand(n)
        y = a * x + np.random.normal(scale=sigma, size=n)
    else:
        x = np.linspace(0.0, 1.0, n, endpoint=True)
        y = a * x
    return x, y


def seeded_samples(n, a, sigma, seed):
    """`gen_samples(n, a, sigma)` drawn under numpy seed `seed`, leaving the global RNG as it was."""
    with seeding.kept(seed, ("numpy",)):
        return gen_samples(n, a, sigma)


def deep_narrow_data(seed):
    """The deep-narrow-net data set: 100 noisy samples of y = 2x (noise std 0.1) drawn under numpy
    seed `seed` (a1's is analysis.REGISTRATION.seed). -> x, y: (100,)"""
    return seeded_samples(100, 2.0, 0.1, seed)


def load_digits(test_fraction=0.25, seed=0):
    """The handwritten digits that scikit-learn ships (1,797 images of 8x8 pixels), offline.

    Pixels are standardised with the TRAINING set's mean and std (one scalar each).
    test_fraction: share of images held out; seed: int for the shuffled split.
    Returns X_train (N, 64) float32 tensor, y_train (N,) int64 tensor, X_test, y_test.
    """
    import torch
    from sklearn.datasets import load_digits as sklearn_digits

    images = sklearn_digits()
    X = images.data.astype(np.float32)
    y = images.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    mean, std = X[train].mean(), X[train].std()
    X = (X - mean) / std
    return (torch.from_numpy(X[train]), torch.from_numpy(y[train]),
            torch.from_numpy(X[test]), torch.from_numpy(y[test]))


ITEM_NAMES = ["Goldfish", "Tuna", "Robin", "Canary", "Rose", "Daisy", "Pine", "Oak"]


def build_tree(n_levels, n_branches, probability, to_np_array=True):
    """A complete tree for the branching diffusion process, stored as parallel per-node lists.

    n_levels: int depth (the root is level 0); n_branches: int children per node;
    probability: float in [0, 1], the chance that a node flips the sign it passes down.
    Nodes are numbered breadth first. Returns a dict with
      "level":  (n_nodes,) level of each node,
      "pflip":  (n_nodes,) flip probability of each node,
      "parent": (n_nodes,) index of each node's parent (None for the root),
    as numpy arrays when to_np_array, else lists.
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"build_tree: probability must lie in [0, 1], got {probability!r}")
    level = [0]
    for depth in range(1, n_levels + 1):
        level += [depth] * n_branches ** depth
    parent = [None] + [j for j in range((len(level) - 1) // n_branches) for _ in range(n_branches)]
    tree = {"level": level, "pflip": [probability] * len(level), "parent": parent}
    if to_np_array:
        tree = {key: np.array(value) for key, value in tree.items()}
    return tree


def sample_from_tree(tree, n):
    """Draw n features by diffusing random signs from the root down to the leaves.

    Every node draws +1 (probability 1 - pflip) or -1 (numpy's global RNG: one
    np.random.rand(n, n_nodes) call); a leaf's value is the product of the draws on its path
    from the root. tree: dict from build_tree; n: int.
    Returns x: (n, n_leaves) float array of +-1, one column per leaf (item).
    """
    level = np.asarray(tree["level"])
    pflip = np.asarray(tree["pflip"], dtype=float)
    leaves = np.flatnonzero(level == level.max())
    draws = (np.random.rand(n, len(pflip)) > pflip[None, :]) * 2 - 1
    x = np.zeros((n, len(leaves)))
    for column, node in enumerate(leaves):
        value = draws[:, node].copy()
        while tree["parent"][node] is not None:
            node = tree["parent"][node]
            value = value * draws[:, node]
        x[:, column] = value
    return x


def generate_hsd(n_levels=3, n_branches=2, probability=0.15, root_probability=0.5, n_samples=10000):
    """Hierarchically structured data: one-hot items and their features sampled from the tree.

    Defaults are the course's: 3 levels, 2 branches, flip probability 0.15, root flip 0.5
    (so every feature is equally often +1 or -1 overall), 10,000 features. Uses numpy's global RNG.
    Returns tree_labels: (n_items, n_items) identity (one row per item, n_items = 8),
            tree_features: (n_items, n_samples) float array of +-1.
    """
    tree = build_tree(n_levels, n_branches, probability, to_np_array=True)
    tree["pflip"] = tree["pflip"].astype(float)
    tree["pflip"][0] = root_probability
    tree_labels = np.eye(n_branches ** n_levels)
    tree_features = sample_from_tree(tree, n_samples).T
    return tree_labels, tree_features


def add_feature(existing_features, new_feature):
    """Append one feature (a column) to the item-by-feature array.

    existing_features: (n_items, F) array; new_feature: sequence of n_items values.
    Returns a new (n_items, F + 1) array; the input is left unchanged.
    """
    existing_features = np.asarray(existing_features)
    column = np.asarray(new_feature, dtype=existing_features.dtype).reshape(-1, 1)
    if column.shape[0] != existing_features.shape[0]:
        raise ValueError(f"add_feature: the new feature has {column.shape[0]} values, "
                         f"one per item ({existing_features.shape[0]}) is needed")
    return np.hstack((existing_features, column))


def tree_siblings(n_items=8):
    """For a binary tree of n_items leaves: (sibling, half) per item.

    sibling[i]: the leaf sharing item i's parent; half[i]: the other leaves under the same
    child of the root as item i (item i excluded). Lists of ints / lists.
    """
    sibling = [i ^ 1 for i in range(n_items)]
    size = n_items // 2
    half = [[j for j in range((i // size) * size, (i // size + 1) * size) if j != i] for i in range(n_items)]
    return sibling, half


MNIST_ENV = "NNLIB_MNIST_DIR"
_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_idx(path):
    """One IDX file (optionally gzipped) as a numpy array of its stored dtype and shape.

    IDX: 2 zero bytes, a type byte (0x08 = uint8, ...), the number of dimensions, then one
    big-endian int32 per dimension and the values (big-endian).
    """
    import gzip
    import os

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (it does not start with two zero bytes)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX value type 0x{raw[2]:02x}")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    values = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * ndim)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{os.path.basename(str(path))}: header says {shape}, file holds {values.size} values")
    return values.reshape(shape)


def mnist_folder(path=None):
    """The folder holding the MNIST IDX files: `path`, else $NNLIB_MNIST_DIR, else None."""
    import os

    return path if path is not None else os.environ.get(MNIST_ENV) or None


def load_mnist(path=None):
    """The real MNIST digits (60,000 + 10,000 images of 28x28) from IDX files on this machine.

    Nothing is downloaded. `path` (or the environment variable NNLIB_MNIST_DIR) names a folder
    with the four files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
    and t10k-labels-idx1-ubyte (each may end in .gz; torchvision's MNIST/raw folder has them).
    Pixels are standardised with the TRAINING set's mean and std (one scalar each).
    Returns X_train (60000, 784) float32 tensor, y_train (60000,) int64 tensor, X_test, y_test.
    Raises FileNotFoundError that says what to do when the folder or a file is missing.
    """
    import os

    import torch

    folder = mnist_folder(path)
    how = (f"Put the four MNIST IDX files ({', '.join(_MNIST_FILES.values())}, optionally .gz) in a "
           f"folder and pass it as load_mnist(path=...) or set the environment variable {MNIST_ENV} "
           "to it. Nothing is downloaded; without them use load_digits() (scikit-learn's digits).")
    if folder is None:
        raise FileNotFoundError(f"No MNIST folder given. {how}")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"MNIST folder {folder!r} does not exist. {how}")
    arrays = {}
    for key, name in _MNIST_FILES.items():
        found = [os.path.join(folder, n) for n in (name, name + ".gz") if os.path.isfile(os.path.join(folder, n))]
        if not found:
            raise FileNotFoundError(f"{name}(.gz) is missing from {folder!r}. {how}")
        arrays[key] = read_idx(found[0])
    X_train = arrays["train_images"].reshape(len(arrays["train_images"]), -1).astype(np.float32)
    X_test = arrays["test_images"].reshape(len(arrays["test_images"]), -1).astype(np.float32)
    mean, std = X_train.mean(), X_train.std()
    return (torch.from_numpy((X_train - mean) / std), torch.from_numpy(arrays["train_labels"].astype(np.int64)),
            torch.from_numpy((X_test - mean) / std), torch.from_numpy(arrays["test_labels"].astype(np.int64)))


class DigitSet:
    """A handwritten-digit data set and what the notebooks derive from it.

    name: 'digits' or 'mnist'; X_train, X_test: (N, side*side) float32 tensors (standardised);
    y_train, y_test: (N,) int64 tensors; side: image side in pixels; in_dim = side * side;
    n_classes = 10.
    """

    def __init__(self, name, X_train, y_train, X_test, y_test):
        self.name = name
        self.X_train, self.y_train, self.X_test, self.y_test = X_train, y_train, X_test, y_test
        self.in_dim = int(X_train.shape[1])
        self.side = int(round(self.in_dim ** 0.5))
        self.n_classes = 10

    @property
    def centre_pixel(self):
        """Flat index of the pixel just above and right of the image centre (378 for 28x28, 28 for 8x8)."""
        return (self.side // 2 - 1) * self.side + self.side // 2

    def images(self, X):
        """(N, in_dim) -> (N, side, side) view."""
        return X.reshape(-1, self.side, self.side)

    def __repr__(self):
        return (f"DigitSet({self.name!r}: {len(self.y_train)} training and {len(self.y_test)} test images "
                f"of {self.side}x{self.side} pixels)")


def _all_digits(name, path=None, test_fraction=0.25, seed=0):
    """X_train, y_train, X_test, y_test of 'digits' or 'mnist' (see load_digits, load_mnist)."""
    if name == "digits":
        return load_digits(test_fraction=test_fraction, seed=seed)
    if name == "mnist":
        return load_mnist(path)
    raise ValueError(f"handwritten_digits: name must be 'digits' or 'mnist', got {name!r}")


def _visible_test_size(n_test):
    """How many of the n_test test images a notebook gets; the others are held out for grading."""
    return n_test - n_test // 2


def handwritten_digits(name="digits", path=None, test_fraction=0.25, seed=0):
    """The data set `name` as a DigitSet: 'digits' (scikit-learn's, always there) or 'mnist' (local files).

    path: MNIST folder (else $NNLIB_MNIST_DIR); test_fraction, seed: the digits split (load_digits).
    The test set is the first half of the split's test images (of the shuffled digits; of MNIST's
    file order): the second half is held out, read only by the optimization assignment's bonus
    check (`nnlib.checks.optimization`), so a model is scored on images no notebook hands out.
    """
    X_train, y_train, X_test, y_test = _all_digits(name, path, test_fraction, seed)
    n = _visible_test_size(len(y_test))
    return DigitSet(name, X_train, y_train, X_test[:n], y_test[:n])


