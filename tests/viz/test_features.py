"""Filters and activation maps: grids, scaling and zero-channel counts."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import models, nn, viz
from tests.conftest import to_numpy


def test_filters_of_a_layer_by_module_or_name(lenet):
    w = viz.filters(lenet, "features.3")
    np.testing.assert_array_equal(w, to_numpy(lenet.features[3].weight))
    np.testing.assert_array_equal(
        viz.filters(lenet.features[0]), to_numpy(lenet.features[0].weight)
    )
    with pytest.raises(ValueError, match="layer: expected a convolution .* got MaxPool2d"):
        viz.filters(lenet, "features.2")
    with pytest.raises(ValueError, match="layer: expected a convolution .* got Linear"):
        viz.filters(lenet, "classifier.1")


def test_grey_filter_grid_has_a_row_per_filter_and_a_column_per_input_channel():
    w = np.random.default_rng(0).standard_normal((16, 6, 5, 5))
    grid = viz.filter_grid(w)
    assert grid.shape == (16 * 6 - 1, 6 * 6 - 1)
    tile = grid[6:11, 12:17]  # filter 1, input channel 2
    lo, hi = w[1].min(), w[1].max()
    np.testing.assert_allclose(tile, (w[1, 2] - lo) / (hi - lo))  # scaled over the filter
    assert np.isnan(grid[5]).all() and np.isnan(grid[:, 5]).all()  # separators
    assert np.nanmin(grid) == 0 and np.nanmax(grid) == 1


def test_rgb_filter_grid_is_a_colour_image_per_filter():
    conv = nn.Conv2d(3, 8, 3)
    grid = viz.filter_grid(viz.filters(conv))
    assert grid.shape == (3 * 4 - 1, 3 * 4 - 1, 3)  # 8 tiles in a 3 x 3 layout
    w = viz.filters(conv)
    first = w[0].transpose(1, 2, 0)
    np.testing.assert_allclose(grid[:3, :3], (first - first.min()) / (first.max() - first.min()))
    assert (grid[3] == 1).all()  # white separators


def test_activation_grid_and_zero_channels():
    a = np.random.default_rng(1).random((3, 4, 5, 5))
    a[:, 2] = 0  # channel 2 never fires
    a[0, 1] = 0  # channel 1 is silent on one input only
    assert viz.zero_channels(a) == 1
    assert viz.zero_channels({"x": a, "y": np.zeros((2, 3))}) == {"x": 1, "y": 3}
    grid = viz.activation_grid(a[0])
    assert grid.shape == (2 * 6 - 1, 2 * 6 - 1)
    assert (grid[:5, 6:11] == 0).all()  # an all-zero map stays black
    np.testing.assert_allclose(grid[:5, :5], a[0, 0] / a[0, 0].max())


def test_deeper_relu_layers_of_the_trained_net_have_silent_units(lenet, digits):
    """The lectures' observation, measured on 100 digits: conv maps all fire somewhere, while
    some fully connected ReLU units never do (see the record in the README)."""
    acts = viz.activations(lenet, digits[0], ["features.1", "features.4", "classifier.2"])
    zeros = viz.zero_channels(acts)
    assert zeros["features.1"] == 0 and zeros["features.4"] == 0
    assert acts["classifier.2"].shape == (100, 120)
    assert 0 <= zeros["classifier.2"] < 120


def test_resnet20_layers_are_reached_by_name():
    model = models.resnet20(in_channels=1)
    acts = viz.activations(model, np.zeros((1, 1, 32, 32)), ["layers.3.conv2", "layers.8"])
    assert acts["layers.3.conv2"].shape == (1, 32, 16, 16) and acts["layers.8"].shape == (
        1,
        64,
        8,
        8,
    )
