"""nnlib.arrays: one converter from tensors, lists and numbers to numpy arrays."""

import numpy as np
import torch

from nnlib import arrays


def test_tensor_with_a_graph_becomes_a_plain_array():
    """Is a tensor that requires grad detached and converted, with its values and shape?"""
    t = torch.arange(6.0, requires_grad=True).reshape(2, 3) * 2
    out = arrays.to_numpy(t)
    assert isinstance(out, np.ndarray) and out.shape == (2, 3)
    assert np.array_equal(out, 2 * np.arange(6.0).reshape(2, 3))


def test_dtype_is_applied_to_lists_and_tensors():
    """Does dtype=float turn an integer tensor and a list of ints into float arrays?"""
    assert arrays.to_numpy(torch.tensor([1, 2]), float).dtype == np.float64
    assert arrays.to_numpy([1, 2], float).dtype == np.float64
    assert arrays.to_numpy([1, 2]).dtype.kind == "i"
