"""Pooling kernels of the reference backend: scalar-loop oracles written here, adjoints,
finite differences, and hand-computed windows and divisors."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from minicnn.kernels import numpy_ref as R
from strategies import (
    reference_adaptive_cases,
    reference_avgpool_cases,
    reference_maxpool_cases,
    with_specials,
)


def maxpool_oracle(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    """Max pooling one scalar at a time; first maximum in window order wins, or the last NaN."""
    N, C, H, W = x.shape
    y = np.zeros((N, C, OH, OW))
    idx = np.zeros((N, C, OH, OW), dtype=np.int64)
    for n, c, oh, ow in np.ndindex(N, C, OH, OW):
        best = None
        for kh in range(KH):
            for kw in range(KW):
                h, w = oh * SH - PH + kh * DH, ow * SW - PW + kw * DW
                if not (0 <= h < H and 0 <= w < W):
                    continue
                v = x[n, c, h, w]  # PyTorch's rule: a tap wins if v > best or v is NaN
                if best is None or v > best or np.isnan(v):
                    best, where = v, h * W + w
        y[n, c, oh, ow], idx[n, c, oh, ow] = best, where
    return y, idx


@settings(max_examples=50, deadline=None, derandomize=True)
@given(reference_maxpool_cases())
def test_maxpool_matches_oracle(case):
    x, _, geom, (OH, OW) = case
    y, idx = R.maxpool2d_forward(x, *geom, OH, OW)
    y_ref, idx_ref = maxpool_oracle(x, *geom, OH, OW)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    assert idx.dtype == np.int64


@settings(max_examples=40, deadline=None, derandomize=True)
@given(reference_maxpool_cases(), st.data())
def test_maxpool_with_nan_and_inf_matches_oracle(case, data):
    x, _, geom, (OH, OW) = case
    x = data.draw(with_specials(x, max_count=4))
    y, idx = R.maxpool2d_forward(x, *geom, OH, OW)
    y_ref, idx_ref = maxpool_oracle(x, *geom, OH, OW)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)


def test_adaptive_maxpool_picks_the_last_nan():
    x = np.array([1.0, np.nan, 3.0, np.nan, np.inf]).reshape(1, 1, 1, 5)
    y, idx = R.adaptive_maxpool2d_forward(x, 1, 2)  # windows [0, 3) and [2, 5)
    np.testing.assert_array_equal(y.ravel(), [np.nan, np.nan])
    np.testing.assert_array_equal(idx.ravel(), [1, 3])


def central_difference(f, a, eps):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + eps
        up = f(a)
        a[i] = old - eps
        down = f(a)
        a[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


@settings(max_examples=40, deadline=None, derandomize=True)
@given(reference_maxpool_cases(max_extra=4, max_channels=2, max_batch=1))
def test_maxpool_finite_differences(case):
    x, gy, geom, (OH, OW) = case
    H, W = x.shape[2:]
    x = x.copy()
    _, idx = R.maxpool2d_forward(x, *geom, OH, OW)
    gx = R.maxpool2d_backward(gy, idx, H, W, *geom)
    # values are 0.1 apart, so a 1e-3 nudge never changes which element wins
    numeric = central_difference(
        lambda v: np.vdot(R.maxpool2d_forward(v, *geom, OH, OW)[0], gy), x, 1e-3
    )
    np.testing.assert_allclose(gx, numeric, rtol=1e-9, atol=1e-9)


def test_maxpool_padding_never_wins():
    rng = np.random.default_rng(1)
    x = -1.0 - rng.random((2, 3, 5, 4))  # all negative: zero padding would win everywhere
    y, idx = R.maxpool2d_forward(x, 3, 3, 2, 2, 1, 1, 1, 1, 3, 2)
    y_ref, idx_ref = maxpool_oracle(x, 3, 3, 2, 2, 1, 1, 1, 1, 3, 2)
    assert (y < -1.0).all()
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    # the corner window covers rows {-1, 0, 1} x cols {-1, 0, 1}: its max is x[:, :, :2, :2]'s
    np.testing.assert_array_equal(y[:, :, 0, 0], x[:, :, :2, :2].max(axis=(2, 3)))


def test_maxpool_index_names_a_real_element_even_for_minus_infinity():
    # Padding is -inf too; a window whose real elements are all -inf must still pick one of
    # them, or the backward pass would send the gradient to a padding slot.
    x = np.full((1, 1, 2, 2), -np.inf)
    x[0, 0, 1, 1] = 1.0
    y, idx = R.maxpool2d_forward(x, 2, 2, 1, 1, 1, 1, 1, 1, 3, 3)
    np.testing.assert_array_equal(idx[0, 0], [[0, 0, 1], [0, 3, 3], [2, 3, 3]])
    assert y[0, 0, 0, 0] == -np.inf and y[0, 0, 1, 1] == 1.0
    gx = R.maxpool2d_backward(np.ones((1, 1, 3, 3)), idx, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1)
    np.testing.assert_array_equal(gx[0, 0], [[3.0, 1.0], [1.0, 4.0]])


def test_maxpool_window_past_padded_border():
    # H = W = 5, kernel 2, stride 2: floor mode gives 2 outputs, ceil mode 3. The third window
    # covers rows 4 and 5; row 5 does not exist, so the window is row 4 alone.
    x = np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5) * -1.0  # max is the first element
    y, idx = R.maxpool2d_forward(x, 2, 2, 2, 2, 0, 0, 1, 1, 3, 3)
    np.testing.assert_array_equal(y[0, 0], [[0, -2, -4], [-10, -12, -14], [-20, -22, -24]])
    np.testing.assert_array_equal(idx[0, 0], [[0, 2, 4], [10, 12, 14], [20, 22, 24]])
    gx = R.maxpool2d_backward(np.ones((1, 1, 3, 3)), idx, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1)
    assert gx.sum() == 9 and gx[0, 0, 4, 4] == 1


def test_maxpool_ties_pick_first_in_window_order():
    x = np.ones((1, 1, 3, 3))
    y, idx = R.maxpool2d_forward(x, 2, 2, 1, 1, 1, 1, 1, 1, 4, 4)
    # window (oh, ow) starts at (oh - 1, ow - 1); its first in-bounds tap is clipped at 0
    expected = [[max(oh - 1, 0) * 3 + max(ow - 1, 0) for ow in range(4)] for oh in range(4)]
    np.testing.assert_array_equal(idx[0, 0], expected)
    np.testing.assert_array_equal(y, 1.0)


def test_maxpool_backward_sums_overlapping_windows():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the centre is the max of all four overlapping 2x2 windows
    _, idx = R.maxpool2d_forward(x, 2, 2, 1, 1, 0, 0, 1, 1, 2, 2)
    gy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    gx = R.maxpool2d_backward(gy, idx, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    np.testing.assert_array_equal(gx, expected)


def avgpool_oracle(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad):
    """Average pooling one scalar at a time, with PyTorch's divisor rule."""
    N, C, H, W = x.shape
    y = np.zeros((N, C, OH, OW))
    for oh, ow in np.ndindex(OH, OW):
        hs, ws = oh * SH - PH, ow * SW - PW
        he, we = min(hs + KH, H + PH), min(ws + KW, W + PW)
        pool = (he - hs) * (we - ws)
        hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, H), min(we, W)
        if he <= hs or we <= ws:
            continue  # empty window: output 0
        div = pool if count_include_pad else (he - hs) * (we - ws)
        y[:, :, oh, ow] = x[:, :, hs:he, ws:we].sum(axis=(2, 3)) / div
    return y


@settings(max_examples=50, deadline=None, derandomize=True)
@given(reference_avgpool_cases())
def test_avgpool_matches_oracle_and_adjoint(case):
    x, gy, geom, (OH, OW), include = case
    H, W = x.shape[2:]
    y = R.avgpool2d_forward(x, *geom, OH, OW, include)
    np.testing.assert_allclose(y, avgpool_oracle(x, *geom, OH, OW, include), rtol=1e-12, atol=1e-14)
    # forward is linear in x, so backward must be its transpose: <A x, gy> = <x, A^T gy>
    gx = R.avgpool2d_backward(gy, H, W, *geom, include)
    np.testing.assert_allclose(np.vdot(y, gy), np.vdot(x, gx), rtol=1e-10, atol=1e-12)


def test_avgpool_divisors_by_hand():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    # kernel 3, stride 2, padding 1: rows [-1, 2) -> [0, 2) and [1, 4); the same for columns.
    # Window sums: [0:2, 0:2] = 10, [0:2, 1:4] = 24, [1:4, 0:2] = 51, [1:4, 1:4] = 90.
    y = R.avgpool2d_forward(x, 3, 3, 2, 2, 1, 1, 2, 2, 1)
    np.testing.assert_allclose(y[0, 0], [[10 / 9, 24 / 9], [51 / 9, 90 / 9]], rtol=1e-15)
    y = R.avgpool2d_forward(x, 3, 3, 2, 2, 1, 1, 2, 2, 0)
    np.testing.assert_allclose(y[0, 0], [[10 / 4, 24 / 6], [51 / 6, 90 / 9]], rtol=1e-15)
    # ceil mode adds a third row/column of windows starting at 3: [3, 6) is cut at H + PH = 5,
    # so with padding counted the corner divides by 2 * 2; without, by its one element x = 15.
    y = R.avgpool2d_forward(x, 3, 3, 2, 2, 1, 1, 3, 3, 1)
    assert y[0, 0, 2, 2] == 15 / 4
    assert y[0, 0, 0, 2] == (3 + 7) / 6  # rows [-1, 2) count 3, columns [3, 5) count 2
    y = R.avgpool2d_forward(x, 3, 3, 2, 2, 1, 1, 3, 3, 0)
    assert y[0, 0, 2, 2] == 15.0
    assert y[0, 0, 0, 2] == (3 + 7) / 2


def test_adaptive_windows_overlap_when_not_divisible():
    # H = 5, OH = 3 covers rows [0, 2), [1, 4), [3, 5); the same for 5 columns into 3.
    x = np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5)
    y = R.adaptive_avgpool2d_forward(x, 3, 3)
    bounds = [(0, 2), (1, 4), (3, 5)]
    expected = [[x[0, 0, a:b, c:d].mean() for c, d in bounds] for a, b in bounds]
    np.testing.assert_allclose(y[0, 0], expected, rtol=1e-15)
    col = np.array([0.0, 1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 5, 1)
    np.testing.assert_allclose(R.adaptive_avgpool2d_forward(col, 3, 1).ravel(), [0.5, 2.0, 3.5])
    y, idx = R.adaptive_maxpool2d_forward(col, 3, 1)
    np.testing.assert_array_equal(y.ravel(), [1.0, 3.0, 4.0])
    np.testing.assert_array_equal(idx.ravel(), [1, 3, 4])
    # row 1 belongs to two windows, so it receives two gradients
    gx = R.adaptive_avgpool2d_backward(np.ones((1, 1, 3, 1)), 5, 1)
    np.testing.assert_allclose(gx.ravel(), [1 / 2, 1 / 2 + 1 / 3, 1 / 3, 1 / 3 + 1 / 2, 1 / 2])


def test_adaptive_output_larger_than_input():
    # OH > H: windows [floor(i*2/3), ceil((i+1)*2/3)) = [0, 1), [0, 2), [1, 2)
    x = np.array([1.0, 3.0]).reshape(1, 1, 2, 1)
    np.testing.assert_allclose(R.adaptive_avgpool2d_forward(x, 3, 1).ravel(), [1.0, 2.0, 3.0])
    y, idx = R.adaptive_maxpool2d_forward(x, 3, 1)
    np.testing.assert_array_equal(idx.ravel(), [0, 1, 1])
    gx = R.adaptive_maxpool2d_backward(np.array([1.0, 2.0, 4.0]).reshape(1, 1, 3, 1), idx, 2, 1)
    np.testing.assert_array_equal(gx.ravel(), [1.0, 6.0])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(reference_adaptive_cases())
def test_adaptive_avgpool_adjoint(case):
    x, gy = case
    OH, OW = gy.shape[2:]
    H, W = x.shape[2:]
    y = R.adaptive_avgpool2d_forward(x, OH, OW)
    gx = R.adaptive_avgpool2d_backward(gy, H, W)
    np.testing.assert_allclose(np.vdot(y, gy), np.vdot(x, gx), rtol=1e-10, atol=1e-12)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(reference_adaptive_cases())
def test_adaptive_maxpool_finite_differences(case):
    x, gy = case
    x = x.copy()
    OH, OW = gy.shape[2:]
    H, W = x.shape[2:]
    y, idx = R.adaptive_maxpool2d_forward(x, OH, OW)
    # idx points at the value the forward pass returned
    picked = np.take_along_axis(x.reshape(*x.shape[:2], -1), idx.reshape(*idx.shape[:2], -1), 2)
    np.testing.assert_array_equal(picked.reshape(y.shape), y)
    gx = R.adaptive_maxpool2d_backward(gy, idx, H, W)
    numeric = central_difference(
        lambda v: np.vdot(R.adaptive_maxpool2d_forward(v, OH, OW)[0], gy), x, 1e-3
    )
    np.testing.assert_allclose(gx, numeric, rtol=1e-9, atol=1e-9)
