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
    if any(int(d) != d or d < 0 for d in shape):
        raise ValueError(f"shape must hold non-negative integers, got {shape}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    if int(seed) != seed or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    mask = cp.empty(shape, dtype=np.uint8)
    if mask.size > 0:
        args = (mask, np.int64(mask.size), np.uint64(seed), np.float64(p))
        launch(FILE, NAMES, "dropout_mask_kernel", elementwise_grid(mask.size), (THREADS,), args)
    return mask
