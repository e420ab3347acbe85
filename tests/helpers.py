"""Shared test helpers: ``check_op`` and hypothesis strategies for shapes and values.

``check_op`` is the one way a test checks an op: it builds float64 tensors on the current
backend from NumPy arrays, compares the forward with a NumPy reference when one is given, and
proves the backward with :func:`minicnn.gradcheck` (central differences, full Jacobian).

The strategies draw small shapes (few elements, so a full Jacobian is cheap) and values away
from the places where finite differences lie: kinks (relu, abs, clamp bounds), ties (max/min)
and the edges of a function's domain (log, sqrt, pow).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import minicnn

MAX_ELEMENTS = 40


def examples(n: int) -> int:
    """``n`` examples under the CI profile; more when the loaded profile asks for more (the
    "thorough" profile), since a test's own ``@settings`` overrides the profile's count."""
    return max(n, settings.default.max_examples) if settings.default.max_examples > 30 else n


def to_tensor(a: Any, requires_grad: bool = True) -> minicnn.Tensor:
    """A float64 tensor on the current backend (integer and bool arrays keep their dtype)."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return minicnn.tensor(a.astype(np.float64), requires_grad=requires_grad)
    return minicnn.tensor(a)


def check_op(
    fn: Callable[..., minicnn.Tensor],
    *arrays: Any,
    ref: Callable[..., Any] | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
) -> minicnn.Tensor:
    """Check ``fn`` on float64 tensors made from ``arrays`` on the current backend.

    Floating-point arrays become tensors that require grad (and are checked by gradcheck);
    integer and bool arrays become plain tensors; anything else is passed through unchanged.
    When ``ref`` is given, ``fn``'s output must equal ``ref(*arrays)`` (NumPy on float64
    arrays). Returns the output tensor.
    """
    inputs = [to_tensor(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in arrays]
    out = fn(*inputs)
    assert isinstance(out, minicnn.Tensor)
    assert out.backend == minicnn.get_backend()
    assert out.dtype == np.float64
    if ref is not None:
        expected = ref(*[np.asarray(a, np.float64) if _is_float_array(a) else a for a in arrays])
        assert out.shape == np.shape(expected)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert minicnn.gradcheck(fn, inputs, atol=atol, rtol=rtol, fast_mode=fast_mode)
    return out


def _is_float_array(a: Any) -> bool:
    return isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "f"


def _numel(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


@st.composite
def shapes(
    draw: Any,
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
    max_elements: int = MAX_ELEMENTS,
) -> tuple[int, ...]:
    """A shape of ``min_dims``..``max_dims`` axes with at most ``max_elements`` elements."""
    ndim = draw(st.integers(min_dims, max_dims))
    shape: list[int] = []
    for _ in range(ndim):
        room = max_elements // max(_numel(tuple(shape)), 1)
        shape.append(draw(st.integers(min_side, max(min_side, min(max_side, room)))))
    return tuple(shape)


@st.composite
def broadcast_pairs(draw: Any, min_dims: int = 0, max_dims: int = 3) -> tuple[tuple, tuple]:
    """Two shapes that broadcast: a drawn shape and a partner derived from it by dropping
    leading axes and setting some sizes to 1; either may come first."""
    full = draw(shapes(min_dims=min_dims, max_dims=max_dims))
    drop = draw(st.integers(0, len(full)))
    partner = [s if not draw(st.booleans()) else 1 for s in full[drop:]]
    pair = (full, tuple(partner))
    return pair if draw(st.booleans()) else pair[::-1]


def seeds() -> st.SearchStrategy[int]:
    """A seed for a NumPy generator that makes an example's values."""
    return st.integers(0, 2**32 - 1)


def values(seed: int, shape: tuple[int, ...], low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """Uniform float64 values in [low, high)."""
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def away_from_zero(
    seed: int, shape: tuple[int, ...], gap: float = 0.1, high: float = 2.0
) -> np.ndarray:
    """Values with ``gap <= |x| < high`` and random signs: no kink at 0 within reach of eps."""
    rng = np.random.default_rng(seed)
    return rng.uniform(gap, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def positive(seed: int, shape: tuple[int, ...], low: float = 0.5, high: float = 2.0) -> np.ndarray:
    """Values in [low, high): inside the domain of log, sqrt and pow with a real exponent."""
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def distinct(seed: int, shape: tuple[int, ...], gap: float = 0.1) -> np.ndarray:
    """Values at least ``gap`` apart from each other (no ties for max/min), shuffled."""
    rng = np.random.default_rng(seed)
    n = _numel(shape)
    v = (np.arange(n) - n / 2) * gap + rng.uniform(0, gap / 4, size=n)
    return rng.permutation(v).reshape(shape)
