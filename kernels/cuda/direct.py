"""The direct twins on the GPU: launchers for the kernels of ``direct.cu``.

Each function has the signature of the fast kernel it twins (``conv2d_forward_direct`` that of
``conv2d_forward``, and so on) and, as every kernel, trusts its arguments (the op boundary has
checked shapes and dtypes and made the arrays C-contiguous); it allocates the outputs and launches one thread
per output element; batch norm first runs one thread per channel for the sums. Every launch is
a grid-stride loop over :data:`~.launch.THREADS`-thread blocks (:func:`_run`).
"""

from __future__ import annotations

import numpy as np

from .conv import _backward_input_shapes, _backward_weight_shapes, _forward_shapes, _shape_args
from .launch import (
    THREADS,
    ctype,
    elementwise_grid,
    import_cupy,
    instantiations,
    int32_args,
    launch,
)

FILE = "direct.cu"
NAMES = tuple(
    name
    for kernel in (
        "conv2d_forward_direct_kernel",
        "conv2d_backward_input_direct_kernel",
        "conv2d_backward_weight_direct_kernel",
        "maxpool2d_forward_direct_kernel",
        "maxpool2d_backward_direct_kernel",
        "avgpool2d_forward_direct_kernel",
        "avgpool2d_backward_direct_kernel",
        "adaptive_avgpool2d_forward_direct_kernel",
        "adaptive_avgpool2d_backward_direct_kernel",
        "adaptive_maxpool2d_forward_direct_kernel",
        "adaptive_maxpool2d_backward_direct_kernel",
        "batchnorm_stats_direct_kernel",
        "batchnorm_normalize_direct_kernel",
        "batchnorm_eval_direct_kernel",
        "batchnorm_backward_sums_direct_kernel",
        "batchnorm_backward_input_direct_kernel",
    )
    for name in instantiations(kernel)
)


def _run(kernel: str, dtype, total: int, *args) -> None:
    """Launch ``kernel<T>`` of direct.cu with one thread per element of ``total`` (none if 0)."""
    if total > 0:
        name = f"{kernel}<{ctype(dtype)}>"
        launch(FILE, NAMES, name, elementwise_grid(total), (THREADS,), args)


def conv2d_forward_direct(x, w, b, SH, SW, PH, PW, DH, DW, G):
    """y (N, OC, OH, OW) = conv2d(x (N, C, H, W), w (OC, C/G, KH, KW)) + b (OC,), by definition."""
    cp = import_cupy()
    N, C, H, W, OC, KH, KW, OH, OW = _forward_shapes(x, w, SH, SW, PH, PW, DH, DW, G)
    y = cp.empty((N, OC, OH, OW), dtype=x.dtype)
    bias = b if b is not None else y  # y is never read when has_bias is 0
    sizes = _shape_args(N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW)
    _run(
        "conv2d_forward_direct_kernel",
        x.dtype,
        y.size,
        x,
        w,
        bias,
        y,
        *sizes,
        np.int32(b is not None),
    )
    return y


def conv2d_backward_input_direct(gy, w, H, W, SH, SW, PH, PW, DH, DW, G):
    """gx (N, C, H, W) from gy (N, OC, OH, OW) and w (OC, C/G, KH, KW), one thread per element."""
    cp = import_cupy()
    N, C, OC, KH, KW, OH, OW = _backward_input_shapes(gy, w, G)
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    sizes = _shape_args(N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW)
    _run("conv2d_backward_input_direct_kernel", gy.dtype, gx.size, gy, w, gx, *sizes)
    return gx


def conv2d_backward_weight_direct(gy, x, KH, KW, SH, SW, PH, PW, DH, DW, G):
    """gw (OC, C/G, KH, KW) from gy (N, OC, OH, OW) and x (N, C, H, W), one thread per element."""
    cp = import_cupy()
    N, C, H, W, OC, OH, OW = _backward_weight_shapes(gy, x, G)
    gw = cp.empty((OC, C // G, KH, KW), dtype=gy.dtype)
    sizes = _shape_args(N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW)
    _run("conv2d_backward_weight_direct_kernel", gy.dtype, gw.size, gy, x, gw, *sizes)
    return gw


def maxpool2d_forward_direct(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    """y, idx (N, C, OH, OW): max of each window of x (N, C, H, W) and where it was (NaN wins)."""
    cp = import_cupy()
    N, C, H, W = x.shape
    y = cp.empty((N, C, OH, OW), dtype=x.dtype)
    idx = cp.empty((N, C, OH, OW), dtype=np.int64)
    sizes = int32_args(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)
    _run("maxpool2d_forward_direct_kernel", x.dtype, y.size, x, y, idx, *sizes)
    return y, idx


def maxpool2d_backward_direct(gy, idx, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """gx (N, C, H, W): gy (N, C, OH, OW) gathered by the inputs the windows chose."""
    cp = import_cupy()
    N, C, OH, OW = gy.shape
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    sizes = int32_args(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)
    _run("maxpool2d_backward_direct_kernel", gy.dtype, gx.size, gy, idx, gx, *sizes)
    return gx


def avgpool2d_forward_direct(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad):
    """y (N, C, OH, OW): mean of each window of x (N, C, H, W), PyTorch's divisor rule."""
    cp = import_cupy()
    N, C, H, W = x.shape
    y = cp.empty((N, C, OH, OW), dtype=x.dtype)
    sizes = int32_args(N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, bool(count_include_pad))
    _run("avgpool2d_forward_direct_kernel", x.dtype, y.size, x, y, *sizes)
    return y


def avgpool2d_backward_direct(gy, H, W, KH, KW, SH, SW, PH, PW, count_include_pad):
    """gx (N, C, H, W): each input gathers gy / divisor from the windows holding it."""
    cp = import_cupy()
    N, C, OH, OW = gy.shape
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    sizes = int32_args(N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, bool(count_include_pad))
    _run("avgpool2d_backward_direct_kernel", gy.dtype, gx.size, gy, gx, *sizes)
    return gx


def adaptive_avgpool2d_forward_direct(x, OH, OW):
    """y (N, C, OH, OW): mean of x (N, C, H, W) over each adaptive window."""
    cp = import_cupy()
    y = cp.empty((*x.shape[:2], OH, OW), dtype=x.dtype)
    _run(
        "adaptive_avgpool2d_forward_direct_kernel",
        x.dtype,
        y.size,
        x,
        y,
        *int32_args(*x.shape, OH, OW),
    )
    return y


def adaptive_avgpool2d_backward_direct(gy, H, W):
    """gx (N, C, H, W): each input gathers gy / (window size) from the windows holding it."""
    cp = import_cupy()
    N, C, OH, OW = gy.shape
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    sizes = int32_args(N, C, H, W, OH, OW)
    _run("adaptive_avgpool2d_backward_direct_kernel", gy.dtype, gx.size, gy, gx, *sizes)
    return gx


def adaptive_maxpool2d_forward_direct(x, OH, OW):
    """y, idx (N, C, OH, OW): max of x (N, C, H, W) over each adaptive window, and where."""
    cp = import_cupy()
    y = cp.empty((*x.shape[:2], OH, OW), dtype=x.dtype)
    idx = cp.empty(y.shape, dtype=np.int64)
    sizes = int32_args(*x.shape, OH, OW)
    _run("adaptive_maxpool2d_forward_direct_kernel", x.dtype, y.size, x, y, idx, *sizes)
    return y, idx


def adaptive_maxpool2d_backward_direct(gy, idx, H, W):
    """gx (N, C, H, W): gy (N, C, OH, OW) gathered by the inputs the windows chose."""
    cp = import_cupy()
    N, C, OH, OW = gy.shape
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    sizes = int32_args(N, C, H, W, OH, OW)
    _run("adaptive_maxpool2d_backward_direct_kernel", gy.dtype, gx.size, gy, idx, gx, *sizes)
    return gx


def batchnorm_forward_train_direct(x, gamma, beta, eps):
    """y (N, C, L), mean, invstd (C,): training batch norm of x (N, C, L) with batch statistics."""
    cp = import_cupy()
    N, C, L = x.shape
    y = cp.empty_like(x)
    mean, invstd = cp.empty(C, dtype=x.dtype), cp.empty(C, dtype=x.dtype)
    sizes = int32_args(N, C, L)
    _run("batchnorm_stats_direct_kernel", x.dtype, C, x, mean, invstd, *sizes, np.float64(eps))
    _run(
        "batchnorm_normalize_direct_kernel",
        x.dtype,
        x.size,
        x,
        mean,
        invstd,
        gamma,
        beta,
        y,
        *sizes,
    )
    return y, mean, invstd


def batchnorm_forward_eval_direct(x, running_mean, running_var, gamma, beta, eps):
    """y (N, C, L): inference batch norm of x (N, C, L) with the running statistics (C,)."""
    cp = import_cupy()
    stats = (running_mean, running_var, gamma, beta)
    y = cp.empty_like(x)
    sizes = int32_args(*x.shape)
    _run("batchnorm_eval_direct_kernel", x.dtype, x.size, x, *stats, y, *sizes, np.float64(eps))
    return y


def batchnorm_backward_direct(gy, x, gamma, mean, invstd):
    """gx (N, C, L), ggamma, gbeta (C,): the gradient of the training batch norm."""
    cp = import_cupy()
    N, C, L = gy.shape
    gx = cp.empty_like(gy)
    ggamma, gbeta = cp.empty(C, dtype=gy.dtype), cp.empty(C, dtype=gy.dtype)
    sizes = int32_args(N, C, L)
    _run(
        "batchnorm_backward_sums_direct_kernel",
        gy.dtype,
        C,
        gy,
        x,
        mean,
        invstd,
        ggamma,
        gbeta,
        *sizes,
    )
    _run("batchnorm_backward_input_direct_kernel", gy.dtype, gx.size,
         gy, x, gamma, mean, invstd, ggamma, gbeta, gx, *sizes)  # fmt: skip
    return gx, ggamma, gbeta
