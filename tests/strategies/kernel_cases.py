"""Arguments of the kernels themselves (``minicnn.kernels``), for the parity tests of the fast
backends and the tests of the NumPy oracle.

A case is a dict of host arrays of one drawn dtype (``dtype``, then the arrays and the integer
geometry of the kernel call), so one test body serves every backend. The geometry is drawn where
hand-written loops break (strides larger than the kernel, padding near the kernel size,
dilation, non-square kernels and inputs, groups, ceil mode); some strategies aim at one fast
path (``wide``: the input gradient as a convolution with the flipped kernel; ``windows``: the
dot-product form over channels-last windows; ``kernel_conv_channels``: channel counts that
straddle the GPU's GEMM tiles). Pooling inputs either hold ties (a few integers), so that the
first-maximum rule decides the index, or are distinct, with NaN, inf and -inf put in on request.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from minicnn.kernels.geometry import out_size

from .arrays import DTYPES, shuffled_grid, with_specials


def _rng(draw: Any) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def fits(L: int, K: int, P: int, D: int) -> bool:
    """The dilated kernel fits the padded input (else there is no output)."""
    return D * (K - 1) + 1 <= L + 2 * P


def _conv_case(draw: Any, dtype: Any, N: int, G: int, Cg: int, OCg: int, geom: tuple) -> dict:
    """Arrays for a conv2d call; geom = (KH, KW, H, W, SH, SW, PH, PW, DH, DW)."""
    KH, KW, H, W, SH, SW, PH, PW, DH, DW = geom
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    assume(OH >= 1 and OW >= 1)
    rng = _rng(draw)
    C, OC = G * Cg, G * OCg
    return dict(
        dtype=dtype,
        x=rng.standard_normal((N, C, H, W)).astype(dtype),
        w=rng.standard_normal((OC, Cg, KH, KW)).astype(dtype),
        b=rng.standard_normal(OC).astype(dtype),
        gy=rng.standard_normal((N, OC, OH, OW)).astype(dtype),
        geom=(SH, SW, PH, PW, DH, DW, G),
    )


@st.composite
def kernel_conv_cases(draw: Any, wide: bool = False) -> dict:
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
    return _conv_case(draw, dtype, N, G, Cg, OCg, (KH, KW, H, W, SH, SW, PH, PW, DH, DW))


@st.composite
def kernel_conv_batches(draw: Any, windows: bool) -> dict:
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
    return _conv_case(draw, dtype, N, G, Cg, OCg, (KH, KW, H, W, SH, SW, PH, PW, DH, DW))


@st.composite
def kernel_conv_channels(draw: Any) -> dict:
    """Up to 20 input and 40 output channels in one group (or depthwise, or another divisor),
    inputs 1-11 a side drawn on their own: the channel counts that straddle the tiles of the
    GPU's GEMM kernels."""
    dtype = draw(DTYPES)
    groups = draw(st.sampled_from(["one", "depthwise", "divisor"]))
    if groups == "one":
        G, Cg, OCg = 1, draw(st.integers(1, 20)), draw(st.integers(1, 40))
    elif groups == "depthwise":
        G = draw(st.integers(1, 6))
        Cg, OCg = 1, draw(st.integers(1, 2))
    else:
        G, Cg, OCg = draw(st.integers(2, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    N, H, W = draw(st.integers(1, 3)), draw(st.integers(1, 11)), draw(st.integers(1, 11))
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    PH, PW = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    DH, DW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    assume(fits(H, KH, PH, DH) and fits(W, KW, PW, DW))
    return _conv_case(draw, dtype, N, G, Cg, OCg, (KH, KW, H, W, SH, SW, PH, PW, DH, DW))


def pool_values(draw: Any, rng: np.random.Generator, shape: tuple, dtype: Any) -> np.ndarray:
    """Pooling input: continuous values, or a few integers so that windows hold ties and the
    first-maximum rule decides max pooling's index; either with NaN, inf or -inf in a few
    places (max pooling picks a window's last NaN, as PyTorch)."""
    if draw(st.booleans()):
        x = rng.integers(-2, 3, shape).astype(dtype)
    else:
        x = rng.standard_normal(shape).astype(dtype)
    return draw(with_specials(x)) if draw(st.booleans()) else x


@st.composite
def kernel_pool_cases(draw: Any, dilation: bool = True, distinct: bool = False) -> dict:
    """Pooling geometry, floor or ceil mode. By default PyTorch's constraint (padding <= kernel
    / 2) and inputs from :func:`pool_values`; ``distinct=True`` draws padding 0-2 whatever the
    kernel and inputs 1-11 a side on their own, with values that never tie (exact in float32)
    and, half the time, NaN, inf or -inf in a few places."""
    dtype = draw(DTYPES)
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    DH, DW = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    if distinct:
        PH, PW = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        H, W = draw(st.integers(1, 11)), draw(st.integers(1, 11))
        assume(fits(H, KH, PH, DH) and fits(W, KW, PW, DW))
    else:
        PH, PW = draw(st.integers(0, KH // 2)), draw(st.integers(0, KW // 2))
        H = DH * (KH - 1) + 1 - 2 * PH + draw(st.integers(0, 8))
        W = DW * (KW - 1) + 1 - 2 * PW + draw(st.integers(0, 8))
        assume(H >= 1 and W >= 1)
    ceil_mode = draw(st.booleans())
    OH = out_size(H, KH, SH, PH, DH, ceil_mode)
    OW = out_size(W, KW, SW, PW, DW, ceil_mode)
    assume(OH >= 1 and OW >= 1)
    rng = _rng(draw)
    if distinct:
        x = shuffled_grid(rng, (N, C, H, W), 0.125).astype(dtype)
        x = draw(with_specials(x)) if draw(st.booleans()) else x
    else:
        x = pool_values(draw, rng, (N, C, H, W), dtype)
    return dict(
        dtype=dtype,
        x=x,
        gy=rng.standard_normal((N, C, OH, OW)).astype(dtype),
        k=(KH, KW, SH, SW, PH, PW),
        d=(DH, DW),
        out=(OH, OW),
    )


@st.composite
def kernel_adaptive_cases(draw: Any, distinct: bool = False) -> dict:
    """Input and output sizes in any relation: windows may overlap (H % OH != 0) or repeat
    (OH > H). Inputs from :func:`pool_values`, or with ``distinct`` values that never tie
    (exact in float32) and, half the time, NaN, inf or -inf in a few places."""
    dtype = draw(DTYPES)
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if distinct:
        H, W = draw(st.integers(1, 11)), draw(st.integers(1, 11))
        OH, OW = draw(st.integers(1, 13)), draw(st.integers(1, 13))
    else:
        H, W = draw(st.integers(1, 12)), draw(st.integers(1, 12))
        OH, OW = draw(st.integers(1, H + 2)), draw(st.integers(1, W + 2))
    rng = _rng(draw)
    if distinct:
        x = shuffled_grid(rng, (N, C, H, W), 0.125).astype(dtype)
        x = draw(with_specials(x)) if draw(st.booleans()) else x
    else:
        x = pool_values(draw, rng, (N, C, H, W), dtype)
    return dict(dtype=dtype, x=x, gy=rng.standard_normal((N, C, OH, OW)).astype(dtype))


@st.composite
def kernel_batchnorm_cases(draw: Any, long_rows: bool = False) -> dict:
    """x (N, C, L) with L = 1 (BatchNorm1d) or a flattened plane; statistics (C,); a running
    mean and variance, eps 1e-5 or 1e-3. ``long_rows`` draws L up to 700 and channel means
    far from 0 (0, 3 or -50), where a one-pass variance would lose its digits."""
    dtype = draw(DTYPES)
    N, C = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    if long_rows:
        L = draw(st.integers(1, 700))
        offset = draw(st.sampled_from([0.0, 3.0, -50.0]))
    else:
        L = draw(st.sampled_from([1, draw(st.integers(2, 40))]))
        assume(N * L >= 2)  # a variance over one value is 0: fine, but says nothing
    rng = _rng(draw)
    if long_rows:
        x = rng.standard_normal((N, C, L)) * 2 + offset
    else:
        x = rng.standard_normal((N, C, L)) * rng.uniform(0.5, 2.0, (1, C, 1))
        x = x + rng.normal(0, 1, (1, C, 1))
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


@st.composite
def reference_conv_cases(
    draw: Any, max_extra: int = 6, max_batch: int = 3, max_group_channels: int = 3
) -> dict:
    """A valid conv2d configuration with float64 arrays x, w, b and an upstream gradient gy,
    for the tests of numpy_ref itself."""
    N = draw(st.integers(1, max_batch))
    G = draw(st.sampled_from([1, 2, 3]))
    depthwise = draw(st.booleans())
    Cg = 1 if depthwise else draw(st.integers(1, max_group_channels))
    OCg = draw(st.integers(1, 3))
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    PH, PW = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    DH, DW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    # Start from the smallest input the dilated kernel fits, so few draws are discarded.
    H = DH * (KH - 1) + 1 - 2 * PH + draw(st.integers(0, max_extra))
    W = DW * (KW - 1) + 1 - 2 * PW + draw(st.integers(0, max_extra))
    assume(H >= 1 and W >= 1)
    return _conv_case(draw, np.float64, N, G, Cg, OCg, (KH, KW, H, W, SH, SW, PH, PW, DH, DW))


@st.composite
def reference_maxpool_cases(
    draw: Any, max_extra: int = 6, max_channels: int = 3, max_batch: int = 2
) -> tuple:
    """(x, gy, (KH, KW, SH, SW, PH, PW, DH, DW), (OH, OW)), float64, x without ties; every
    window keeps at least one tap on the input."""
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    DH, DW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    PH, PW = draw(st.integers(0, min(2, KH // 2))), draw(st.integers(0, min(2, KW // 2)))
    H = DH * (KH - 1) + 1 - 2 * PH + draw(st.integers(0, max_extra))
    W = DW * (KW - 1) + 1 - 2 * PW + draw(st.integers(0, max_extra))
    assume(H >= 1 and W >= 1)
    ceil_mode = draw(st.booleans())
    OH = out_size(H, KH, SH, PH, DH, ceil_mode)
    OW = out_size(W, KW, SW, PW, DW, ceil_mode)
    assume(OH >= 1 and OW >= 1)
    # With dilation a window can fall entirely on padding; the caller never asks for one.
    rows_ok = all(any(0 <= o * SH - PH + k * DH < H for k in range(KH)) for o in range(OH))
    cols_ok = all(any(0 <= o * SW - PW + k * DW < W for k in range(KW)) for o in range(OW))
    assume(rows_ok and cols_ok)
    N, C = draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels))
    rng = _rng(draw)
    x = shuffled_grid(rng, (N, C, H, W))
    gy = rng.standard_normal((N, C, OH, OW))
    return x, gy, (KH, KW, SH, SW, PH, PW, DH, DW), (OH, OW)


@st.composite
def reference_avgpool_cases(draw: Any) -> tuple:
    """(x, gy, (KH, KW, SH, SW, PH, PW), (OH, OW), count_include_pad), float64."""
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    PH, PW = draw(st.integers(0, min(2, KH // 2))), draw(st.integers(0, min(2, KW // 2)))
    H = KH - 2 * PH + draw(st.integers(0, 6))
    W = KW - 2 * PW + draw(st.integers(0, 6))
    assume(H >= 1 and W >= 1)
    ceil_mode = draw(st.booleans())
    OH = out_size(H, KH, SH, PH, 1, ceil_mode)
    OW = out_size(W, KW, SW, PW, 1, ceil_mode)
    assume(OH >= 1 and OW >= 1)
    include = draw(st.sampled_from([0, 1]))
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = _rng(draw)
    x = rng.standard_normal((N, C, H, W))
    gy = rng.standard_normal((N, C, OH, OW))
    return x, gy, (KH, KW, SH, SW, PH, PW), (OH, OW), include


@st.composite
def reference_adaptive_cases(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    """(x, gy), float64, x without ties; input 1-9 and output 1-6 a side, in any relation."""
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    OH, OW = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    rng = _rng(draw)
    return shuffled_grid(rng, (N, C, H, W)), rng.standard_normal((N, C, OH, OW))
