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


def _check_grid(C: int) -> None:
    # A reduction grid has one row of blocks per channel: the hardware's limit on grid.y.
    if C > 65535:
        raise ValueError(f"x has {C} channels, more than the grid limit of 65535")


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
    N, C, L = x.shape
    _check_grid(C)
    y = cp.empty_like(x)
    mean = cp.empty(C, dtype=x.dtype)
    invstd = cp.empty(C, dtype=x.dtype)
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
    N, C, L = x.shape
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
    """(gx, ggamma, gbeta) of the training forward, the formula of numpy_ref.batchnorm_backward
    (the two channel sums first, then one thread per element of gx)."""
    cp = import_cupy()
    N, C, L = x.shape
    _check_grid(C)
    gx = cp.empty_like(x)
    ggamma = cp.empty(C, dtype=x.dtype)
    gbeta = cp.empty(C, dtype=x.dtype)
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
    C = running_mean.shape[0]
    new_mean, new_var = cp.empty_like(running_mean), cp.empty_like(running_var)
    name = f"batchnorm_update_running_kernel<{ctype(running_mean.dtype)}>"
    launch(
        FILE,
        NAMES,
        name,
        ((C + THREADS - 1) // THREADS,),
        (THREADS,),
        (
            running_mean,
            running_var,
            mean,
            invstd,
            new_mean,
            new_var,
            np.int32(C),
            np.float64(momentum),
            np.float64(eps),
            np.float64(M),
        ),
    )
    return new_mean, new_var
