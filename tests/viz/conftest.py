"""Fixtures of the viz tests: the shipped LeNet-5 on the current backend, and test digits."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import data, models


@pytest.fixture
def lenet(backend_name):
    """The shipped MNIST LeNet-5 (float32), on the backend under test."""
    return models.lenet5(weights="mnist")


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The first 100 digits of the embedded test sample as LeNet-5 inputs (100, 1, 32, 32)
    float32, and their labels (100,)."""
    ds = data.MNISTSample(train=False)
    entry = models.get_weights("lenet5", "mnist")
    return entry.preprocess(ds.data[:100]), ds.targets[:100].copy()


@pytest.fixture(scope="session")
def black() -> np.ndarray:
    """A black MNIST image as a LeNet-5 input (1, 1, 32, 32): the background value."""
    entry = models.get_weights("lenet5", "mnist")
    return entry.preprocess(np.zeros((1, 1, 28, 28), np.uint8))
