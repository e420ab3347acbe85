"""Dropout keep-mask from a counter-based hash.

Why counter-based. A stateful generator (NumPy's, cuRAND's) gives different streams on different
backends and depends on the order in which threads draw. Here the random number of element i is
a pure function of (seed, i), so the mask is reproducible, any thread can compute any element
independently, and NumPy, Numba and CUDA produce the identical mask for the same seed.

The hash is splitmix64's output function applied to the i-th counter value; all arithmetic is on
uint64 and wraps mod 2**64. For flat C-order index i (0-based) and an integer seed in [0, 2**63):

    z = seed + (i + 1) * 0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    z = z ^ (z >> 31)
    u = (z >> 40) * 2**-24          # the top 24 bits: an exact uniform in [0, 1), in float64
    keep = u >= p                   # so P(keep) = 1 - p up to 2**-24

With seed = 0, z is the standard splitmix64 sequence (0xE220A8397B1DCDAF, ...). Using 24 bits
keeps u exact in float32 as well, which GPU code may prefer.
"""

import math

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(seed: int, n: int) -> np.ndarray:
    """Hash values z (n,) uint64 for flat indices 0 .. n-1."""
    counter = np.arange(1, n + 1, dtype=np.uint64)  # i + 1
    # Every operand is a np.uint64, so no step is promoted to float or int64; the products are
    # meant to wrap, so overflow warnings are silenced.
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + counter * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
    return z


def dropout_mask(shape: tuple[int, ...], p: float, seed: int) -> np.ndarray:
    """Keep-mask of the given shape, uint8 (1 = keep); element i kept iff u(seed, i) >= p.

    u(seed, i) is the counter-based uniform of the module docstring, i the flat C-order index.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    z = _splitmix64(seed, math.prod(shape))
    u = (z >> np.uint64(40)).astype(np.float64) * 2.0**-24  # (n,) exact in [0, 1)
    return (u >= p).astype(np.uint8).reshape(shape)
