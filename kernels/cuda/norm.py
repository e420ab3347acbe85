"""Batch normalisation on the GPU: launchers for the kernels of ``norm.cu``.

x is viewed as (N, C, L): (N, C, H, W) inputs have L = H*W, (N, C) inputs L = 1. Statistics
and parameter gradients are two-level sums: S blocks per channel write partial sums to a float64
workspace (C, S, 2), one thread per channel adds them up; the elementwise kernels then run one
thread per element.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .launch import (
    THREADS,
    check_float_array,
    check_same_dtype,
    ctype,
    elementwise_grid,
    import_cupy,
    instantiations,
    int32_args,
    launch,
    multiprocessor_count,
)

if TYPE_CHECKING:
    import cupy

FILE = "norm.cu"
REDUCE_THREADS = 256  # must match norm.cu
NAMES = tuple(
    name
    for kernel in (
        "batchnorm_partial_stats_kernel",
        "batchnorm_finalize_stats_kernel",
        "batchnorm_normalize_kernel",
        "batchnorm_eval_kernel",
        "batchnorm_backward_partial_kernel",
        "batchnorm_backward_finalize_kernel",
        "batchnorm_backward_input_kernel",
        "batchnorm_update_running_kernel",
    )
    for name in instantiations(kernel)
)


def _ncl(name: str, x) -> tuple[int, int, int]:
    """(N, C, L) of an (N, C, ...) array."""
    if x.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (N, C, ...), got {x.shape}")
    N, C = x.shape[:2]
    return N, C, int(np.prod(x.shape[2:], dtype=np.int64))


def _check_channel_vectors(x, C: int, **vectors) -> None:
    for name, v in vectors.items():
        check_float_array(name, v, 1)
        check_same_dtype("x", x, **{name: v})
        if v.shape != (C,):
            raise ValueError(f"{name} must have shape ({C},), got {v.shape}")


def _slices_per_channel(C: int, M: int) -> int:
    """S: enough blocks for about four per multiprocessor, each with at least 2048 elements."""
    wanted = -(-4 * multiprocessor_count() // C)
    return max(1, min(wanted, M // 2048))


def _launch_partial(kernel: str, dtype, S: int, C: int, args: tuple) -> None:
    """A (S, C) grid of reduction blocks."""
    name = f"{kernel}<{ctype(dtype)}>"
    launch(FILE, NAMES, name, (S, C), (REDUCE_THREADS,), args)


def _launch_elementwise(kernel: str, dtype, total: int, args: tuple) -> None:
    name = f"{kernel}<{ctype(dtype)}>"
    launch(FILE, NAMES, name, elementwise_grid(total), (THREADS,), args)


def batchnorm_forward_train(
    x: cupy.ndarray, gamma: cupy.ndarray, beta: cupy.ndarray, eps: float
) -> tuple[cupy.ndarray, cupy.ndarray, cupy.ndarray]:
    """y = (x - mean) * invstd * gamma + beta over batch statistics; returns (y, mean, invstd)."""
    cp = import_cupy()
    check_float_array("x", x)
    N, C, L = _ncl("x", x)
    _check_channel_vectors(x, C, gamma=gamma, beta=beta)
    if N * L == 0:
        raise ValueError(f"batch statistics need at least one element per channel, got {x.shape}")
    x, gamma, beta = (cp.ascontiguousarray(a) for a in (x, gamma, beta))
    y = cp.empty_like(x)
    mean = cp.empty(C, dtype=x.dtype)
    invstd = cp.empty(C, dtype=x.dtype)
    if C == 0:
        return y, mean, invstd
    if C > 65535:
        raise ValueError(f"x has {C} channels, more than the grid limit of 65535")
    sizes = int32_args(N, C, L)
    S = _slices_per_channel(C, N * L)
    ws = cp.empty((C, S, 2), dtype=np.float64)  # per slice: sum of x - K, sum of (x - K)^2
    _launch_partial("batchnorm_partial_stats_kernel", x.dtype, S, C, (x, ws, *sizes))
    _launch_elementwise(
        "batchnorm_finalize_stats_kernel",
        x.dtype,
        C,
        (x, ws, mean, invstd, *sizes, np.int32(S), np.float64(eps)),
    )
    _launch_elementwise(
        "batchnorm_normalize_kernel", x.dtype, x.size, (x, mean, invstd, gamma, beta, y, *sizes)
    )
    return y, mean, invstd


def batchnorm_forward_eval(
    x: cupy.ndarray,
    running_mean: cupy.ndarray,
    running_var: cupy.ndarray,
    gamma: cupy.ndarray,
    beta: cupy.ndarray,
    eps: float,
) -> cupy.ndarray:
    """y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta, per channel."""
    cp = import_cupy()
    check_float_array("x", x)
    N, C, L = _ncl("x", x)
    _check_channel_vectors(
        x, C, running_mean=running_mean, running_var=running_var, gamma=gamma, beta=beta
    )
    arrays = (x, running_mean, running_var, gamma, beta)
    x, running_mean, running_var, gamma, beta = (cp.ascontiguousarray(a) for a in arrays)
    y = cp.empty_like(x)
    if y.size > 0:
        args = (x, running_mean, running_var, gamma, beta, y, *int32_args(N, C, L))
        _launch_elementwise("batchnorm_eval_kernel", x.dtype, x.size, args + (np.float64(eps),))
    return y


def batchnorm_backward(
    gy: cupy.ndarray,
    x: cupy.ndarray,
    gamma: cupy.ndarray,
    mean: cupy.ndarray,
    invstd: cupy.ndarray,
) -> tuple[cupy.ndarray, cupy.ndarray, cupy.ndarray]:
    """(gx, ggamma, gbeta) of the training forward; gx = gamma*invstd/M (M gy - gbeta - xhat ggamma)."""
    cp = import_cupy()
    check_float_array("x", x)
    check_float_array("gy", gy)
    check_same_dtype("x", x, gy=gy)
    if gy.shape != x.shape:
        raise ValueError(f"gy must have the shape of x {x.shape}, got {gy.shape}")
    N, C, L = _ncl("x", x)
    _check_channel_vectors(x, C, gamma=gamma, mean=mean, invstd=invstd)
    arrays = (gy, x, gamma, mean, invstd)
    gy, x, gamma, mean, invstd = (cp.ascontiguousarray(a) for a in arrays)
    gx = cp.empty_like(x)
    ggamma = cp.zeros(C, dtype=x.dtype)  # stay zero if x is empty
    gbeta = cp.zeros(C, dtype=x.dtype)
    if gx.size == 0:
        return gx, ggamma, gbeta
    if C > 65535:
        raise ValueError(f"x has {C} channels, more than the grid limit of 65535")
    sizes = int32_args(N, C, L)
    S = _slices_per_channel(C, N * L)
    ws = cp.empty((C, S, 2), dtype=np.float64)  # per slice: sum of gy, sum of gy * xhat
    _launch_partial(
        "batchnorm_backward_partial_kernel", x.dtype, S, C, (gy, x, mean, invstd, ws, *sizes)
    )
    _launch_elementwise(
        "batchnorm_backward_finalize_kernel",
        x.dtype,
        C,
        (ws, ggamma, gbeta, np.int32(C), np.int32(S)),
    )
    args = (gy, x, gamma, mean, invstd, ggamma, gbeta, gx, *sizes)
    _launch_elementwise("batchnorm_backward_input_kernel", x.dtype, x.size, args)
    return gx, ggamma, gbeta


def batchnorm_update_running(
    running_mean: cupy.ndarray,
    running_var: cupy.ndarray,
    mean: cupy.ndarray,
    invstd: cupy.ndarray,
    momentum: float,
    eps: float,
    M: int,
) -> tuple[cupy.ndarray, cupy.ndarray]:
    """Running statistics (C,) after a training batch -> (new_mean, new_var), one launch."""
    cp = import_cupy()
    check_float_array("running_mean", running_mean, 1)
    C = running_mean.shape[0]
    _check_channel_vectors(running_mean, C, running_var=running_var, mean=mean, invstd=invstd)
    args = [cp.ascontiguousarray(a) for a in (running_mean, running_var, mean, invstd)]
    new_mean, new_var = cp.empty_like(running_mean), cp.empty_like(running_var)
    name = f"batchnorm_update_running_kernel<{ctype(running_mean.dtype)}>"
    launch(
        FILE,
        NAMES,
        name,
        ((C + THREADS - 1) // THREADS,),
        (THREADS,),
        (
            *args,
            new_mean,
            new_var,
            np.int32(C),
            np.float64(momentum),
            np.float64(eps),
            np.float64(M),
        ),
    )
    return new_mean, new_var
