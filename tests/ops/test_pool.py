"""Pooling: gradcheck and forward against scalar loops written here on hypothesis-drawn
geometry, output sizes in ceil mode, padding that never wins, ties, divisors, adaptive pooling,
and argument errors raised before any kernel runs."""

import math

import numpy as np
import pytest
from helpers import check_op
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    PoolCase,
    adaptive_cases,
    as_tensor,
    distinct_grid,
    fast_mode,
    host,
    pool_cases,
    seeds,
    uniform,
    with_specials,
)

import minicnn
import minicnn.nn.functional as F


def maxpool_loop(x: np.ndarray, c: PoolCase) -> tuple[np.ndarray, np.ndarray]:
    """Max over the in-bounds taps of each window; the first maximum in window order wins.
    PyTorch's kernels keep a tap when ``v > best or isnan(v)``: NaN wins, the last NaN most."""
    N, C, H, W = x.shape
    OH, OW = c.out_hw
    y = np.empty((N, C, OH, OW), x.dtype)
    idx = np.empty((N, C, OH, OW), np.int64)
    for n, ch, oh, ow in np.ndindex(N, C, OH, OW):
        best = None
        for kh in range(c.KH):
            for kw in range(c.KW):
                h, w = oh * c.SH - c.PH + kh * c.DH, ow * c.SW - c.PW + kw * c.DW
                if not (0 <= h < H and 0 <= w < W):
                    continue
                v = x[n, ch, h, w]
                if best is None or v > best or np.isnan(v):
                    best, where = v, h * W + w
        y[n, ch, oh, ow], idx[n, ch, oh, ow] = best, where
    return y, idx


def avgpool_loop(x: np.ndarray, c: PoolCase, count_include_pad: bool) -> np.ndarray:
    """PyTorch's rule: the window [start, start + K) is cut at the end of the right padding
    (L + P) for the padded count, and at the input for the in-bounds count."""
    N, C, H, W = x.shape
    OH, OW = c.out_hw
    y = np.empty((N, C, OH, OW), x.dtype)
    for oh, ow in np.ndindex(OH, OW):
        h0, w0 = oh * c.SH - c.PH, ow * c.SW - c.PW
        h1, w1 = min(h0 + c.KH, H + c.PH), min(w0 + c.KW, W + c.PW)
        padded = (h1 - h0) * (w1 - w0)
        h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
        inside = (h1 - h0) * (w1 - w0)
        total = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3))
        y[:, :, oh, ow] = total / (padded if count_include_pad else inside)
    return y


def adaptive_windows(O: int, L: int) -> list[tuple[int, int]]:
    """Output cell i covers [floor(i*L/O), ceil((i+1)*L/O))."""
    return [(math.floor(i * L / O), math.ceil((i + 1) * L / O)) for i in range(O)]


def adaptive_max_loop(x: np.ndarray, OH: int, OW: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive max pooling one window at a time, with max pooling's rule (NaN wins)."""
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), x.dtype)
    idx = np.empty((N, C, OH, OW), np.int64)
    for n, ch in np.ndindex(N, C):
        for i, (h0, h1) in enumerate(adaptive_windows(OH, H)):
            for j, (w0, w1) in enumerate(adaptive_windows(OW, W)):
                best = None
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        v = x[n, ch, h, w]
                        if best is None or v > best or np.isnan(v):
                            best, where = v, h * W + w
                y[n, ch, i, j], idx[n, ch, i, j] = best, where
    return y, idx


def adaptive_loop(x: np.ndarray, OH: int, OW: int, reduce: str) -> np.ndarray:
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), x.dtype)
    for i, (h0, h1) in enumerate(adaptive_windows(OH, H)):
        for j, (w0, w1) in enumerate(adaptive_windows(OW, W)):
            y[:, :, i, j] = getattr(x[:, :, h0:h1, w0:w1], reduce)(axis=(2, 3))
    return y


# Gradcheck on drawn geometry.


@settings(max_examples=25)
@given(case=pool_cases(), seed=seeds())
def test_max_pool2d_gradcheck(backend_name, case, seed):
    x = distinct_grid(seed, case.x_shape)  # no ties, so each window's winner is stable under eps
    check_op(
        lambda x: F.max_pool2d(x, **case.kwargs()),
        x,
        ref=lambda x: maxpool_loop(x, case)[0],
        fast_mode=fast_mode([case.x_shape], case.y_shape),
    )


@pytest.mark.parametrize("count_include_pad", [True, False])
@settings(max_examples=20)
@given(case=pool_cases(max_dilation=1), seed=seeds())
def test_avg_pool2d_gradcheck(backend_name, count_include_pad, case, seed):
    x = uniform(seed, case.x_shape)
    check_op(
        lambda x: F.avg_pool2d(
            x, **case.kwargs(dilation=False), count_include_pad=count_include_pad
        ),
        x,
        ref=lambda x: avgpool_loop(x, case, count_include_pad),
        fast_mode=fast_mode([case.x_shape], case.y_shape),
    )


@settings(max_examples=20)
@given(case=adaptive_cases(), seed=seeds())
def test_adaptive_avg_pool2d_gradcheck(backend_name, case, seed):
    shape, (OH, OW) = case
    check_op(
        lambda x: F.adaptive_avg_pool2d(x, (OH, OW)),
        uniform(seed, shape),
        ref=lambda x: adaptive_loop(x, OH, OW, "mean"),
        fast_mode=fast_mode([shape], shape[:2] + (OH, OW)),
    )


@settings(max_examples=20)
@given(case=adaptive_cases(), seed=seeds())
def test_adaptive_max_pool2d_gradcheck(backend_name, case, seed):
    shape, (OH, OW) = case
    check_op(
        lambda x: F.adaptive_max_pool2d(x, (OH, OW)),
        distinct_grid(seed, shape),
        ref=lambda x: adaptive_loop(x, OH, OW, "max"),
        fast_mode=fast_mode([shape], shape[:2] + (OH, OW)),
    )


# Forward against the loops, float32 and float64.


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=20)
@given(case=pool_cases(max_dilation=3, max_elements=150), seed=seeds())
def test_max_pool2d_forward_and_indices_match_loop(backend_name, dtype, case, seed):
    x = distinct_grid(seed, case.x_shape).astype(dtype)
    y, idx = F.max_pool2d(as_tensor(x), **case.kwargs(), return_indices=True)
    y_ref, idx_ref = maxpool_loop(x, case)
    assert y.dtype == dtype and y.backend == backend_name
    np.testing.assert_array_equal(host(y), y_ref)  # a max is exact
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(host(idx), idx_ref)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("count_include_pad", [True, False])
@settings(max_examples=20)
@given(case=pool_cases(max_dilation=1, max_elements=150), seed=seeds())
def test_avg_pool2d_forward_matches_loop(backend_name, dtype, rtol, count_include_pad, case, seed):
    x = uniform(seed, case.x_shape).astype(dtype)
    kwargs = case.kwargs(dilation=False)
    y = F.avg_pool2d(as_tensor(x), **kwargs, count_include_pad=count_include_pad)
    assert y.dtype == dtype
    expected = avgpool_loop(x.astype(np.float64), case, count_include_pad)
    np.testing.assert_allclose(host(y), expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@settings(max_examples=20)
@given(case=adaptive_cases(), seed=seeds())
def test_adaptive_pools_forward_match_loop(backend_name, dtype, rtol, case, seed):
    shape, (OH, OW) = case
    x = distinct_grid(seed, shape).astype(dtype)
    avg = F.adaptive_avg_pool2d(as_tensor(x), (OH, OW))
    mx, idx = F.adaptive_max_pool2d(as_tensor(x), (OH, OW), return_indices=True)
    assert avg.shape == mx.shape == shape[:2] + (OH, OW)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(host(avg), adaptive_loop(x64, OH, OW, "mean"), rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(host(mx), adaptive_loop(x, OH, OW, "max"))
    # idx names the element holding the max: h * W + w within its plane
    flat = x.reshape(shape[0], shape[1], -1)
    picked = np.take_along_axis(flat, host(idx).reshape(shape[0], shape[1], -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(host(mx).shape), host(mx))


# NaN, inf and -inf, and empty batches: PyTorch's results on every backend.


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # sums of inf and -inf
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=25)
@given(case=pool_cases(max_dilation=3, max_elements=150, min_batch=0), seed=seeds(), data=st.data())
def test_max_pool2d_with_nan_and_inf_matches_pytorchs_rule(backend_name, dtype, case, seed, data):
    x = data.draw(with_specials(distinct_grid(seed, case.x_shape).astype(dtype), max_count=4))
    xt = as_tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(xt, **case.kwargs(), return_indices=True)
    y_ref, idx_ref = maxpool_loop(x, case)
    np.testing.assert_array_equal(host(y), y_ref)  # NaN where the window holds one
    np.testing.assert_array_equal(host(idx), idx_ref)  # at its last NaN, as PyTorch
    y.sum().backward()  # each window's gradient goes to the element its index names
    expected = np.zeros(x.size)
    planes = np.arange(case.N * case.C).reshape(case.N, case.C, 1, 1) * (case.H * case.W)
    np.add.at(expected, (idx_ref + planes).ravel(), 1.0)
    np.testing.assert_array_equal(host(xt.grad), expected.reshape(x.shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=20)
@given(case=adaptive_cases(), seed=seeds(), data=st.data())
def test_adaptive_max_pool2d_with_nan_and_inf_matches_pytorchs_rule(
    backend_name, dtype, case, seed, data
):
    shape, (OH, OW) = case
    x = data.draw(with_specials(distinct_grid(seed, shape).astype(dtype), max_count=4))
    y, idx = F.adaptive_max_pool2d(as_tensor(x), (OH, OW), return_indices=True)
    y_ref, idx_ref = adaptive_max_loop(x, OH, OW)
    np.testing.assert_array_equal(host(y), y_ref)
    np.testing.assert_array_equal(host(idx), idx_ref)


def test_max_pool_nan_window_as_pytorch(backend_name):
    """max_pool2d over [1, nan, 0.5, 0.2] is nan (not 1.0), with the index of the NaN; of two
    NaNs the later one in window order is picked (PyTorch: v > best || isnan(v))."""
    x = as_tensor(np.array([[[[1.0, np.nan], [0.5, 0.2]], [[np.nan, 1.0], [np.nan, 2.0]]]]))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert np.isnan(host(y)).all()
    np.testing.assert_array_equal(host(idx).ravel(), [1, 2])
    y, idx = F.adaptive_max_pool2d(as_tensor(np.array([[[1.0, np.nan]]])), 1, True)
    assert np.isnan(host(y)).all() and host(idx).ravel().tolist() == [1]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # sums of inf and -inf
def test_pools_with_infinities(backend_name):
    x = np.array([[[[np.inf, 1.0], [2.0, 3.0]], [[-np.inf, -np.inf], [-np.inf, -np.inf]]]])
    y, idx = F.max_pool2d(as_tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(host(y).ravel(), [np.inf, -np.inf])
    np.testing.assert_array_equal(host(idx).ravel(), [0, 0])  # an all -inf window: its first
    avg = host(F.avg_pool2d(as_tensor(x), 2)).ravel()
    np.testing.assert_array_equal(avg, [np.inf, -np.inf])
    both = np.array([[[[np.inf, -np.inf], [1.0, 2.0]]]])  # inf + -inf = nan
    assert np.isnan(host(F.avg_pool2d(as_tensor(both), 2))).all()
    assert np.isnan(host(F.adaptive_avg_pool2d(as_tensor(both), 1))).all()


@pytest.mark.parametrize(
    "pool",
    [
        lambda x: F.max_pool2d(x, 2, padding=1),
        lambda x: F.avg_pool2d(x, 3, stride=2, ceil_mode=True),
        lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
        lambda x: F.adaptive_max_pool2d(x, 3),
    ],
    ids=["max", "avg", "adaptive_avg", "adaptive_max"],
)
def test_pools_of_an_empty_batch_are_empty(backend_name, pool):
    x = as_tensor(np.zeros((0, 2, 5, 5)), requires_grad=True)
    y = pool(x)
    assert y.shape[:2] == (0, 2) and y.numel() == 0
    y.sum().backward()
    assert x.grad.shape == (0, 2, 5, 5)


# Output sizes in ceil mode, checked against sizes worked out by hand.


# (H, K, S, P, D, ceil_mode, expected OH)
OUTPUT_SIZES = [
    (5, 2, 2, 0, 1, False, 2),
    (5, 2, 2, 0, 1, True, 3),  # the third window hangs over the bottom edge: row 4 alone
    (6, 3, 3, 1, 1, False, 2),
    (6, 3, 3, 1, 1, True, 3),  # starts -1, 2, 5: the last holds row 5 and the padding row 6
    (3, 2, 2, 1, 1, True, 2),  # a third window would start at row 3, in the right padding
    (5, 3, 3, 1, 1, True, 2),  # a third window would start at row 5, in the right padding
    (7, 2, 4, 1, 1, True, 2),  # a third window would start at row 7, in the right padding
    (8, 3, 3, 0, 1, False, 2),
    (8, 3, 3, 0, 1, True, 3),  # starts 0, 3, 6: the last holds rows 6, 7
    (4, 3, 2, 1, 1, True, 3),
    (6, 2, 2, 1, 2, False, 3),
    (6, 2, 2, 1, 2, True, 4),  # taps (5, 7): row 5 is real
    (1, 1, 2, 0, 1, True, 1),
]


@pytest.mark.parametrize("H, K, S, P, D, ceil_mode, expected", OUTPUT_SIZES)
def test_output_size_by_hand(backend_name, H, K, S, P, D, ceil_mode, expected):
    x = as_tensor(uniform(0, (1, 1, H, 3)))
    xt = as_tensor(uniform(0, (1, 1, 3, H)))
    # the hand-computed axis as height, then as width (the other axis: kernel 1, stride 1)
    y = F.max_pool2d(x, (K, 1), (S, 1), (P, 0), (D, 1), ceil_mode=ceil_mode)
    yt = F.max_pool2d(xt, (1, K), (1, S), (0, P), (1, D), ceil_mode=ceil_mode)
    assert y.shape == (1, 1, expected, 3) and yt.shape == (1, 1, 3, expected)
    if D == 1:
        for cip in (True, False):
            a = F.avg_pool2d(x, (K, 1), (S, 1), (P, 0), ceil_mode, count_include_pad=cip)
            assert a.shape == (1, 1, expected, 3)


def test_ceil_mode_last_window_hangs_over_the_edge(backend_name):
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    y = F.max_pool2d(as_tensor(x), 2, 2, ceil_mode=True)
    np.testing.assert_array_equal(host(y)[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    for cip in (True, False):  # the last window is cut at the input: divisor 2 or 1, not 4
        a = F.avg_pool2d(as_tensor(x), 2, 2, ceil_mode=True, count_include_pad=cip)
        np.testing.assert_allclose(host(a)[0, 0, 2], [20.5, 22.5, 24.0])
        np.testing.assert_allclose(host(a)[0, 0, :, 2], [6.5, 16.5, 24.0])


# Padding never wins a max.


def test_all_negative_input_with_padding_returns_true_window_max(backend_name):
    x = -1.0 - np.abs(distinct_grid(3, (2, 3, 5, 4))) - 0.05  # every value below -1, no ties
    c = PoolCase(2, 3, 5, 4, 3, 3, 2, 2, 1, 1, 1, 1, False)
    y, idx = F.max_pool2d(as_tensor(x), 3, 2, 1, return_indices=True)
    y_ref, idx_ref = maxpool_loop(x, c)
    assert (host(y) < -1.0).all()  # neither the zero nor the -inf of the padding
    np.testing.assert_array_equal(host(y), y_ref)
    np.testing.assert_array_equal(host(idx), idx_ref)
    # the corner window covers rows {-1, 0, 1} x cols {-1, 0, 1}: x[:2, :2] is all it holds
    np.testing.assert_array_equal(host(y)[:, :, 0, 0], x[:, :, :2, :2].max(axis=(2, 3)))


def test_all_negative_input_gradient_stays_on_the_input(backend_name):
    x = as_tensor(-1.0 - np.abs(distinct_grid(4, (1, 2, 4, 4))) - 0.05, requires_grad=True)
    y = F.max_pool2d(x, 2, 2, 1, ceil_mode=True)
    y.backward(minicnn.ones(*y.shape, dtype="float64"))
    assert host(x.grad).sum() == y.numel()  # every window's gradient reached a real element


# Ties: the gradient goes to exactly one element, the first in window order.


def test_max_pool_tie_sends_gradient_to_first_element_of_each_window(backend_name):
    x = as_tensor(np.ones((1, 2, 4, 6)), requires_grad=True)
    y, idx = F.max_pool2d(x, 2, 2, return_indices=True)
    gy = np.arange(1.0, 1.0 + y.numel()).reshape(y.shape)
    y.backward(as_tensor(gy))
    gx = host(x.grad)
    assert gx.sum() == gy.sum()
    windows = gx.reshape(1, 2, 2, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5)  # (.., OH, OW, KH, KW)
    assert ((windows != 0).sum(axis=(4, 5)) == 1).all()  # one element per window
    np.testing.assert_array_equal(gx[:, :, ::2, ::2], gy)  # ... the window's top-left one
    rows, cols = np.meshgrid(np.arange(2) * 2, np.arange(3) * 2, indexing="ij")
    np.testing.assert_array_equal(host(idx)[0, 0], rows * 6 + cols)


def test_max_pool_tie_with_overlap_and_padding(backend_name):
    x = as_tensor(np.full((1, 1, 3, 3), -2.0), requires_grad=True)
    y, idx = F.max_pool2d(x, 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(host(y), -2.0)
    # window (i, j) starts at (i - 1, j - 1); its first real element is (max(i-1, 0), max(j-1, 0))
    first = np.maximum(np.arange(3) - 1, 0)
    np.testing.assert_array_equal(host(idx)[0, 0], first[:, None] * 3 + first[None, :])
    y.backward(minicnn.ones(1, 1, 3, 3, dtype="float64"))
    np.testing.assert_array_equal(host(x.grad)[0, 0], [[4, 2, 0], [2, 1, 0], [0, 0, 0]])


def test_adaptive_max_pool_tie_goes_to_one_element(backend_name):
    x = as_tensor(np.zeros((1, 1, 4, 4)), requires_grad=True)
    y = F.adaptive_max_pool2d(x, 2)
    y.backward(minicnn.ones(1, 1, 2, 2, dtype="float64"))
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(host(x.grad)[0, 0], expected)


# Indices, divisors, adaptive pooling.


def test_return_indices_are_flat_h_times_w_plus_w(backend_name):
    x = np.zeros((2, 3, 4, 5))
    x[:, :, 3, 4] = 1.0  # the max of the last window sits at (3, 4)
    x[:, :, 0, 1] = 2.0
    y, idx = F.max_pool2d(as_tensor(x), 2, 2, ceil_mode=True, return_indices=True)
    assert idx.shape == (2, 3, 2, 3)
    assert (host(idx)[:, :, 0, 0] == 0 * 5 + 1).all()
    assert (host(idx)[:, :, 1, 2] == 3 * 5 + 4).all()
    # unbatched (C, H, W) input gives (C, OH, OW) values and indices
    y1, idx1 = F.max_pool2d(as_tensor(x[0]), 2, 2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(host(idx1), host(idx)[0])
    np.testing.assert_array_equal(host(y1), host(y)[0])


def test_avg_pool_divisors_by_hand(backend_name):
    ones = as_tensor(np.ones((1, 1, 3, 3)))
    # kernel 2, stride 1, padding 1: windows start at -1, 0, 1, 2 and hold 1, 2, 2, 1 real rows
    real = np.array([1.0, 2.0, 2.0, 1.0])
    with_pad = F.avg_pool2d(ones, 2, 1, 1, count_include_pad=True)
    np.testing.assert_allclose(host(with_pad)[0, 0], np.outer(real, real) / 4)
    np.testing.assert_allclose(host(F.avg_pool2d(ones, 2, 1, 1, count_include_pad=False)), 1.0)

    x = as_tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    # kernel 3, stride 2, padding 1, ceil: windows start at -1, 1, 3; cut at 4 + 1 = 5 they
    # span 3, 3, 2 padded rows and hold 2, 3, 1 real ones
    inc = host(F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True))[0, 0]
    exc = host(F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False))[0, 0]
    assert inc.shape == exc.shape == (3, 3)
    np.testing.assert_allclose([inc[0, 0], exc[0, 0]], [(0 + 1 + 4 + 5) / 9, (0 + 1 + 4 + 5) / 4])
    np.testing.assert_allclose([inc[2, 2], exc[2, 2]], [15 / 4, 15 / 1])
    np.testing.assert_allclose([inc[1, 2], exc[1, 2]], [(7 + 11 + 15) / 6, (7 + 11 + 15) / 3])


def test_global_average_pooling_is_the_mean(backend_name):
    x = uniform(5, (3, 4, 5, 7))
    y = F.adaptive_avg_pool2d(as_tensor(x), 1)
    assert y.shape == (3, 4, 1, 1)
    np.testing.assert_allclose(host(y)[:, :, 0, 0], x.mean(axis=(2, 3)), rtol=1e-12)
    m = F.adaptive_max_pool2d(as_tensor(x), 1)
    np.testing.assert_array_equal(host(m)[:, :, 0, 0], x.max(axis=(2, 3)))


def test_adaptive_pool_to_the_input_size_is_the_identity(backend_name):
    x = uniform(6, (2, 3, 4, 5))
    np.testing.assert_allclose(host(F.adaptive_avg_pool2d(as_tensor(x), (4, 5))), x, rtol=1e-15)
    np.testing.assert_array_equal(host(F.adaptive_max_pool2d(as_tensor(x), (4, None))), x)


def test_adaptive_pool_larger_than_input_repeats_elements(backend_name):
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    y = F.adaptive_avg_pool2d(as_tensor(x), 3)
    # 3 cells over 2 rows: windows [0, 1), [0, 2), [1, 2)
    np.testing.assert_allclose(host(y)[0, 0], [[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]])


def test_unbatched_input_gives_unbatched_output(backend_name):
    x = uniform(8, (2, 5, 4))
    batched = as_tensor(x[None])
    for op, args in [
        (F.max_pool2d, (2,)),
        (F.avg_pool2d, (3, 1, 1)),
        (F.adaptive_avg_pool2d, (3,)),
        (F.adaptive_max_pool2d, (3,)),
    ]:
        y = op(as_tensor(x), *args)
        np.testing.assert_array_equal(host(y), host(op(batched, *args))[0])


@pytest.mark.parametrize(
    "op, args",
    [
        (F.max_pool2d, (3, 2, 1)),
        (F.avg_pool2d, (3, 2, 1, True)),
        (F.adaptive_avg_pool2d, ((4, 2),)),
        (F.adaptive_max_pool2d, ((4, 2),)),
    ],
)
def test_non_contiguous_input_and_gradient(backend_name, op, args):
    x = distinct_grid(10, (2, 3, 5, 6))
    gy_shape = op(as_tensor(x), *args).shape
    gy = uniform(11, gy_shape[::-1]).transpose(3, 2, 1, 0)  # non-contiguous
    grads = []
    for view in (False, True):
        if view:  # the same values, reached through a transposed view
            leaf = as_tensor(x.transpose(0, 1, 3, 2).copy(), requires_grad=True)
            xt = minicnn.transpose(leaf, 2, 3)
            assert not xt.array.flags["C_CONTIGUOUS"]
        else:
            leaf = xt = as_tensor(x, requires_grad=True)
        y = op(xt, *args)
        y.backward(as_tensor(gy))
        g = host(leaf.grad)
        grads.append((host(y), g.transpose(0, 1, 3, 2) if view else g))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-14, atol=1e-15)


def test_window_wholly_in_padding_is_rejected(backend_name):
    # H = 2, kernel 2, dilation 3, padding 1: the one window along H taps rows -1 and 2, which
    # are both padding, although the kernel (span 4) fits the padded input (2 + 2*1).
    x = as_tensor(uniform(9, (1, 1, 2, 4)))
    with pytest.raises(ValueError, match=r"max_pool2d: .*(dilation|padding)"):
        F.max_pool2d(x, 2, stride=1, padding=1, dilation=3)


def test_pooling_keeps_float32(backend_name):
    x = as_tensor(uniform(7, (1, 2, 4, 4)).astype(np.float32))
    for y in (
        F.max_pool2d(x, 2),
        F.avg_pool2d(x, 2),
        F.adaptive_avg_pool2d(x, 3),
        F.adaptive_max_pool2d(x, 3),
    ):
        assert y.dtype == np.float32 and y.backend == backend_name


# Argument errors, before any kernel runs.


def _kernel_must_not_run(name, *args, **kwargs):
    raise AssertionError(f"kernel {name!r} was looked up before the arguments were checked")


BAD_WINDOWS = {
    "kernel taller than padded input": (
        (1, 1, 1, 6),
        dict(kernel_size=(4, 2), padding=(1, 0)),
        r"kernel larger than the padded input along height.*spans 4.*1 \+ 2\*1",
    ),
    "dilated kernel wider than input": (
        (1, 1, 6, 3),
        dict(kernel_size=2, dilation=3),
        r"kernel larger than the padded input along width.*spans 4",
    ),
    "padding more than half the kernel": (
        (1, 1, 8, 8),
        dict(kernel_size=3, padding=2),
        r"padding: expected at most half the kernel size \(1, 1\), got \(2, 2\)",
    ),
    "stride 0": ((1, 1, 8, 8), dict(kernel_size=2, stride=0), r"stride.*got 0"),
    "kernel 0": ((1, 1, 8, 8), dict(kernel_size=(2, 0)), r"kernel_size.*got \(2, 0\)"),
    "negative padding": ((1, 1, 8, 8), dict(kernel_size=2, padding=-1), r"padding.*got -1"),
    "2-D input": ((8, 8), dict(kernel_size=2), r"input.*4-D.*got shape \(8, 8\)"),
}


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("case", list(BAD_WINDOWS))
def test_bad_window_raises_before_any_kernel(backend_name, monkeypatch, op, case):
    shape, kwargs, match = BAD_WINDOWS[case]
    if op == "avg_pool2d" and "dilation" in kwargs:
        kwargs = dict(kwargs, kernel_size=5)
        del kwargs["dilation"]
        match = r"kernel larger than the padded input along width.*spans 5"
    x = as_tensor(np.ones(shape))
    monkeypatch.setattr(minicnn.backend, "kernel", _kernel_must_not_run)
    with pytest.raises(ValueError, match=op + ": " + match):
        getattr(F, op)(x, **kwargs)


@pytest.mark.parametrize("op", ["adaptive_avg_pool2d", "adaptive_max_pool2d"])
def test_bad_adaptive_output_size(backend_name, monkeypatch, op):
    x = as_tensor(np.ones((1, 1, 4, 4)))
    monkeypatch.setattr(minicnn.backend, "kernel", _kernel_must_not_run)
    with pytest.raises(ValueError, match=op + r": output_size.*got \(0, 2\)"):
        getattr(F, op)(x, (0, 2))


def test_pooling_integer_input_is_a_type_error(backend_name):
    x = minicnn.tensor(np.ones((1, 1, 4, 4), np.int64))
    with pytest.raises(TypeError, match=r"max_pool2d: input.*floating-point.*int64"):
        F.max_pool2d(x, 2)
