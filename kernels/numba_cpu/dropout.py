"""Dropout keep-mask with Numba: the counter-based splitmix64 hash, one element per iteration.

Element i of the mask (flat, C order) depends only on (seed, i), so `prange` over the flat
index needs no shared generator state: iteration i owns mask[i]. The arithmetic matches
numpy_ref/dropout.py bit for bit:

    z = seed + (i + 1) * 0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    z = z ^ (z >> 31)
    keep = (z >> 40) * 2**-24 >= p

Every operand is a uint64 (the constants, the shift counts, the counter): Numba, like NumPy,
turns a mix of int64 and uint64 into float64, which would silently change the hash. Products
wrap mod 2**64, as the hash intends. One fused pass keeps z in registers, where numpy_ref
materialises each step as a uint64 array (`python -m benchmarks.ops --only dropout` measures
both).
"""

import math

import numpy as np
from numba import njit, prange

from .jit import PARALLEL

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S40 = np.uint64(40)


@njit(cache=True, parallel=PARALLEL)
def _mask_kernel(seed, p, mask):
    """mask (n,) uint8, in place: 1 where the uniform of flat index i is >= p."""
    for i in prange(mask.shape[0]):
        z = seed + (np.uint64(i) + np.uint64(1)) * _GOLDEN
        z = (z ^ (z >> _S30)) * _MIX1
        z = (z ^ (z >> _S27)) * _MIX2
        z = z ^ (z >> _S31)
        u = np.float64(z >> _S40) * 2.0**-24  # top 24 bits: exact uniform in [0, 1)
        mask[i] = 1 if u >= p else 0


def dropout_mask(shape: tuple[int, ...], p: float, seed: int) -> np.ndarray:
    """Keep-mask of the given shape, uint8 (1 = keep); element i kept iff u(seed, i) >= p."""
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    mask = np.empty(math.prod(shape), dtype=np.uint8)
    _mask_kernel(np.uint64(int(seed) % 2**64), float(p), mask)
    return mask.reshape(shape)
