"""The dropout keep-mask on the GPU: the launcher for ``dropout.cu``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .launch import THREADS, elementwise_grid, import_cupy, launch

if TYPE_CHECKING:
    import cupy

FILE = "dropout.cu"
NAMES = ("dropout_mask_kernel",)


def dropout_mask(shape: tuple[int, ...] | int, p: float, seed: int) -> cupy.ndarray:
    """uint8 mask of ``shape``: element i is 1 (kept) iff u(seed, i) >= p, as in numpy_ref."""
    cp = import_cupy()
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    mask = cp.empty(shape, dtype=np.uint8)
    if mask.size > 0:
        args = (mask, np.int64(mask.size), np.uint64(seed), np.float64(p))
        launch(FILE, NAMES, "dropout_mask_kernel", elementwise_grid(mask.size), (THREADS,), args)
    return mask
