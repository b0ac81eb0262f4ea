"""Converting what a notebook or a model gives (torch tensors, lists, numbers) to numpy arrays."""

import numpy as np


def to_numpy(value, dtype=None):
    """`value` as a numpy array: a torch tensor detached and moved to the CPU, anything else
    through np.asarray. dtype: as np.asarray's (None keeps the value's own)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)
