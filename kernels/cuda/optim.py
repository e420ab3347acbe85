"""Optimizer steps on the GPU: the launcher of ``optim.cu``'s fused SGD update."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .launch import (
    THREADS,
    ctype,
    elementwise_grid,
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
    use_buf = momentum != 0
    T = p.dtype.type
    launch(
        FILE,
        NAMES,
        f"sgd_update_kernel<{ctype(p.dtype)}>",
        elementwise_grid(p.size),
        (THREADS,),
        (
            p,
            grad,
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
