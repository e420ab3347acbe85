"""Residual addition fused with the optional ReLU, with Numba: `prange` over the flat elements.

Iteration i owns y[i] (or g[i]); the arrays are flattened first, so one kernel serves every
shape. Fusing the add and the ReLU reads each input once and writes the output once, where
NumPy's `x + shortcut` then `np.maximum` makes two passes over memory
(`python -m benchmarks.light_kernels` measures both).
"""

import numpy as np
from numba import njit, prange

from .jit import PARALLEL


@njit(cache=True, parallel=PARALLEL)
def _forward_kernel(x, shortcut, relu, y):
    """y = x + shortcut, then max(y, 0) if relu; all flat (n,), y in place."""
    for i in prange(x.shape[0]):
        v = x[i] + shortcut[i]
        if relu and v < 0:  # NaN is kept, as np.maximum keeps it
            v = 0
        y[i] = v


@njit(cache=True, parallel=PARALLEL)
def _backward_kernel(gy, y, relu, g):
    """g = gy where y > 0 (else 0) if relu, else gy; all flat (n,), g in place."""
    for i in prange(gy.shape[0]):
        g[i] = gy[i] if (not relu or y[i] > 0) else 0


def residual_add_forward(x: np.ndarray, shortcut: np.ndarray, relu: int) -> np.ndarray:
    """y = x + shortcut, then max(y, 0) if relu; all of one shape."""
    y = np.empty(x.shape, dtype=x.dtype)
    _forward_kernel(x.reshape(-1), shortcut.reshape(-1), bool(relu), y.reshape(-1))
    return y


def residual_add_backward(gy: np.ndarray, y: np.ndarray, relu: int) -> np.ndarray:
    """Gradient that x and shortcut both receive: gy * (y > 0) if relu, else a copy of gy."""
    g = np.empty(gy.shape, dtype=gy.dtype)
    _backward_kernel(gy.reshape(-1), y.reshape(-1), bool(relu), g.reshape(-1))
    return g
