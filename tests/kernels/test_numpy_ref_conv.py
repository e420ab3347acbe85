"""Convolution kernels of the reference backend: im2col against the direct twins, adjoints,
finite differences, and hand-computed cases."""

import numpy as np
from hypothesis import given, settings
from minicnn.kernels import numpy_ref as R
from strategies import reference_conv_cases


@settings(max_examples=50, deadline=None, derandomize=True)
@given(reference_conv_cases())
def test_im2col_matches_the_direct_loops(case):
    x, w, b, gy, geom = case["x"], case["w"], case["b"], case["gy"], case["geom"]
    H, W = x.shape[2:]
    KH, KW = w.shape[2:]
    np.testing.assert_allclose(
        R.conv2d_forward(x, w, b, *geom),
        R.conv2d_forward_direct(x, w, b, *geom),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        R.conv2d_backward_input(gy, w, H, W, *geom),
        R.conv2d_backward_input_direct(gy, w, H, W, *geom),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        R.conv2d_backward_weight(gy, x, KH, KW, *geom),
        R.conv2d_backward_weight_direct(gy, x, KH, KW, *geom),
        rtol=1e-12,
        atol=1e-12,
    )


@settings(max_examples=60, deadline=None, derandomize=True)
@given(reference_conv_cases())
def test_conv_adjoint(case):
    # y = A x is linear in x and in w, so <A x, gy> = <x, A^T gy> = <w, dy/dw^T gy>.
    x, w, gy, geom = case["x"], case["w"], case["gy"], case["geom"]
    H, W = x.shape[2:]
    KH, KW = w.shape[2:]
    lhs = np.vdot(R.conv2d_forward(x, w, None, *geom), gy)
    via_x = np.vdot(x, R.conv2d_backward_input(gy, w, H, W, *geom))
    via_w = np.vdot(w, R.conv2d_backward_weight(gy, x, KH, KW, *geom))
    scale = np.abs(gy).sum() * np.abs(x).max() * np.abs(w).sum()
    assert abs(lhs - via_x) <= 1e-12 * scale
    assert abs(lhs - via_w) <= 1e-12 * scale


@settings(max_examples=30, deadline=None, derandomize=True)
@given(reference_conv_cases())
def test_conv_bias_adds_per_channel(case):
    # The bias gradient gy.sum((0, 2, 3)) is right exactly when the bias enters as y += b[o].
    x, w, b, gy, geom = case["x"], case["w"], case["b"], case["gy"], case["geom"]
    with_b = R.conv2d_forward(x, w, b, *geom)
    without = R.conv2d_forward(x, w, None, *geom)
    np.testing.assert_allclose(with_b, without + b[None, :, None, None], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(
        np.vdot(with_b - without, gy), np.vdot(b, gy.sum(axis=(0, 2, 3))), rtol=1e-10, atol=1e-12
    )


def central_difference(f, a, eps):
    """Gradient of the scalar f at a, one element at a time."""
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


@settings(max_examples=25, deadline=None, derandomize=True)
@given(reference_conv_cases(max_extra=3, max_batch=2, max_group_channels=2))
def test_conv_finite_differences(case):
    x, w, b, gy, geom = case["x"].copy(), case["w"].copy(), case["b"], case["gy"], case["geom"]
    H, W = x.shape[2:]
    KH, KW = w.shape[2:]

    def loss_of_x(xv):
        return np.vdot(R.conv2d_forward(xv, w, b, *geom), gy)

    def loss_of_w(wv):
        return np.vdot(R.conv2d_forward(x, wv, b, *geom), gy)

    np.testing.assert_allclose(
        R.conv2d_backward_input(gy, w, H, W, *geom),
        central_difference(loss_of_x, x, 1e-4),
        rtol=1e-7,
        atol=1e-8,
    )
    np.testing.assert_allclose(
        R.conv2d_backward_weight(gy, x, KH, KW, *geom),
        central_difference(loss_of_w, w, 1e-4),
        rtol=1e-7,
        atol=1e-8,
    )


def test_output_size_formula():
    # H=7, KH=3, DH=2 spans 5 rows; padded height 9; starts 0, 2, 4 fit: OH = 3.
    x = np.zeros((1, 1, 7, 6))
    w = np.zeros((1, 1, 3, 2))
    y = R.conv2d_forward(x, w, None, 2, 3, 1, 0, 2, 1, 1)
    assert y.shape == (1, 1, 3, 2)  # width: 6 - 1 - 1 = 4, starts 0, 3 -> OW = 2


def test_hand_computed_conv():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 2, 2))
    # stride 2, no padding: sums of the four 2x2 blocks
    y = R.conv2d_forward(x, w, np.array([0.5]), 2, 2, 0, 0, 1, 1, 1)
    np.testing.assert_array_equal(y[0, 0], [[10.5, 18.5], [42.5, 50.5]])
    # dilation 3 on a 4x4 input: the only window reads the four corners 0 + 3 + 12 + 15
    y = R.conv2d_forward(x, w, None, 1, 1, 0, 0, 3, 3, 1)
    np.testing.assert_array_equal(y, [[[[30.0]]]])
    # padding 1, a 1x1 kernel, stride 4: padded rows 0 and 4 are input rows -1 (padding) and 3
    y = R.conv2d_forward(x, np.full((1, 1, 1, 1), 2.0), None, 4, 4, 1, 1, 1, 1, 1)
    np.testing.assert_array_equal(y[0, 0], [[0.0, 0.0], [0.0, 30.0]])


def test_groups_are_independent():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 5, 5))
    w = rng.standard_normal((4, 3, 3, 3))  # G = 2: 3 input channels -> 2 outputs per group
    y = R.conv2d_forward(x, w, None, 1, 1, 1, 1, 1, 1, 2)
    x2 = x.copy()
    x2[:, 3:] = rng.standard_normal((2, 3, 5, 5))  # change only group 1's inputs
    y2 = R.conv2d_forward(x2, w, None, 1, 1, 1, 1, 1, 1, 2)
    np.testing.assert_array_equal(y[:, :2], y2[:, :2])
    assert not np.allclose(y[:, 2:], y2[:, 2:])
    # each group equals an ungrouped conv on its own slice
    y_g1 = R.conv2d_forward(x[:, 3:], w[2:], None, 1, 1, 1, 1, 1, 1, 1)
    np.testing.assert_allclose(y[:, 2:], y_g1, rtol=1e-13)
