"""Widgets draw once with their defaults and work without a browser."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from nnlib import widgets  # noqa: E402


@pytest.mark.parametrize("make", [widgets.depth_widget, widgets.lr_widget, widgets.hyperparameter_widget])
def test_interactive_demos_build_headless(make):
    """Does each demo build and run its default case without a display?"""
    assert make() is not None


def test_interplay_registers_and_moves_deeper():
    """Does Register record a converged rate and move on to the next depth?"""
    demo = widgets.InterPlay()
    assert demo.depth == 10
    demo.slider.value = 0.05          # converges at depth 10
    assert not demo.button.disabled
    demo.register()
    assert demo.depth == 20 and demo.learning_rates() == {10: 0.05}


def test_interplay_refuses_to_register_a_diverging_rate():
    """Is a rate that does not converge kept out of the record?"""
    demo = widgets.InterPlay()
    demo.i_depth = 5                  # depth 60
    demo.slider.value = 0.1
    assert demo.button.disabled
    demo.register()
    assert demo.learning_rates() == {}
