"""The address table of the CUDA foreach kernels, built on any machine: the launcher's table
read back as ``optim.cu`` reads it (the same binary search, written in Python) must map every
element of the list's concatenation to its own array and index, once, in order."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minicnn.kernels.cuda import optim


class FakeDeviceArray:
    """What the table needs of a cupy array: size, dtype and data.ptr."""

    def __init__(self, size: int, ptr: int, dtype=np.float32) -> None:
        self.size, self.dtype, self.data = size, np.dtype(dtype), SimpleNamespace(ptr=ptr)


def list_index(start: np.ndarray, count: int, i: int) -> int:
    """optim.cu's list_index: the last t < count with start[t] <= i."""
    lo, hi = 0, count - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if start[mid] <= i:
            lo = mid
        else:
            hi = mid - 1
    return lo


@pytest.fixture(autouse=True)
def host_copy(monkeypatch):
    """The table's upload: a host array stands in for the GPU copy."""
    monkeypatch.setattr(optim, "import_cupy", lambda: SimpleNamespace(asarray=np.asarray))


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=8), st.integers(1, 5))
def test_every_element_maps_to_its_array_and_index(sizes, lists):
    arrays = [
        [FakeDeviceArray(n, 1000 * (k + 1) + t) for t, n in enumerate(sizes)] for k in range(lists)
    ]
    table, total = optim._address_table("test", *arrays)
    assert total == sum(sizes)
    if total == 0:
        assert table is None
        return
    count = len(sizes)
    start = table[lists * count :]
    assert start.tolist() == np.concatenate(([0], np.cumsum(sizes))).tolist()
    seen = []
    for i in range(total):
        t = list_index(start, count, i)
        for k in range(lists):  # list k's address of element t, as the kernels read it
            assert table[k * count + t] == 1000 * (k + 1) + t
        seen.append((t, i - start[t]))
    assert seen == [(t, j) for t, n in enumerate(sizes) for j in range(n)]


@pytest.mark.parametrize(
    "lists",
    [
        [[FakeDeviceArray(3, 1)], [FakeDeviceArray(3, 2, np.float64)]],  # mixed dtypes
        [[FakeDeviceArray(3, 1)], [FakeDeviceArray(4, 2)]],  # sizes differ at an index
        [[FakeDeviceArray(3, 1), FakeDeviceArray(2, 3)], [FakeDeviceArray(3, 2)]],  # lengths
    ],
)
def test_mismatched_lists_are_refused(lists):
    with pytest.raises(ValueError, match="test: expected lists of one length and dtype"):
        optim._address_table("test", *lists)
