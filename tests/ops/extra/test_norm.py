"""local_response_norm: against the formula written as a loop over channels, and gradcheck."""

import numpy as np
import pytest
from helpers import check_op
from hypothesis import given, settings
from hypothesis import strategies as st

import minicnn
import minicnn.nn.functional as F
from minicnn import nn


def ref_lrn(x, size, alpha, beta, k):
    C = x.shape[1]
    y = np.empty_like(x)
    for c in range(C):
        lo, hi = max(0, c - size // 2), min(C, c + (size - 1) // 2 + 1)
        s = (x[:, lo:hi] ** 2).sum(axis=1)
        y[:, c] = x[:, c] / (k + alpha / size * s) ** beta
    return y


@settings(max_examples=15)
@given(C=st.integers(1, 5), size=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_local_response_norm(backend_name, C, size, seed):
    x = np.random.default_rng(seed).uniform(-2, 2, (2, C, 2, 1))
    fn = lambda t: F.local_response_norm(t, size, alpha=0.5, beta=0.75, k=1.0)  # noqa: E731
    check_op(fn, x, ref=lambda a: ref_lrn(a, size, 0.5, 0.75, 1.0))


def test_local_response_norm_layer(backend_name):
    layer = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)  # AlexNet's
    x = minicnn.randn(2, 8, 3, 3, dtype="float64")
    np.testing.assert_allclose(layer(x).numpy(), ref_lrn(x.numpy(), 5, 1e-4, 0.75, 2.0))
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layer(minicnn.zeros(2, 3))
