"""nnlib.seeding: seeding the course's random generators and leaving them as they were."""

import random

import numpy as np
import pytest
import torch

from nnlib import seeding


def _draw():
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_set_seed_repeats_every_generator(capsys):
    """Does set_seed make random, numpy and torch draw the same numbers again, and say so?"""
    seeding.set_seed(7)
    first = _draw()
    seeding.set_seed(7)
    assert _draw() == first
    assert "Random seed 7 has been set." in capsys.readouterr().out


def test_kept_restores_every_generator():
    """After a block that draws from all three generators, does the outside stream go on as if it had not run?"""
    seeding.set_seed(3)
    _draw()
    expected = _draw()
    seeding.set_seed(3)
    _draw()
    with seeding.kept():
        _draw()
        _draw()
    assert _draw() == expected


def test_kept_seeds_inside_the_block():
    """Does kept(seed) start the block from the seed, whatever the outside state?"""
    seeding.set_seed(1)
    with seeding.kept(11):
        first = _draw()
    seeding.set_seed(2)
    with seeding.kept(11):
        assert _draw() == first


def test_kept_seeds_only_the_named_generators():
    """Does kept(seed, ("torch",)) leave numpy's stream alone inside the block?"""
    seeding.set_seed(5)
    expected_numpy = float(np.random.rand())
    seeding.set_seed(5)
    with seeding.kept(99, ("torch",)):
        assert float(np.random.rand()) == expected_numpy
    assert float(np.random.rand()) != expected_numpy   # numpy was not put back either


def test_kept_restores_after_an_exception():
    """Are the generators put back when the block raises?"""
    seeding.set_seed(4)
    expected = _draw()
    seeding.set_seed(4)
    with pytest.raises(RuntimeError):
        with seeding.kept(8):
            _draw()
            raise RuntimeError("inside")
    assert _draw() == expected


def test_states_round_trip():
    """Does restore(states()) bring a generator back to where states() was taken?"""
    saved = seeding.states()
    expected = _draw()
    seeding.restore(saved)
    assert _draw() == expected


def test_unknown_generator_is_named():
    """Is a generator name the course does not have refused with that name?"""
    with pytest.raises(ValueError, match="cupy"):
        seeding.states(("numpy", "cupy"))
