"""The dropout mask of the fast backends is bit-identical to numpy_ref's for the same seed, at
any shape (empty too), probability (0 and 1 included) and seed (near 0 and near 2**63)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from minicnn.kernels import numpy_ref as R


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    shape=st.lists(st.integers(1, 7), min_size=1, max_size=4).map(tuple),
    p=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**63 - 1),
)
def test_dropout_mask_is_bit_identical(fast_backend, shape, p, seed):
    mask = fast_backend.run("dropout_mask", shape, p, seed)
    assert mask.dtype == np.uint8 and mask.shape == shape
    fast_backend.assert_equal(mask, R.dropout_mask(shape, p, seed))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    shape=st.lists(st.integers(0, 40), min_size=1, max_size=3).map(tuple),
    p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0, 1 / 3]),
    seed=st.one_of(st.integers(0, 2**16), st.integers(2**63 - 2**16, 2**63 - 1)),
)
def test_dropout_mask_is_bit_identical_at_the_edges(fast_backend, shape, p, seed):
    fast_backend.assert_equal(
        fast_backend.run("dropout_mask", shape, p, seed), R.dropout_mask(shape, p, seed)
    )


def test_dropout_mask_large_and_extreme(fast_backend):
    # Big enough that every thread takes a share; p = 0 keeps all, p = 1 drops all.
    shape = (64, 16, 32, 32)
    fast_backend.assert_equal(
        fast_backend.run("dropout_mask", shape, 0.3, 12345), R.dropout_mask(shape, 0.3, 12345)
    )
    assert fast_backend.run("dropout_mask", (5, 5), 0.0, 7).all()
    assert not fast_backend.run("dropout_mask", (5, 5), 1.0, 7).any()
