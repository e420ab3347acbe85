"""CUDA backend: parity of every kernel with numpy_ref on hypothesis-drawn shapes.

The shapes are where hand-written conv and pool kernels break: strides larger than the kernel,
padding close to the kernel size, dilation, non-square kernels and inputs, groups (depthwise and
otherwise), channel counts that straddle the GEMM tiles. Float32 results must match the
reference to rtol 1e-4 plus an absolute slack of 1e-5 of the output's largest magnitude (sums are
taken in a different order); float64 to rtol 1e-10. Indices, masks and elementwise results must
match exactly.

The whole module needs CuPy and a CUDA device, and is skipped with the reason when either is
missing.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st


def _gpu_unavailable_reason() -> str | None:
    try:
        import cupy
    except ImportError as error:
        return f"CuPy is not installed ({error})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDARuntimeError when there is no driver or no device
        return f"no usable CUDA device ({type(error).__name__}: {error})"
    if count < 1:
        return "no CUDA device present"
    return None


_REASON = _gpu_unavailable_reason()
if _REASON is not None:
    pytest.skip(f"CUDA kernel tests need a GPU: {_REASON}", allow_module_level=True)

import cupy  # noqa: E402
from minicnn.kernels import cuda, numpy_ref  # noqa: E402
from minicnn.kernels.cuda import conv as cuda_conv  # noqa: E402
from minicnn.kernels.cuda import launch  # noqa: E402
from minicnn.kernels.geometry import out_size  # noqa: E402

from tests.ops.cnn_strategies import with_specials  # noqa: E402

REF = numpy_ref.KERNELS
GPU = cuda.KERNELS
RTOL = {np.float32: 1e-4, np.float64: 1e-10}
DTYPES = st.sampled_from([np.float32, np.float64])
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)


def on_gpu(*args):
    """The arguments with every NumPy array copied to the GPU."""
    return tuple(cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args)


def assert_close(got, want, dtype, what: str = "") -> None:
    """got (CuPy) equals want (NumPy) to the dtype's tolerance, scaled to want's magnitude."""
    got = cupy.asnumpy(got)
    assert got.shape == want.shape, what
    assert got.dtype == want.dtype, what
    if want.size == 0:
        return
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.isfinite(got), finite, err_msg=what)
    np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=what)  # -inf stays -inf
    scale = float(np.abs(want[finite]).max(initial=0.0)) or 1.0
    rtol = RTOL[dtype]
    np.testing.assert_allclose(
        got[finite], want[finite], rtol=rtol, atol=0.1 * rtol * scale, err_msg=what
    )


def assert_equal(got, want, what: str = "") -> None:
    got = cupy.asnumpy(got)
    assert got.shape == want.shape and got.dtype == want.dtype, what
    np.testing.assert_array_equal(got, want, err_msg=what)


def randn(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def fits(L: int, K: int, P: int, D: int) -> bool:
    """The dilated kernel fits the padded input (else there is no output)."""
    return D * (K - 1) + 1 <= L + 2 * P


# Convolution.


@st.composite
def conv_cases(draw):
    """Shapes and geometry of a conv2d call, with an output of at least 1 x 1."""
    groups = draw(st.sampled_from(["one", "depthwise", "divisor"]))
    if groups == "one":
        G, C, OC = 1, draw(st.integers(1, 20)), draw(st.integers(1, 40))
    elif groups == "depthwise":
        C = draw(st.integers(1, 6))
        G, OC = C, C * draw(st.integers(1, 2))
    else:
        G = draw(st.integers(2, 3))
        C, OC = G * draw(st.integers(1, 3)), G * draw(st.integers(1, 3))
    case = dict(
        N=draw(st.integers(1, 3)),
        C=C,
        OC=OC,
        G=G,
        H=draw(st.integers(1, 11)),
        W=draw(st.integers(1, 11)),
        KH=draw(st.integers(1, 5)),
        KW=draw(st.integers(1, 5)),
        SH=draw(st.integers(1, 3)),
        SW=draw(st.integers(1, 3)),
        PH=draw(st.integers(0, 2)),
        PW=draw(st.integers(0, 2)),
        DH=draw(st.integers(1, 3)),
        DW=draw(st.integers(1, 3)),
    )
    assume(fits(case["H"], case["KH"], case["PH"], case["DH"]))
    assume(fits(case["W"], case["KW"], case["PW"], case["DW"]))
    return case


def _conv_arrays(case, dtype, seed):
    rng = np.random.default_rng(seed)
    c = case
    x = randn(rng, (c["N"], c["C"], c["H"], c["W"]), dtype)
    w = randn(rng, (c["OC"], c["C"] // c["G"], c["KH"], c["KW"]), dtype)
    b = randn(rng, (c["OC"],), dtype)
    geometry = tuple(c[k] for k in ("SH", "SW", "PH", "PW", "DH", "DW", "G"))
    y_shape = REF["conv2d_forward"](x, w, None, *geometry).shape
    gy = randn(rng, y_shape, dtype)
    return x, w, b, gy, geometry


def _check_conv(case, dtype, seed, kernels) -> None:
    x, w, b, gy, geometry = _conv_arrays(case, dtype, seed)
    for bias in (b, None):
        want = REF["conv2d_forward"](x, w, bias, *geometry)
        got = kernels["conv2d_forward"](*on_gpu(x, w, bias, *geometry))
        assert_close(got, want, dtype, f"forward, bias={bias is not None}")
    H, W, KH, KW = case["H"], case["W"], case["KH"], case["KW"]
    want = REF["conv2d_backward_input"](gy, w, H, W, *geometry)
    got = kernels["conv2d_backward_input"](*on_gpu(gy, w, H, W, *geometry))
    assert_close(got, want, dtype, "backward_input")
    want = REF["conv2d_backward_weight"](gy, x, KH, KW, *geometry)
    got = kernels["conv2d_backward_weight"](*on_gpu(gy, x, KH, KW, *geometry))
    assert_close(got, want, dtype, "backward_weight")


@pytest.mark.gpu
@SETTINGS
@given(case=conv_cases(), dtype=DTYPES, seed=st.integers(0, 2**32 - 1))
def test_conv2d_gemm_matches_numpy_ref(case, dtype, seed):
    _check_conv(case, dtype, seed, GPU)


# Layers of ResNet-20 (and a few awkward neighbours) that reach every tile shape of the GEMM
# kernels, several k chunks per tap, several row tiles and the split-K reduction.
RESNET_LAYERS = [
    # N, C, OC, H, KH, stride, padding
    (2, 3, 16, 32, 3, 1, 1),
    (2, 16, 16, 32, 3, 1, 1),
    (2, 16, 32, 32, 3, 2, 1),
    (2, 32, 32, 16, 3, 1, 1),
    (2, 32, 64, 16, 1, 2, 0),
    (2, 64, 64, 8, 3, 1, 1),
    (3, 40, 72, 9, 3, 1, 1),
    (1, 130, 20, 5, 3, 2, 2),
]


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("layer", RESNET_LAYERS, ids=lambda v: "x".join(map(str, v)))
def test_conv2d_resnet_layers(layer, dtype):
    N, C, OC, H, K, S, P = layer
    case = dict(N=N, C=C, OC=OC, G=1, H=H, W=H, KH=K, KW=K, SH=S, SW=S, PH=P, PW=P, DH=1, DW=1)
    _check_conv(case, dtype, 0, GPU)


@pytest.mark.gpu
def test_conv2d_backward_weight_is_deterministic():
    rng = np.random.default_rng(1)
    x = cupy.asarray(randn(rng, (8, 16, 16, 16), np.float32))
    gy = cupy.asarray(randn(rng, (8, 16, 16, 16), np.float32))
    first = GPU["conv2d_backward_weight"](gy, x, 3, 3, 1, 1, 1, 1, 1, 1, 1)
    second = GPU["conv2d_backward_weight"](gy, x, 3, 3, 1, 1, 1, 1, 1, 1, 1)
    assert_equal(second, cupy.asnumpy(first))


@pytest.mark.gpu
def test_modules_compile_once_per_process():
    first = launch.module(cuda_conv.FILE, cuda_conv.NAMES)
    second = launch.module(cuda_conv.FILE, cuda_conv.NAMES)
    assert second is first
    assert launch.compile_counts[cuda_conv.FILE] == 1
    GPU["conv2d_forward"](cupy.ones((1, 1, 3, 3), np.float32), cupy.ones((1, 1, 2, 2), np.float32),
                          None, 1, 1, 0, 0, 1, 1, 1)  # fmt: skip
    assert launch.compile_counts[cuda_conv.FILE] == 1


# Pooling.


@st.composite
def pool_cases(draw, dilation: bool):
    """Shapes and geometry of a pooling call, floor or ceil mode, output at least 1 x 1."""
    case = dict(
        N=draw(st.integers(1, 3)),
        C=draw(st.integers(1, 3)),
        H=draw(st.integers(1, 11)),
        W=draw(st.integers(1, 11)),
        KH=draw(st.integers(1, 5)),
        KW=draw(st.integers(1, 5)),
        SH=draw(st.integers(1, 3)),
        SW=draw(st.integers(1, 3)),
        PH=draw(st.integers(0, 2)),
        PW=draw(st.integers(0, 2)),
        DH=draw(st.integers(1, 3)) if dilation else 1,
        DW=draw(st.integers(1, 3)) if dilation else 1,
    )
    ceil = draw(st.booleans())
    assume(fits(case["H"], case["KH"], case["PH"], case["DH"]))
    assume(fits(case["W"], case["KW"], case["PW"], case["DW"]))
    case["OH"] = out_size(case["H"], case["KH"], case["SH"], case["PH"], case["DH"], ceil)
    case["OW"] = out_size(case["W"], case["KW"], case["SW"], case["PW"], case["DW"], ceil)
    return case


def distinct_values(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """Values without ties (exact in float32 for fewer than 2**24 elements)."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) / 8.0).reshape(shape).astype(dtype)


@pytest.mark.gpu
@SETTINGS
@given(
    case=pool_cases(dilation=True),
    dtype=DTYPES,
    seed=st.integers(0, 2**32 - 1),
    specials=st.booleans(),
    data=st.data(),
)
def test_maxpool2d_matches_numpy_ref(case, dtype, seed, specials, data):
    rng = np.random.default_rng(seed)
    c = case
    x = distinct_values(rng, (c["N"], c["C"], c["H"], c["W"]), dtype)
    x = data.draw(with_specials(x)) if specials else x  # a window's last NaN wins
    window = tuple(c[k] for k in ("KH", "KW", "SH", "SW", "PH", "PW", "DH", "DW"))
    y, idx = REF["maxpool2d_forward"](x, *window, c["OH"], c["OW"])
    assume((idx >= 0).all())  # every window holds an input element (the contract's premise)
    got_y, got_idx = GPU["maxpool2d_forward"](*on_gpu(x, *window, c["OH"], c["OW"]))
    assert_equal(got_y, y, "y")
    assert_equal(got_idx, idx, "idx")
    gy = randn(rng, y.shape, dtype)
    want = REF["maxpool2d_backward"](gy, idx, c["H"], c["W"], *window)
    got = GPU["maxpool2d_backward"](*on_gpu(gy, idx, c["H"], c["W"], *window))
    assert_close(got, want, dtype, "backward")


@pytest.mark.gpu
@SETTINGS
@given(
    case=pool_cases(dilation=False),
    count_include_pad=st.integers(0, 1),
    dtype=DTYPES,
    seed=st.integers(0, 2**32 - 1),
)
def test_avgpool2d_matches_numpy_ref(case, count_include_pad, dtype, seed):
    rng = np.random.default_rng(seed)
    c = case
    x = randn(rng, (c["N"], c["C"], c["H"], c["W"]), dtype)
    window = tuple(c[k] for k in ("KH", "KW", "SH", "SW", "PH", "PW"))
    y = REF["avgpool2d_forward"](x, *window, c["OH"], c["OW"], count_include_pad)
    got = GPU["avgpool2d_forward"](*on_gpu(x, *window, c["OH"], c["OW"], count_include_pad))
    assert_close(got, y, dtype, "forward")
    gy = randn(rng, y.shape, dtype)
    want = REF["avgpool2d_backward"](gy, c["H"], c["W"], *window, count_include_pad)
    got = GPU["avgpool2d_backward"](*on_gpu(gy, c["H"], c["W"], *window, count_include_pad))
    assert_close(got, want, dtype, "backward")


@st.composite
def adaptive_cases(draw):
    """Input and output plane sizes; outputs may outnumber inputs (overlapping cells)."""
    return dict(
        N=draw(st.integers(1, 3)),
        C=draw(st.integers(1, 3)),
        H=draw(st.integers(1, 11)),
        W=draw(st.integers(1, 11)),
        OH=draw(st.integers(1, 13)),
        OW=draw(st.integers(1, 13)),
    )


@pytest.mark.gpu
@SETTINGS
@given(case=adaptive_cases(), dtype=DTYPES, seed=st.integers(0, 2**32 - 1))
def test_adaptive_avgpool2d_matches_numpy_ref(case, dtype, seed):
    rng = np.random.default_rng(seed)
    c = case
    x = randn(rng, (c["N"], c["C"], c["H"], c["W"]), dtype)
    y = REF["adaptive_avgpool2d_forward"](x, c["OH"], c["OW"])
    assert_close(GPU["adaptive_avgpool2d_forward"](*on_gpu(x, c["OH"], c["OW"])), y, dtype)
    gy = randn(rng, y.shape, dtype)
    want = REF["adaptive_avgpool2d_backward"](gy, c["H"], c["W"])
    got = GPU["adaptive_avgpool2d_backward"](*on_gpu(gy, c["H"], c["W"]))
    assert_close(got, want, dtype, "backward")


@pytest.mark.gpu
@SETTINGS
@given(
    case=adaptive_cases(),
    dtype=DTYPES,
    seed=st.integers(0, 2**32 - 1),
    specials=st.booleans(),
    data=st.data(),
)
def test_adaptive_maxpool2d_matches_numpy_ref(case, dtype, seed, specials, data):
    rng = np.random.default_rng(seed)
    c = case
    x = distinct_values(rng, (c["N"], c["C"], c["H"], c["W"]), dtype)
    x = data.draw(with_specials(x)) if specials else x
    y, idx = REF["adaptive_maxpool2d_forward"](x, c["OH"], c["OW"])
    got_y, got_idx = GPU["adaptive_maxpool2d_forward"](*on_gpu(x, c["OH"], c["OW"]))
    assert_equal(got_y, y, "y")
    assert_equal(got_idx, idx, "idx")
    gy = randn(rng, y.shape, dtype)
    want = REF["adaptive_maxpool2d_backward"](gy, idx, c["H"], c["W"])
    got = GPU["adaptive_maxpool2d_backward"](*on_gpu(gy, idx, c["H"], c["W"]))
    assert_close(got, want, dtype, "backward")


# Batch norm, dropout, residual.


@pytest.mark.gpu
@SETTINGS
@given(
    N=st.integers(1, 4),
    C=st.integers(1, 5),
    L=st.integers(1, 700),
    offset=st.sampled_from([0.0, 3.0, -50.0]),
    eps=st.sampled_from([1e-5, 1e-3]),
    dtype=DTYPES,
    seed=st.integers(0, 2**32 - 1),
)
def test_batchnorm_matches_numpy_ref(N, C, L, offset, eps, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((N, C, L)) * 2 + offset).astype(dtype)
    gamma, beta = randn(rng, (C,), dtype), randn(rng, (C,), dtype)
    want = REF["batchnorm_forward_train"](x, gamma, beta, eps)
    got = GPU["batchnorm_forward_train"](*on_gpu(x, gamma, beta, eps))
    for name, g, r in zip(("y", "mean", "invstd"), got, want):
        assert_close(g, r, dtype, name)
    _, mean, invstd = want
    running_var = np.abs(randn(rng, (C,), dtype)) + dtype(0.1)
    args = (x, mean, running_var, gamma, beta, eps)
    assert_close(
        GPU["batchnorm_forward_eval"](*on_gpu(*args)), REF["batchnorm_forward_eval"](*args), dtype
    )
    gy = randn(rng, x.shape, dtype)
    want = REF["batchnorm_backward"](gy, x, gamma, mean, invstd)
    got = GPU["batchnorm_backward"](*on_gpu(gy, x, gamma, mean, invstd))
    # gx is a difference of terms of size |gy * gamma * invstd|; with few values per channel
    # it can cancel to far less than that, so its tolerance is scaled to the terms.
    terms = float(np.abs(gy).max() * np.abs(gamma * invstd).max())
    err = np.abs(cupy.asnumpy(got[0]).astype(np.float64) - want[0])
    assert err.max() <= RTOL[dtype] * terms, (err.max(), terms)
    for name, g, r in zip(("ggamma", "gbeta"), got[1:], want[1:]):
        assert_close(g, r, dtype, name)
    args = (mean, running_var, mean * dtype(0.5), invstd, 0.1, eps, N * L + 1)
    want = REF["batchnorm_update_running"](*args)
    got = GPU["batchnorm_update_running"](*on_gpu(*args))
    for name, g, r in zip(("new_mean", "new_var"), got, want):
        assert_close(g, r, dtype, name)


@pytest.mark.gpu
@SETTINGS
@given(
    shape=st.lists(st.integers(0, 40), min_size=1, max_size=3).map(tuple),
    p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0, 1 / 3]),
    seed=st.one_of(st.integers(0, 2**16), st.integers(2**63 - 2**16, 2**63 - 1)),
)
def test_dropout_mask_is_bit_identical(shape, p, seed):
    assert_equal(GPU["dropout_mask"](shape, p, seed), REF["dropout_mask"](shape, p, seed))


@pytest.mark.gpu
@SETTINGS
@given(
    shape=st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple),
    relu=st.integers(0, 1),
    dtype=DTYPES,
    seed=st.integers(0, 2**32 - 1),
)
def test_residual_add_matches_numpy_ref(shape, relu, dtype, seed):
    rng = np.random.default_rng(seed)
    x, shortcut, gy = (randn(rng, shape, dtype) for _ in range(3))
    y = REF["residual_add_forward"](x, shortcut, relu)
    assert_equal(GPU["residual_add_forward"](*on_gpu(x, shortcut, relu)), y, "forward")
    want = REF["residual_add_backward"](gy, y, relu)
    assert_equal(GPU["residual_add_backward"](*on_gpu(gy, y, relu)), want, "backward")
