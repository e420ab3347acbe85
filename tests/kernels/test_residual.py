"""The residual join of the fast backends against numpy_ref: y = x + shortcut (then ReLU) and
the gradient both inputs receive, equal to the last bit; a NaN in x stays NaN through the ReLU
and gets gradient 0, as in PyTorch."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from minicnn.kernels import numpy_ref as R
from strategies import DTYPES


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    dtype=DTYPES,
    shape=st.lists(st.integers(1, 9), min_size=1, max_size=4),
    relu=st.sampled_from([0, 1]),
    seed=st.integers(0, 2**32 - 1),
)
def test_residual_add_parity(fast_backend, dtype, shape, relu, seed):
    rng = np.random.default_rng(seed)
    x, shortcut, gy = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    x[(0,) * len(shape)] = np.nan  # relu keeps NaN, and its gradient there is 0, as PyTorch
    y = fast_backend.run("residual_add_forward", x, shortcut, relu)
    fast_backend.assert_equal(y, R.residual_add_forward(x, shortcut, relu), "forward")
    fast_backend.assert_equal(
        fast_backend.run("residual_add_backward", gy, y, relu),
        R.residual_add_backward(gy, y, relu),
        "backward",
    )
