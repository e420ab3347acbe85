"""Optimizer steps on the GPU: the launcher of ``optim.cu``'s fused SGD update."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .launch import (
    THREADS,
    check_float_array,
    ctype,
    elementwise_grid,
    import_cupy,
    instantiations,
    launch,
)

if TYPE_CHECKING:
    import cupy

FILE = "optim.cu"
NAMES = tuple(instantiations("sgd_update_kernel"))


def sgd_update_(
    p: cupy.ndarray,
    grad: cupy.ndarray,
    buf: cupy.ndarray | None,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    first: bool,
) -> None:
    """Update ``p`` and ``buf`` in place (see the contract in kernels/__init__.py)."""
    cp = import_cupy()
    check_float_array("p", p)
    if not p.flags.c_contiguous:
        raise ValueError("p must be C-contiguous: it is updated in place")
    use_buf = momentum != 0
    if use_buf and (buf is None or buf.shape != p.shape or not buf.flags.c_contiguous):
        raise ValueError(f"buf must be a C-contiguous array of shape {p.shape} when momentum != 0")
    g = cp.ascontiguousarray(grad, dtype=p.dtype)
    T = p.dtype.type
    launch(
        FILE,
        NAMES,
        f"sgd_update_kernel<{ctype(p.dtype)}>",
        elementwise_grid(p.size),
        (THREADS,),
        (
            p,
            g,
            buf if use_buf else p,
            np.int64(p.size),
            T(lr),
            T(momentum),
            T(dampening),
            T(weight_decay),
            np.int32(nesterov),
            np.int32(maximize),
            np.int32(first),
            np.int32(use_buf),
        ),
    )
