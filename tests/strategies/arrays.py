"""Seeds and values: the arrays an example is made of, drawn away from the places where a
check would be meaningless (kinks, ties, the edges of a function's domain), or with special
values put in on purpose."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

import minicnn

DTYPES = st.sampled_from([np.float32, np.float64])
SPECIAL_VALUES = (np.nan, np.inf, -np.inf)


def seeds() -> st.SearchStrategy[int]:
    """A seed for the NumPy generator that makes an example's values."""
    return st.integers(0, 2**32 - 1)


def values(seed: int, shape: tuple[int, ...], low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """Uniform float64 values in [low, high)."""
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def uniform(seed: int, shape: tuple[int, ...], low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """Float64 values uniform in [low, high) (``values`` with the range of the CNN tests)."""
    return values(seed, shape, low, high)


def away_from_zero(
    seed: int, shape: tuple[int, ...], gap: float = 0.1, high: float = 2.0
) -> np.ndarray:
    """Values with ``gap <= |x| < high`` and random signs: no kink at 0 within reach of eps."""
    rng = np.random.default_rng(seed)
    return rng.uniform(gap, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def positive(seed: int, shape: tuple[int, ...], low: float = 0.5, high: float = 2.0) -> np.ndarray:
    """Values in [low, high): inside the domain of log, sqrt and pow with a real exponent."""
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def shuffled_grid(rng: np.random.Generator, shape: tuple[int, ...], gap: float = 0.1) -> np.ndarray:
    """A random permutation of ``arange(n) * gap``, centred on 0: no two values tie (with
    ``gap`` a power of two, exactly so in float32 below 2**24 elements)."""
    n = math.prod(shape)
    return ((rng.permutation(n) - n / 2) * gap).reshape(shape)


def distinct(seed: int, shape: tuple[int, ...], gap: float = 0.1) -> np.ndarray:
    """Values at least ``gap`` apart from each other (no ties for max/min), shuffled, each
    moved up by less than gap / 4 so that they are not a regular grid."""
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    v = (np.arange(n) - n / 2) * gap + rng.uniform(0, gap / 4, size=n)
    return rng.permutation(v).reshape(shape)


def distinct_grid(seed: int, shape: tuple[int, ...], gap: float = 0.1) -> np.ndarray:
    """:func:`shuffled_grid` from ``seed``: values exactly ``gap`` apart, no ties."""
    return shuffled_grid(np.random.default_rng(seed), shape, gap)


@st.composite
def with_specials(
    draw: Any, a: np.ndarray, max_count: int = 3, values: tuple[float, ...] = SPECIAL_VALUES
) -> np.ndarray:
    """A copy of ``a`` with 1 to ``max_count`` drawn entries set to drawn ``values`` (NaN, inf,
    -inf by default); ``a`` itself is returned when it is empty."""
    out = a.copy()
    flat = out.reshape(-1)
    if flat.size == 0:
        return out
    count = draw(st.integers(1, min(max_count, flat.size)))
    where = draw(st.lists(st.integers(0, flat.size - 1), min_size=count, max_size=count))
    for i in where:
        flat[i] = draw(st.sampled_from(values))
    return out


def as_tensor(a: np.ndarray, requires_grad: bool = False) -> minicnn.Tensor:
    """A tensor on the current backend with ``a``'s dtype."""
    return minicnn.tensor(a, dtype=a.dtype, requires_grad=requires_grad)


def host(t: Any) -> np.ndarray:
    """A NumPy copy of a Tensor (any backend)."""
    return t.numpy() if isinstance(t, minicnn.Tensor) else np.asarray(t)
