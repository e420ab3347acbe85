"""ArrayDataset: in-memory arrays as a dataset, indexing, transforms and validation."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn.data import (
    ArrayDataset,
)


def test_array_dataset_indexing_and_per_image_transform():
    data = np.arange(2 * 3 * 2 * 2, dtype=np.uint8).reshape(2, 3, 2, 2)
    ds = ArrayDataset(data, np.array([4, 7]), classes=list("abcdefgh"))
    image, label = ds[-1]
    np.testing.assert_array_equal(image, data[1])
    assert label == 7 and type(label) is int and len(ds) == 2
    flipped = ArrayDataset(data, np.array([4, 7]), transform=lambda im: im[:, :, ::-1])
    np.testing.assert_array_equal(flipped[0][0], data[0][:, :, ::-1])


def test_array_dataset_validates_its_arrays():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        ArrayDataset(np.zeros((2, 3, 4), np.uint8), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="targets: expected shape"):
        ArrayDataset(np.zeros((2, 1, 3, 4), np.uint8), np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="integer labels"):
        ArrayDataset(np.zeros((2, 1, 3, 4), np.uint8), np.zeros(2))
