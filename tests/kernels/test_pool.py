"""Pooling kernels of the fast backends against numpy_ref: max (with dilation, ceil mode, ties
and NaN), average (both divisor rules) and adaptive pooling, forward and backward.

Max pooling's outputs and indices, and adaptive max pooling's, must be equal: choosing an
element is not arithmetic. Inputs with ties check the first-maximum rule; inputs with NaN check
that a window's last NaN wins, as in PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from minicnn.kernels import numpy_ref as R
from strategies import kernel_adaptive_cases, kernel_pool_cases


def check_maxpool2d(fb, case, every_window_on_the_input: bool = False):
    x, gy, dt = case["x"], case["gy"], case["dtype"]
    H, W = x.shape[2:]
    geom = (*case["k"], *case["d"])
    y_ref, idx_ref = R.maxpool2d_forward(x, *geom, *case["out"])
    if every_window_on_the_input:
        assume((idx_ref >= 0).all())  # every window holds an input element (the contract's premise)
    y, idx = fb.run("maxpool2d_forward", x, *geom, *case["out"])
    fb.assert_equal(y, y_ref, "y")
    assert idx.dtype == np.int64
    fb.assert_equal(idx, idx_ref, "idx")
    fb.assert_close(
        fb.run("maxpool2d_backward", gy, idx_ref, H, W, *geom),
        R.maxpool2d_backward(gy, idx_ref, H, W, *geom),
        dt,
        "backward",
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf + -inf in the inputs
@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=kernel_pool_cases())
def test_maxpool2d_parity(fast_backend, case):
    check_maxpool2d(fast_backend, case)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(max_examples=30, deadline=None, derandomize=True)
@given(case=kernel_pool_cases(distinct=True))
def test_maxpool2d_parity_padding_past_half_the_kernel(fast_backend, case):
    check_maxpool2d(fast_backend, case, every_window_on_the_input=True)


def test_maxpool2d_ties_pick_first_in_window_order(fast_backend):
    # All-equal input: every window's first in-bounds tap (kh outer, kw inner) wins.
    x = np.ones((1, 1, 3, 4))
    y, idx = fast_backend.run("maxpool2d_forward", x, 2, 2, 1, 2, 1, 1, 1, 1, 4, 3)
    # window (oh, ow) covers rows oh-1 .. oh and columns 2*ow-1 .. 2*ow; its first in-bounds tap
    # is the top-left one clipped to the input
    expected = [[max(oh - 1, 0) * 4 + max(2 * ow - 1, 0) for ow in range(3)] for oh in range(4)]
    np.testing.assert_array_equal(idx[0, 0], expected)
    np.testing.assert_array_equal(y, np.ones((1, 1, 4, 3)))
    # Each window routes its gradient to its own first element; overlaps add up.
    gx = fast_backend.run(
        "maxpool2d_backward", np.ones((1, 1, 4, 3)), idx, 3, 4, 2, 2, 1, 2, 1, 1, 1, 1
    )
    counts = np.zeros(12)
    np.add.at(counts, np.array(expected).ravel(), 1.0)
    np.testing.assert_array_equal(gx[0, 0], counts.reshape(3, 4))


def check_avgpool2d(fb, case, count_include_pad):
    x, gy, dt = case["x"], case["gy"], case["dtype"]
    H, W = x.shape[2:]
    k, out = case["k"], case["out"]
    fb.assert_close(
        fb.run("avgpool2d_forward", x, *k, *out, count_include_pad),
        R.avgpool2d_forward(x, *k, *out, count_include_pad),
        dt,
        "forward",
    )
    fb.assert_close(
        fb.run("avgpool2d_backward", gy, H, W, *k, count_include_pad),
        R.avgpool2d_backward(gy, H, W, *k, count_include_pad),
        dt,
        "backward",
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf + -inf in the inputs
@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=kernel_pool_cases(dilation=False), count_include_pad=st.sampled_from([0, 1]))
def test_avgpool2d_parity(fast_backend, case, count_include_pad):
    check_avgpool2d(fast_backend, case, count_include_pad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    case=kernel_pool_cases(dilation=False, distinct=True),
    count_include_pad=st.sampled_from([0, 1]),
)
def test_avgpool2d_parity_padding_past_half_the_kernel(fast_backend, case, count_include_pad):
    check_avgpool2d(fast_backend, case, count_include_pad)


def check_adaptive(fb, case):
    x, gy, dt = case["x"], case["gy"], case["dtype"]
    H, W = x.shape[2:]
    OH, OW = gy.shape[2:]
    fb.assert_close(
        fb.run("adaptive_avgpool2d_forward", x, OH, OW),
        R.adaptive_avgpool2d_forward(x, OH, OW),
        dt,
        "avg forward",
    )
    fb.assert_close(
        fb.run("adaptive_avgpool2d_backward", gy, H, W),
        R.adaptive_avgpool2d_backward(gy, H, W),
        dt,
        "avg backward",
    )
    y, idx = fb.run("adaptive_maxpool2d_forward", x, OH, OW)
    y_ref, idx_ref = R.adaptive_maxpool2d_forward(x, OH, OW)
    fb.assert_equal(y, y_ref, "max y")
    assert idx.dtype == np.int64
    fb.assert_equal(idx, idx_ref, "max idx")
    fb.assert_close(
        fb.run("adaptive_maxpool2d_backward", gy, idx_ref, H, W),
        R.adaptive_maxpool2d_backward(gy, idx_ref, H, W),
        dt,
        "max backward",
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf + -inf in the inputs
@settings(max_examples=30, deadline=None, derandomize=True)
@given(case=kernel_adaptive_cases())
def test_adaptive_pool_parity(fast_backend, case):
    check_adaptive(fast_backend, case)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(max_examples=30, deadline=None, derandomize=True)
@given(case=kernel_adaptive_cases(distinct=True))
def test_adaptive_pool_parity_more_cells_than_inputs(fast_backend, case):
    check_adaptive(fast_backend, case)
