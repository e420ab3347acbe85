"""Convolution kernels of the fast backends against numpy_ref: forward (with and without a
bias), input gradient and weight gradient, on drawn geometry (each strategy aims at one path of
the fast kernels), on ResNet-20's layers, and the weight gradient's determinism."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from minicnn.kernels import numpy_ref as R
from strategies import (
    kernel_conv_batches,
    kernel_conv_cases,
    kernel_conv_channels,
)

from .parity import FastBackend

NUMBA_CONV = "minicnn.kernels.numba_cpu.conv"


def check_conv2d(fb: FastBackend, case: dict) -> None:
    """Forward, input gradient and weight gradient against the reference."""
    x, w, b, gy, geom, dt = case["x"], case["w"], case["b"], case["gy"], case["geom"], case["dtype"]
    H, W = x.shape[2:]
    KH, KW = w.shape[2:]
    for bias in (b, None):
        fb.assert_close(
            fb.run("conv2d_forward", x, w, bias, *geom),
            R.conv2d_forward(x, w, bias, *geom),
            dt,
            f"forward, bias={bias is not None}",
        )
    fb.assert_close(
        fb.run("conv2d_backward_input", gy, w, H, W, *geom),
        R.conv2d_backward_input(gy, w, H, W, *geom),
        dt,
        "backward_input",
    )
    fb.assert_close(
        fb.run("conv2d_backward_weight", gy, x, KH, KW, *geom),
        R.conv2d_backward_weight(gy, x, KH, KW, *geom),
        dt,
        "backward_weight",
    )


@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=kernel_conv_cases())
def test_conv2d_parity(fast_backend, case):
    check_conv2d(fast_backend, case)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(case=kernel_conv_cases(wide=True))
def test_conv2d_parity_wide_stride1(fast_backend, case):
    check_conv2d(fast_backend, case)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(case=kernel_conv_batches(windows=True))
def test_conv2d_parity_windows_any_stride(fast_backend, case):
    check_on_windows(fast_backend, case)


def test_conv2d_parity_windows_any_stride_rows_longer_than_the_channels(fast_backend):
    """Fewer channels (5) than columns (13): the transpose to channels last goes by channel
    rows, with one left over, which the drawn cases (7-9 channels, <= 10 columns) rarely reach."""
    rng = np.random.default_rng(2)
    for S in (1, 2):
        check_on_windows(fast_backend, _layer_case(rng, np.float32, 3, 5, 8, 13, 3, S, 1))


def check_on_windows(fb: FastBackend, case: dict) -> None:
    """check_conv2d with numba's windows from K = 32 on any machine: it takes them from there
    with AVX-512 but only from K = 256 with AVX2 (see its gemm.py)."""
    with pytest.MonkeyPatch.context() as patch:
        if fb.name == "numba":
            patch.setattr(importlib.import_module(NUMBA_CONV), "_DOT_MIN_K", 32)
        check_conv2d(fb, case)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(case=kernel_conv_batches(windows=False))
def test_conv2d_parity_planes_batched(fast_backend, case):
    check_conv2d(fast_backend, case)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(case=kernel_conv_channels())
def test_conv2d_parity_many_channels(fast_backend, case):
    check_conv2d(fast_backend, case)


def _layer_case(rng, dtype, N, C, OC, H, K, S, P):
    OH = (H + 2 * P - K) // S + 1
    return dict(
        dtype=dtype,
        x=rng.standard_normal((N, C, H, H)).astype(dtype),
        w=rng.standard_normal((OC, C, K, K)).astype(dtype),
        b=rng.standard_normal(OC).astype(dtype),
        gy=rng.standard_normal((N, OC, OH, OH)).astype(dtype),
        geom=(S, S, P, P, 1, 1, 1),
    )


def test_conv2d_resnet_layer_shapes(fast_backend):
    """The ResNet-20 geometries the benchmarks time (3x3, pad 1, stride 1 and 2, 16-64
    channels), at a batch that splits into uneven work items."""
    rng = np.random.default_rng(0)
    for C, H, OC, S in ((16, 32, 16, 1), (16, 32, 32, 2), (32, 16, 64, 2), (64, 8, 64, 1)):
        check_conv2d(fast_backend, _layer_case(rng, np.float32, 7, C, OC, H, 3, S, 1))


# Layers of ResNet-20 (and a few awkward neighbours) that reach every tile shape of the GPU's
# GEMM kernels, several k chunks per tap, several row tiles and the split-K reduction.
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("layer", RESNET_LAYERS, ids=lambda v: "x".join(map(str, v)))
def test_conv2d_resnet_layers(fast_backend, layer, dtype):
    check_conv2d(fast_backend, _layer_case(np.random.default_rng(0), dtype, *layer))


def test_conv2d_backward_weight_is_deterministic(fast_backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 16, 16, 16)).astype(np.float32)
    gy = rng.standard_normal((8, 16, 16, 16)).astype(np.float32)
    first = fast_backend.run("conv2d_backward_weight", gy, x, 3, 3, 1, 1, 1, 1, 1, 1, 1)
    second = fast_backend.run("conv2d_backward_weight", gy, x, 3, 3, 1, 1, 1, 1, 1, 1, 1)
    fast_backend.assert_equal(second, first)
