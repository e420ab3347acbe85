"""The residual join on the GPU: launchers for ``residual.cu``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .launch import (
    THREADS,
    ctype,
    elementwise_grid,
    import_cupy,
    instantiations,
    launch,
)

if TYPE_CHECKING:
    import cupy

FILE = "residual.cu"
NAMES = tuple(
    instantiations("residual_add_forward_kernel") + instantiations("residual_add_backward_kernel")
)


def residual_add_forward(x: cupy.ndarray, shortcut: cupy.ndarray, relu: bool) -> cupy.ndarray:
    """y = x + shortcut, then max(y, 0) if relu; all the same shape."""
    cp = import_cupy()
    y = cp.empty_like(x)
    if y.size > 0:
        name = f"residual_add_forward_kernel<{ctype(x.dtype)}>"
        args = (x, shortcut, y, np.int64(y.size), np.int32(bool(relu)))
        launch(FILE, NAMES, name, elementwise_grid(y.size), (THREADS,), args)
    return y


def residual_add_backward(gy: cupy.ndarray, y: cupy.ndarray, relu: bool) -> cupy.ndarray:
    """The gradient both inputs of the sum receive: gy, zeroed where y <= 0 if relu."""
    cp = import_cupy()
    g = cp.empty_like(gy)
    if g.size > 0:
        name = f"residual_add_backward_kernel<{ctype(gy.dtype)}>"
        args = (gy, y, g, np.int64(g.size), np.int32(bool(relu)))
        launch(FILE, NAMES, name, elementwise_grid(g.size), (THREADS,), args)
    return g
