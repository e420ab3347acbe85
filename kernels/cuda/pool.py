"""Pooling on the GPU: launchers for the kernels of ``pool.cu``.

Every kernel is a grid-stride loop with one thread per output element (forward) or per input
element (backward, written as a gather), so all launches share :func:`elementwise_grid`.
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
)

if TYPE_CHECKING:
    import cupy

FILE = "pool.cu"
NAMES = tuple(
    name
    for kernel in (
        "maxpool2d_forward_kernel",
        "maxpool2d_backward_kernel",
        "avgpool2d_forward_kernel",
        "avgpool2d_backward_kernel",
        "adaptive_avgpool2d_forward_kernel",
        "adaptive_avgpool2d_backward_kernel",
        "adaptive_maxpool2d_forward_kernel",
        "adaptive_maxpool2d_backward_kernel",
    )
    for name in instantiations(kernel)
)


def _run(kernel: str, dtype, total: int, args: tuple) -> None:
    """Launch ``kernel<T>`` of pool.cu over ``total`` elements (nothing to do if 0)."""
    if total > 0:
        name = f"{kernel}<{ctype(dtype)}>"
        launch(FILE, NAMES, name, elementwise_grid(total), (THREADS,), args)


def maxpool2d_forward(
    x: cupy.ndarray,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
    OH: int,
    OW: int,
) -> tuple[cupy.ndarray, cupy.ndarray]:
    """y (N, C, OH, OW) = max over each window of x (N, C, H, W), and idx (int64) of the max."""
    cp = import_cupy()
    N, C, H, W = x.shape
    y = cp.empty((N, C, OH, OW), dtype=x.dtype)
    idx = cp.empty((N, C, OH, OW), dtype=np.int64)
    sizes = (N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)
    _run("maxpool2d_forward_kernel", x.dtype, y.size, (x, y, idx, *int32_args(*sizes)))
    return y, idx


def maxpool2d_backward(
    gy: cupy.ndarray,
    idx: cupy.ndarray,
    H: int,
    W: int,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
) -> cupy.ndarray:
    """gx (N, C, H, W): each gy (N, C, OH, OW) element added to the input its window chose."""
    cp = import_cupy()
    N, C, OH, OW = gy.shape
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    sizes = (N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)
    _run("maxpool2d_backward_kernel", gy.dtype, gx.size, (gy, idx, gx, *int32_args(*sizes)))
    return gx


def avgpool2d_forward(
    x: cupy.ndarray,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    OH: int,
    OW: int,
    count_include_pad: int,
) -> cupy.ndarray:
    """y (N, C, OH, OW) = mean over each window of x (N, C, H, W), PyTorch's divisor rule."""
    cp = import_cupy()
    N, C, H, W = x.shape
    y = cp.empty((N, C, OH, OW), dtype=x.dtype)
    sizes = (N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, int(bool(count_include_pad)))
    _run("avgpool2d_forward_kernel", x.dtype, y.size, (x, y, *int32_args(*sizes)))
    return y


def avgpool2d_backward(
    gy: cupy.ndarray,
    H: int,
    W: int,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    count_include_pad: int,
) -> cupy.ndarray:
    """gx (N, C, H, W): each gy (N, C, OH, OW) element spread over its window / divisor."""
    cp = import_cupy()
    N, C, OH, OW = gy.shape
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    sizes = (N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, int(bool(count_include_pad)))
    _run("avgpool2d_backward_kernel", gy.dtype, gx.size, (gy, gx, *int32_args(*sizes)))
    return gx


def adaptive_avgpool2d_forward(x: cupy.ndarray, OH: int, OW: int) -> cupy.ndarray:
    """y (N, C, OH, OW): mean of x (N, C, H, W) over cell [floor(i*H/OH), ceil((i+1)*H/OH))."""
    cp = import_cupy()
    N, C, H, W = x.shape
    y = cp.empty((N, C, OH, OW), dtype=x.dtype)
    sizes = (N, C, H, W, OH, OW)
    _run("adaptive_avgpool2d_forward_kernel", x.dtype, y.size, (x, y, *int32_args(*sizes)))
    return y


def adaptive_avgpool2d_backward(gy: cupy.ndarray, H: int, W: int) -> cupy.ndarray:
    """gx (N, C, H, W): each gy (N, C, OH, OW) element spread over its cell / cell area."""
    cp = import_cupy()
    N, C, OH, OW = gy.shape
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    sizes = (N, C, H, W, OH, OW)
    _run("adaptive_avgpool2d_backward_kernel", gy.dtype, gx.size, (gy, gx, *int32_args(*sizes)))
    return gx


def adaptive_maxpool2d_forward(
    x: cupy.ndarray, OH: int, OW: int
) -> tuple[cupy.ndarray, cupy.ndarray]:
    """y (N, C, OH, OW) = max of x (N, C, H, W) over each adaptive cell, and idx (int64)."""
    cp = import_cupy()
    N, C, H, W = x.shape
    y = cp.empty((N, C, OH, OW), dtype=x.dtype)
    idx = cp.empty((N, C, OH, OW), dtype=np.int64)
    sizes = (N, C, H, W, OH, OW)
    _run("adaptive_maxpool2d_forward_kernel", x.dtype, y.size, (x, y, idx, *int32_args(*sizes)))
    return y, idx


def adaptive_maxpool2d_backward(
    gy: cupy.ndarray, idx: cupy.ndarray, H: int, W: int
) -> cupy.ndarray:
    """gx (N, C, H, W): each gy (N, C, OH, OW) element added to the input its cell chose."""
    cp = import_cupy()
    N, C, OH, OW = gy.shape
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    sizes = (N, C, H, W, OH, OW)
    _run(
        "adaptive_maxpool2d_backward_kernel", gy.dtype, gx.size, (gy, idx, gx, *int32_args(*sizes))
    )
    return gx
