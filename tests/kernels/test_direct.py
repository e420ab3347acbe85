"""Direct twins: every ``<name>_direct`` against the NumPy oracle and against its fast kernel.

Each backend's ``DIRECT`` table (numpy_ref, numba_cpu, and cuda where a GPU is present, marked
``gpu``) runs on hypothesis-drawn geometry where sliding-window code breaks (strides larger than
the kernel, padding up to half the kernel, dilation, groups, odd and non-square sizes, ceil
mode), in float32 and float64. Every output must match numpy_ref's contract kernel (the oracle)
and the same backend's fast kernel, to the dtype's tolerance (sums run in different orders);
max-pooling inputs have no ties, so indices must match exactly. A NaN in a max-pooling window
wins, as in PyTorch: the output is NaN and the index points at the window's last NaN.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from minicnn.kernels import numpy_ref
from strategies import adaptive_cases, conv_cases, distinct_grid, pool_cases, seeds, uniform

import minicnn

ORACLE = numpy_ref.KERNELS
RTOL = {np.float32: 1e-4, np.float64: 1e-10}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


@dataclass
class Twins:
    """A backend's direct twins and fast kernels, and how its arrays go to and from the host."""

    direct: dict[str, Any]
    fast: dict[str, Any]
    to_device: Any
    to_host: Any


@pytest.fixture(
    params=[
        pytest.param("numpy_ref", id="numpy"),
        pytest.param("numba_cpu", id="numba"),
        pytest.param("cuda", id="cupy", marks=pytest.mark.gpu),
    ]
)
def twins(request: pytest.FixtureRequest) -> Twins:
    to_device = to_host = np.asarray
    if request.param == "cuda":
        reason = minicnn.unavailable_reason("cupy")
        if reason is not None:
            pytest.skip(f"the CUDA twins need a GPU: {reason}")
        import cupy

        to_device, to_host = cupy.asarray, cupy.asnumpy
    module = importlib.import_module(f"minicnn.kernels.{request.param}")
    return Twins(module.DIRECT, module.KERNELS, to_device, to_host)


def _tuple(result: Any) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def _assert_close(got: np.ndarray, want: np.ndarray, dtype: type, scale: float, what: str):
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if got.dtype.kind != "f":  # indices: exactly the same
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    scale = max(scale, float(np.abs(want).max(initial=0.0))) or 1.0
    rtol = RTOL[dtype]
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


def check(t: Twins, name: str, dtype: type, *args: Any, scale: float = 0.0) -> tuple:
    """Run ``name``'s twin and fast kernel on ``args`` (host arrays, already of ``dtype``);
    assert both match the oracle; return the twin's results on the host. Errors are measured
    against the largest output, or ``scale`` when the terms that cancel into it are larger."""
    want = _tuple(ORACLE[name](*args))
    on_device = [t.to_device(a) if isinstance(a, np.ndarray) else a for a in args]
    twin = [t.to_host(r) for r in _tuple(t.direct[f"{name}_direct"](*on_device))]
    fast = [t.to_host(r) for r in _tuple(t.fast[name](*on_device))]
    assert len(twin) == len(want) == len(fast), name
    for i, (d, f, w) in enumerate(zip(twin, fast, want)):
        _assert_close(d, w, dtype, scale, f"{name}_direct, result {i}, against the oracle")
        _assert_close(d, f, dtype, scale, f"{name}_direct, result {i}, against {name}")
    return tuple(twin)


@DTYPES
@given(case=conv_cases(max_elements=150), seed=seeds())
def test_conv2d_twins(twins, dtype, case, seed):
    top, bottom, left, right = case.pads
    assume(top == bottom and left == right)  # the kernels pad symmetrically
    geometry = (*case.strides, top, left, *case.dilations, case.groups)
    x = uniform(seed, case.x_shape).astype(dtype)
    w = uniform(seed + 1, case.w_shape).astype(dtype)
    b = uniform(seed + 2, (case.OC,)).astype(dtype) if case.bias else None
    gy = uniform(seed + 3, case.y_shape).astype(dtype)
    check(twins, "conv2d_forward", dtype, x, w, b, *geometry)
    check(twins, "conv2d_backward_input", dtype, gy, w, case.H, case.W, *geometry)
    check(twins, "conv2d_backward_weight", dtype, gy, x, case.KH, case.KW, *geometry)


# ResNet-20's layer kinds at a small batch and size: channel counts where the fast Numba and
# CUDA kernels take their blocked paths, which the small drawn cases do not reach.
RESNET_LAYERS = [(3, 16, 16, 8, 3, 1, 1), (2, 16, 32, 8, 3, 2, 1), (2, 32, 64, 6, 1, 2, 0)]


@DTYPES
@pytest.mark.parametrize("layer", RESNET_LAYERS, ids=lambda v: "x".join(map(str, v)))
def test_conv2d_twins_on_resnet_layers(twins, dtype, layer):
    N, C, OC, H, K, S, P = layer
    x = uniform(0, (N, C, H, H)).astype(dtype)
    w = uniform(1, (OC, C, K, K)).astype(dtype)
    b = uniform(2, (OC,)).astype(dtype)
    (y,) = check(twins, "conv2d_forward", dtype, x, w, b, S, S, P, P, 1, 1, 1)
    gy = uniform(3, y.shape).astype(dtype)
    check(twins, "conv2d_backward_input", dtype, gy, w, H, H, S, S, P, P, 1, 1, 1)
    check(twins, "conv2d_backward_weight", dtype, gy, x, K, K, S, S, P, P, 1, 1, 1)


@DTYPES
@given(case=pool_cases(max_elements=120), seed=seeds())
def test_maxpool2d_twins(twins, dtype, case, seed):
    geometry = (case.KH, case.KW, case.SH, case.SW, case.PH, case.PW, case.DH, case.DW)
    x = distinct_grid(seed, case.x_shape).astype(dtype)
    _, idx = check(twins, "maxpool2d_forward", dtype, x, *geometry, *case.out_hw)
    gy = uniform(seed + 1, case.y_shape).astype(dtype)
    check(twins, "maxpool2d_backward", dtype, gy, idx, case.H, case.W, *geometry)


@DTYPES
@given(case=pool_cases(max_dilation=1, max_elements=120), cip=st.booleans(), seed=seeds())
def test_avgpool2d_twins(twins, dtype, case, cip, seed):
    geometry = (case.KH, case.KW, case.SH, case.SW, case.PH, case.PW)
    x = uniform(seed, case.x_shape).astype(dtype)
    check(twins, "avgpool2d_forward", dtype, x, *geometry, *case.out_hw, int(cip))
    gy = uniform(seed + 1, case.y_shape).astype(dtype)
    check(twins, "avgpool2d_backward", dtype, gy, case.H, case.W, *geometry, int(cip))


@DTYPES
@given(case=adaptive_cases(), seed=seeds())
def test_adaptive_pool_twins(twins, dtype, case, seed):
    (N, C, H, W), (OH, OW) = case
    x = distinct_grid(seed, (N, C, H, W)).astype(dtype)
    gy = uniform(seed + 1, (N, C, OH, OW)).astype(dtype)
    check(twins, "adaptive_avgpool2d_forward", dtype, x, OH, OW)
    check(twins, "adaptive_avgpool2d_backward", dtype, gy, H, W)
    _, idx = check(twins, "adaptive_maxpool2d_forward", dtype, x, OH, OW)
    check(twins, "adaptive_maxpool2d_backward", dtype, gy, idx, H, W)


@DTYPES
@given(
    N=st.integers(1, 4),
    C=st.integers(1, 5),
    L=st.integers(1, 12),
    offset=st.sampled_from([0.0, 5.0]),
    eps=st.sampled_from([1e-5, 1e-3]),
    seed=seeds(),
)
def test_batchnorm_twins(twins, dtype, N, C, L, offset, eps, seed):
    assume(N * L > 1)
    x = (uniform(seed, (N, C, L)) * 2 + offset).astype(dtype)
    gamma, beta = uniform(seed + 1, (C,)).astype(dtype), uniform(seed + 2, (C,)).astype(dtype)
    _, mean, invstd = check(twins, "batchnorm_forward_train", dtype, x, gamma, beta, eps)
    running_var = uniform(seed + 3, (C,), 0.5, 2.0).astype(dtype)
    check(twins, "batchnorm_forward_eval", dtype, x, mean, running_var, gamma, beta, eps)
    gy = uniform(seed + 4, (N, C, L)).astype(dtype)
    # gx is M * gy less two sums that nearly cancel it for small M: errors scale with M * gy
    scale = float(np.abs(gamma * invstd).max()) * N * L
    check(twins, "batchnorm_backward", dtype, gy, x, gamma, mean, invstd, scale=scale)


def _max_as_pytorch(values: list[float], where: list[int]) -> tuple[float, int]:
    """A window's maximum and its index by PyTorch's rule, one scalar at a time: a tap wins if
    it is the first, larger than the running maximum, or NaN."""
    best, best_i = -math.inf, -1
    for v, i in zip(values, where):
        if best_i < 0 or v > best or math.isnan(v):
            best, best_i = v, i
    return best, best_i


def _with_nans(seed: int, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Distinct values with about one in four replaced by NaN (so windows hold 0, 1 or more)."""
    x = distinct_grid(seed, shape).astype(dtype)
    x[np.random.default_rng(seed).random(shape) < 0.25] = np.nan
    return x


def _assert_nan_max(t: Twins, name: str, x: np.ndarray, args: tuple, windows) -> None:
    """The twin ``name`` on x matches PyTorch's rule on every window; its backward routes each
    gy to the chosen element, as the oracle's scatter does with the same indices."""
    N, C, H, W = x.shape
    y, idx = (t.to_host(r) for r in t.direct[f"{name}_forward_direct"](t.to_device(x), *args))
    for n, c, oh, ow in np.ndindex(*y.shape):
        where = [h * W + w for h, w in windows(oh, ow)]
        best, best_i = _max_as_pytorch([x[n, c, h, w] for h, w in windows(oh, ow)], where)
        np.testing.assert_equal(y[n, c, oh, ow], best)  # NaN equals NaN here
        assert idx[n, c, oh, ow] == best_i, (n, c, oh, ow)
    gy = uniform(1, y.shape).astype(x.dtype)
    backward_args = (H, W, *args[:8]) if name == "maxpool2d" else (H, W)
    gx = t.direct[f"{name}_backward_direct"](t.to_device(gy), t.to_device(idx), *backward_args)
    want = ORACLE[f"{name}_backward"](gy, idx, *backward_args)
    np.testing.assert_allclose(t.to_host(gx), want, rtol=RTOL[x.dtype.type])


@DTYPES
@given(case=pool_cases(max_elements=120), seed=seeds())
def test_maxpool2d_twins_propagate_nan(twins, dtype, case, seed):
    c = case
    x = _with_nans(seed, c.x_shape, dtype)

    def windows(oh: int, ow: int) -> list[tuple[int, int]]:
        taps = [(oh * c.SH - c.PH + kh * c.DH, ow * c.SW - c.PW + kw * c.DW)
                for kh in range(c.KH) for kw in range(c.KW)]  # fmt: skip
        return [(h, w) for h, w in taps if 0 <= h < c.H and 0 <= w < c.W]

    args = (c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, c.DH, c.DW, *c.out_hw)
    _assert_nan_max(twins, "maxpool2d", x, args, windows)


@DTYPES
@given(case=adaptive_cases(), seed=seeds())
def test_adaptive_maxpool2d_twins_propagate_nan(twins, dtype, case, seed):
    (N, C, H, W), (OH, OW) = case
    x = _with_nans(seed, (N, C, H, W), dtype)

    def windows(oh: int, ow: int) -> list[tuple[int, int]]:
        (h0, h1), (w0, w1) = [(o * L // O, -(-(o + 1) * L // O)) for o, O, L in
                              ((oh, OH, H), (ow, OW, W))]  # fmt: skip
        return [(h, w) for h in range(h0, h1) for w in range(w0, w1)]

    _assert_nan_max(twins, "adaptive_maxpool2d", x, (OH, OW), windows)


def test_maxpool2d_twins_point_at_the_last_nan(twins):
    """One window [1, NaN, 3, NaN, 2] by hand: the output is NaN and idx names the second NaN."""
    x = np.array([[[[1.0, np.nan, 3.0, np.nan, 2.0]]]])
    y, idx = twins.direct["maxpool2d_forward_direct"](
        twins.to_device(x), 1, 5, 1, 1, 0, 0, 1, 1, 1, 1
    )
    assert np.isnan(twins.to_host(y)).all() and twins.to_host(idx).ravel().tolist() == [3]
    y, idx = twins.direct["adaptive_maxpool2d_forward_direct"](twins.to_device(x), 1, 1)
    assert np.isnan(twins.to_host(y)).all() and twins.to_host(idx).ravel().tolist() == [3]
