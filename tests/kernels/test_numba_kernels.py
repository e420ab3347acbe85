"""Numba CPU kernels: parity with the NumPy reference on hypothesis-drawn configurations.

Every kernel of the contract is run on the same inputs by ``numba_cpu`` and ``numpy_ref``.
float32 results must agree to rtol 1e-4 (with an absolute tolerance scaled to the size of the
result, since sums that cancel lose relative accuracy), float64 results to rtol 1e-10. Integer
outputs (max-pooling indices, dropout masks) must agree exactly. Each call also checks that the
kernel returned the input dtype and left its inputs untouched.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from minicnn.kernels import KERNEL_SIGNATURES
from minicnn.kernels import numba_cpu as NB
from minicnn.kernels import numpy_ref as R
from minicnn.kernels.geometry import out_size

from tests.ops.cnn_strategies import with_specials

RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}
DTYPES = st.sampled_from([np.float32, np.float64])


def run(kernel, *args):
    """Call kernel(*args) and check it left its array arguments unchanged."""
    before = [a.copy() if isinstance(a, np.ndarray) else None for a in args]
    out = kernel(*args)
    for a, b in zip(args, before, strict=True):
        if b is not None:
            np.testing.assert_array_equal(a, b, err_msg="kernel modified an input")
    return out


def assert_close(actual, expected, dtype):
    """Same shape, the input dtype, and values within the dtype's tolerance."""
    assert actual.shape == expected.shape
    assert actual.dtype == np.dtype(dtype), f"dtype {actual.dtype}, expected {dtype}"
    rtol = RTOL[np.dtype(dtype)]
    finite = np.abs(expected[np.isfinite(expected)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def test_kernels_cover_the_contract():
    import inspect

    assert set(NB.KERNELS) == set(KERNEL_SIGNATURES)
    for name, params in KERNEL_SIGNATURES.items():
        assert tuple(inspect.signature(NB.KERNELS[name]).parameters) == params, name


@st.composite
def conv_cases(draw, wide=False):
    """A valid conv2d configuration: groups 1, depthwise (G = C) or another divisor of C.

    wide=True draws stride 1 and at least 8 input channels per group, the case in which the
    input gradient is computed as a convolution with the flipped kernel.
    """
    dtype = draw(DTYPES)
    N = draw(st.integers(1, 3))
    grouping = draw(st.sampled_from(["single", "depthwise", "divisor"]))
    if wide:
        G, Cg = draw(st.integers(1, 2)), draw(st.integers(8, 10))
    elif grouping == "single":
        G, Cg = 1, draw(st.integers(1, 4))
    elif grouping == "depthwise":
        G, Cg = draw(st.integers(1, 4)), 1
    else:
        G, Cg = draw(st.integers(2, 3)), draw(st.integers(2, 3))
    OCg = draw(st.integers(1, 3)) if grouping != "single" else draw(st.integers(1, 9))
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    SH, SW = (1, 1) if wide else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    PH, PW = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    DH, DW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    # Start from the smallest input the dilated kernel fits, so few draws are discarded.
    H = DH * (KH - 1) + 1 - 2 * PH + draw(st.integers(0, 8))
    W = DW * (KW - 1) + 1 - 2 * PW + draw(st.integers(0, 8))
    assume(H >= 1 and W >= 1)
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    assume(OH >= 1 and OW >= 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    C, OC = G * Cg, G * OCg
    return dict(
        dtype=dtype,
        x=rng.standard_normal((N, C, H, W)).astype(dtype),
        w=rng.standard_normal((OC, Cg, KH, KW)).astype(dtype),
        b=rng.standard_normal(OC).astype(dtype) if draw(st.booleans()) else None,
        gy=rng.standard_normal((N, OC, OH, OW)).astype(dtype),
        geom=(SH, SW, PH, PW, DH, DW, G),
    )


def check_conv2d(case):
    """Forward, input gradient and weight gradient against the reference."""
    x, w, b, gy, geom, dt = case["x"], case["w"], case["b"], case["gy"], case["geom"], case["dtype"]
    H, W = x.shape[2:]
    KH, KW = w.shape[2:]
    assert_close(run(NB.conv2d_forward, x, w, b, *geom), R.conv2d_forward(x, w, b, *geom), dt)
    assert_close(
        run(NB.conv2d_backward_input, gy, w, H, W, *geom),
        R.conv2d_backward_input(gy, w, H, W, *geom),
        dt,
    )
    assert_close(
        run(NB.conv2d_backward_weight, gy, x, KH, KW, *geom),
        R.conv2d_backward_weight(gy, x, KH, KW, *geom),
        dt,
    )


@settings(max_examples=40, deadline=None, derandomize=True)
@given(conv_cases())
def test_conv2d_parity(case):
    check_conv2d(case)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(conv_cases(wide=True))
def test_conv2d_parity_wide_stride1(case):
    check_conv2d(case)


@st.composite
def conv_cases_batched(draw, windows):
    """Larger batches of small images, so that work items hold several samples and the last
    one is short. windows=True draws many channels (K = C/G*KH*KW >= 63 and >= 64 output
    channels per group, so that even a one-tap phase of the input gradient sums >= 64 terms),
    the case in which the forward pass and every phase of the input gradient run as dot
    products over channels-last windows, at any stride and row dilation. windows=False keeps
    K and the channel counts small, for the implicit GEMM over phase planes."""
    dtype = draw(DTYPES)
    N = draw(st.integers(4, 11))
    G = draw(st.integers(1, 2))
    if windows:
        Cg, OCg = draw(st.integers(7, 9)), draw(st.sampled_from([64, 67]))
        KH, KW = draw(st.integers(3, 4)), draw(st.integers(3, 4))
        DH, DW = draw(st.integers(1, 2)), 1
    else:
        Cg, OCg = draw(st.integers(1, 2)), draw(st.integers(1, 6))
        KH, KW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        DH, DW = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    PH, PW = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H = DH * (KH - 1) + 1 - 2 * PH + draw(st.integers(0, 6))
    W = DW * (KW - 1) + 1 - 2 * PW + draw(st.integers(0, 6))
    assume(H >= 1 and W >= 1)
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    assume(OH >= 1 and OW >= 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    C, OC = G * Cg, G * OCg
    return dict(
        dtype=dtype,
        x=rng.standard_normal((N, C, H, W)).astype(dtype),
        w=rng.standard_normal((OC, Cg, KH, KW)).astype(dtype),
        b=rng.standard_normal(OC).astype(dtype) if draw(st.booleans()) else None,
        gy=rng.standard_normal((N, OC, OH, OW)).astype(dtype),
        geom=(SH, SW, PH, PW, DH, DW, G),
    )


@settings(max_examples=25, deadline=None, derandomize=True)
@given(conv_cases_batched(windows=True))
def test_conv2d_parity_windows_any_stride(case):
    check_conv2d(case)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(conv_cases_batched(windows=False))
def test_conv2d_parity_planes_batched(case):
    check_conv2d(case)


def test_conv2d_resnet_layer_shapes():
    """The ResNet-20 geometries the benchmarks time (3x3, pad 1, stride 1 and 2, 16-64
    channels), at a batch that splits into uneven work items."""
    rng = np.random.default_rng(0)
    for C, H, OC, S in ((16, 32, 16, 1), (16, 32, 32, 2), (32, 16, 64, 2), (64, 8, 64, 1)):
        x = rng.standard_normal((7, C, H, H)).astype(np.float32)
        w = rng.standard_normal((OC, C, 3, 3)).astype(np.float32)
        gy = rng.standard_normal((7, OC, (H - 1) // S + 1, (H - 1) // S + 1)).astype(np.float32)
        check_conv2d(dict(dtype=np.float32, x=x, w=w, b=None, gy=gy, geom=(S, S, 1, 1, 1, 1, 1)))


def draw_input(draw, rng, shape, dtype):
    """Pooling input: continuous values, or a few integers so that windows hold ties and the
    first-maximum rule decides max pooling's index; either with NaN, inf or -inf in a few
    places (max pooling picks a window's last NaN, as PyTorch)."""
    if draw(st.booleans()):
        x = rng.integers(-2, 3, shape).astype(dtype)
    else:
        x = rng.standard_normal(shape).astype(dtype)
    return draw(with_specials(x)) if draw(st.booleans()) else x


@st.composite
def pool_cases(draw, dilation=True):
    """Pooling geometry with PyTorch's constraints (padding <= kernel / 2), floor or ceil mode."""
    dtype = draw(DTYPES)
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    PH, PW = draw(st.integers(0, KH // 2)), draw(st.integers(0, KW // 2))
    DH, DW = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    H = DH * (KH - 1) + 1 - 2 * PH + draw(st.integers(0, 8))
    W = DW * (KW - 1) + 1 - 2 * PW + draw(st.integers(0, 8))
    assume(H >= 1 and W >= 1)
    ceil_mode = draw(st.booleans())
    OH = out_size(H, KH, SH, PH, DH, ceil_mode)
    OW = out_size(W, KW, SW, PW, DW, ceil_mode)
    assume(OH >= 1 and OW >= 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return dict(
        dtype=dtype,
        x=draw_input(draw, rng, (N, C, H, W), dtype),
        gy=rng.standard_normal((N, C, OH, OW)).astype(dtype),
        k=(KH, KW, SH, SW, PH, PW),
        d=(DH, DW),
        out=(OH, OW),
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf + -inf in the inputs
@settings(max_examples=40, deadline=None, derandomize=True)
@given(pool_cases())
def test_maxpool2d_parity(case):
    x, gy, dt = case["x"], case["gy"], case["dtype"]
    H, W = x.shape[2:]
    geom = (*case["k"], *case["d"])
    y, idx = run(NB.maxpool2d_forward, x, *geom, *case["out"])
    y_ref, idx_ref = R.maxpool2d_forward(x, *geom, *case["out"])
    assert_close(y, y_ref, dt)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx, idx_ref)
    assert_close(
        run(NB.maxpool2d_backward, gy, idx, H, W, *geom),
        R.maxpool2d_backward(gy, idx_ref, H, W, *geom),
        dt,
    )


def test_maxpool2d_ties_pick_first_in_window_order():
    # All-equal input: every window's first in-bounds tap (kh outer, kw inner) wins.
    x = np.ones((1, 1, 3, 4))
    y, idx = NB.maxpool2d_forward(x, 2, 2, 1, 2, 1, 1, 1, 1, 4, 3)
    # window (oh, ow) covers rows oh-1 .. oh and columns 2*ow-1 .. 2*ow; its first in-bounds tap
    # is the top-left one clipped to the input
    expected = [[max(oh - 1, 0) * 4 + max(2 * ow - 1, 0) for ow in range(3)] for oh in range(4)]
    np.testing.assert_array_equal(idx[0, 0], expected)
    np.testing.assert_array_equal(y, np.ones((1, 1, 4, 3)))
    # Each window routes its gradient to its own first element; overlaps add up.
    gx = NB.maxpool2d_backward(np.ones((1, 1, 4, 3)), idx, 3, 4, 2, 2, 1, 2, 1, 1, 1, 1)
    counts = np.zeros(12)
    np.add.at(counts, np.array(expected).ravel(), 1.0)
    np.testing.assert_array_equal(gx[0, 0], counts.reshape(3, 4))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf + -inf in the inputs
@settings(max_examples=40, deadline=None, derandomize=True)
@given(pool_cases(dilation=False), st.sampled_from([0, 1]))
def test_avgpool2d_parity(case, count_include_pad):
    x, gy, dt = case["x"], case["gy"], case["dtype"]
    H, W = x.shape[2:]
    k, out = case["k"], case["out"]
    assert_close(
        run(NB.avgpool2d_forward, x, *k, *out, count_include_pad),
        R.avgpool2d_forward(x, *k, *out, count_include_pad),
        dt,
    )
    assert_close(
        run(NB.avgpool2d_backward, gy, H, W, *k, count_include_pad),
        R.avgpool2d_backward(gy, H, W, *k, count_include_pad),
        dt,
    )


@st.composite
def adaptive_cases(draw):
    """Input and output sizes in any relation: windows may overlap (H % OH != 0) or repeat
    (OH > H)."""
    dtype = draw(DTYPES)
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    OH, OW = draw(st.integers(1, H + 2)), draw(st.integers(1, W + 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return dict(
        dtype=dtype,
        x=draw_input(draw, rng, (N, C, H, W), dtype),
        gy=rng.standard_normal((N, C, OH, OW)).astype(dtype),
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf + -inf in the inputs
@settings(max_examples=30, deadline=None, derandomize=True)
@given(adaptive_cases())
def test_adaptive_pool_parity(case):
    x, gy, dt = case["x"], case["gy"], case["dtype"]
    H, W = x.shape[2:]
    OH, OW = gy.shape[2:]
    assert_close(
        run(NB.adaptive_avgpool2d_forward, x, OH, OW), R.adaptive_avgpool2d_forward(x, OH, OW), dt
    )
    assert_close(
        run(NB.adaptive_avgpool2d_backward, gy, H, W), R.adaptive_avgpool2d_backward(gy, H, W), dt
    )
    y, idx = run(NB.adaptive_maxpool2d_forward, x, OH, OW)
    y_ref, idx_ref = R.adaptive_maxpool2d_forward(x, OH, OW)
    assert_close(y, y_ref, dt)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx, idx_ref)
    assert_close(
        run(NB.adaptive_maxpool2d_backward, gy, idx, H, W),
        R.adaptive_maxpool2d_backward(gy, idx_ref, H, W),
        dt,
    )


@st.composite
def batchnorm_cases(draw):
    """x (N, C, L) with L = 1 (BatchNorm1d) or a flattened plane; statistics (C,)."""
    dtype = draw(DTYPES)
    N, C = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    L = draw(st.sampled_from([1, draw(st.integers(2, 40))]))
    assume(N * L >= 2)  # a variance over one value is 0: fine, but says nothing
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((N, C, L)) * rng.uniform(0.5, 2.0, (1, C, 1)) + rng.normal(
        0, 1, (1, C, 1)
    )
    return dict(
        dtype=dtype,
        x=x.astype(dtype),
        gy=rng.standard_normal((N, C, L)).astype(dtype),
        gamma=rng.uniform(0.5, 1.5, C).astype(dtype),
        beta=rng.standard_normal(C).astype(dtype),
        running_mean=rng.standard_normal(C).astype(dtype),
        running_var=rng.uniform(0.5, 2.0, C).astype(dtype),
        eps=draw(st.sampled_from([1e-5, 1e-3])),
    )


@settings(max_examples=30, deadline=None, derandomize=True)
@given(batchnorm_cases())
def test_batchnorm_parity(case):
    x, gy, gamma, beta, eps, dt = (case[k] for k in ("x", "gy", "gamma", "beta", "eps", "dtype"))
    for got, ref in zip(
        run(NB.batchnorm_forward_train, x, gamma, beta, eps),
        R.batchnorm_forward_train(x, gamma, beta, eps),
        strict=True,
    ):
        assert_close(got, ref, dt)
    rm, rv = case["running_mean"], case["running_var"]
    assert_close(
        run(NB.batchnorm_forward_eval, x, rm, rv, gamma, beta, eps),
        R.batchnorm_forward_eval(x, rm, rv, gamma, beta, eps),
        dt,
    )
    _, mean, invstd = R.batchnorm_forward_train(x, gamma, beta, eps)
    for got, ref in zip(
        run(NB.batchnorm_backward, gy, x, gamma, mean, invstd),
        R.batchnorm_backward(gy, x, gamma, mean, invstd),
        strict=True,
    ):
        assert_close(got, ref, dt)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.lists(st.integers(1, 7), min_size=1, max_size=4),
    st.floats(0.0, 1.0),
    st.integers(0, 2**63 - 1),
)
def test_dropout_mask_is_bit_identical(shape, p, seed):
    mask = NB.dropout_mask(tuple(shape), p, seed)
    assert mask.dtype == np.uint8 and mask.shape == tuple(shape)
    np.testing.assert_array_equal(mask, R.dropout_mask(tuple(shape), p, seed))


def test_dropout_mask_large_and_extreme():
    # Big enough that every thread takes a share; p = 0 keeps all, p = 1 drops all.
    shape = (64, 16, 32, 32)
    np.testing.assert_array_equal(
        NB.dropout_mask(shape, 0.3, 12345), R.dropout_mask(shape, 0.3, 12345)
    )
    assert NB.dropout_mask((5, 5), 0.0, 7).all()
    assert not NB.dropout_mask((5, 5), 1.0, 7).any()


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    DTYPES,
    st.lists(st.integers(1, 6), min_size=1, max_size=4),
    st.sampled_from([0, 1]),
    st.integers(0, 2**32 - 1),
)
def test_residual_add_parity(dtype, shape, relu, seed):
    rng = np.random.default_rng(seed)
    x, shortcut, gy = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    x[(0,) * len(shape)] = np.nan  # relu keeps NaN, and its gradient there is 0, as PyTorch
    y = run(NB.residual_add_forward, x, shortcut, relu)
    assert_close(y, R.residual_add_forward(x, shortcut, relu), dtype)
    assert_close(
        run(NB.residual_add_backward, gy, y, relu), R.residual_add_backward(gy, y, relu), dtype
    )


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    DTYPES,
    st.lists(st.integers(0, 6), min_size=1, max_size=3),
    st.sampled_from([0.0, 0.9]),
    st.sampled_from([0.0, 0.1]),
    st.sampled_from([0.0, 1e-2]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_sgd_update_parity(
    dtype, shape, momentum, dampening, weight_decay, nesterov, maximize, first, seed
):
    nesterov = nesterov and momentum > 0 and dampening == 0
    rng = np.random.default_rng(seed)
    p, grad, buf = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    grad.reshape(-1)[:1] = np.nan  # a NaN gradient makes its parameter NaN, on both
    args = (0.1, momentum, dampening, weight_decay, nesterov, maximize, first)
    p_ref, buf_ref = p.copy(), buf.copy()
    R.sgd_update_(p_ref, grad, buf_ref if momentum else None, *args)
    grad_before = grad.copy()
    NB.sgd_update_(p, grad, buf if momentum else None, *args)
    np.testing.assert_array_equal(grad, grad_before)  # grad is only read
    assert_close(p, p_ref, dtype)
    assert_close(buf, buf_ref, dtype)


def test_an_empty_batch_gives_empty_results():
    """N = 0 is the one empty size the contract allows: empty outputs, a zero weight gradient."""
    x, w, gy = np.zeros((0, 3, 5, 5)), np.ones((4, 3, 3, 3)), np.zeros((0, 4, 3, 3))
    idx = np.zeros((0, 3, 2, 2), np.int64)
    calls = [
        ("conv2d_forward", (x, w, None, 1, 1, 0, 0, 1, 1, 1)),
        ("conv2d_backward_input", (gy, w, 5, 5, 1, 1, 0, 0, 1, 1, 1)),
        ("conv2d_backward_weight", (gy, x, 3, 3, 1, 1, 0, 0, 1, 1, 1)),
        ("maxpool2d_forward", (x, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2)),
        ("maxpool2d_backward", (gy[:, :3, :2, :2], idx, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1)),
        ("avgpool2d_forward", (x, 2, 2, 2, 2, 0, 0, 2, 2, 1)),
        ("avgpool2d_backward", (gy[:, :3, :2, :2], 5, 5, 2, 2, 2, 2, 0, 0, 1)),
        ("adaptive_avgpool2d_forward", (x, 2, 2)),
        ("adaptive_avgpool2d_backward", (gy[:, :3, :2, :2], 5, 5)),
        ("adaptive_maxpool2d_forward", (x, 2, 2)),
        ("adaptive_maxpool2d_backward", (gy[:, :3, :2, :2], idx, 5, 5)),
        ("batchnorm_forward_eval", (np.zeros((0, 3, 4)), *np.ones((4, 3)), 1e-5)),
        ("residual_add_forward", (np.zeros((0, 3)), np.zeros((0, 3)), 1)),
        ("residual_add_backward", (np.zeros((0, 3)), np.zeros((0, 3)), 1)),
    ]
    for name, args in calls:
        got, want = NB.KERNELS[name](*args), R.KERNELS[name](*args)
        for g, r in zip(*((o if isinstance(o, tuple) else (o,)) for o in (got, want)), strict=True):
            assert g.shape == r.shape and g.dtype == r.dtype, name
            np.testing.assert_array_equal(g, r, err_msg=name)
