"""Shapes and arguments of the tensor ops: broadcasting pairs, reshape targets, indices, joins,
paddings, reductions, clamp bounds, cross-entropy options. Shapes stay small (a full-Jacobian
gradcheck of a few dozen elements is cheap)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

MAX_ELEMENTS = 40


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


@st.composite
def reshape_targets(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(shape, target): target has the same number of elements; one size may be -1."""
    shape = draw(shapes())
    n = int(np.prod(shape))
    target = []
    rest = n
    while rest > 1 and len(target) < 3:
        size = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
        target.append(size)
        rest //= size
    target.append(rest)
    target = draw(st.permutations(target))
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@st.composite
def basic_indices(draw: Any) -> tuple[tuple[int, ...], Any]:
    """(shape, index) with ints (any sign), slices with steps (any sign), None and Ellipsis."""
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    parts: list[Any] = []
    for size in shape:
        kind = draw(st.sampled_from(["int", "slice", "full"]))
        if kind == "int":
            parts.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-size - 1, size + 1))
            stop = draw(st.none() | st.integers(-size - 1, size + 1))
            step = draw(st.sampled_from([None, 1, 2, 3, -1, -2]))
            parts.append(slice(start, stop, step))
        else:
            parts.append(slice(None))
    # trailing axes may be left out, or replaced by an Ellipsis in front
    keep = draw(st.integers(1, len(parts)))
    parts = parts[:keep] if draw(st.booleans()) else [Ellipsis, *parts[len(parts) - keep :]]
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return shape, parts[0] if len(parts) == 1 and draw(st.booleans()) else tuple(parts)


@st.composite
def join_cases(draw: Any, new_axis: bool) -> tuple[list[tuple[int, ...]], int]:
    """(shapes, dim) for 2-4 tensors; for cat the sizes along dim differ."""
    base = draw(shapes(min_dims=1, max_dims=3, max_side=3, max_elements=12))
    k = draw(st.integers(2, 4))
    ndim = len(base) + (1 if new_axis else 0)
    dim = draw(st.integers(-ndim, ndim - 1))
    if new_axis:
        return [base] * k, dim
    axis = dim % ndim
    sizes = draw(st.lists(st.integers(1, 3), min_size=k, max_size=k))
    return [base[:axis] + (s,) + base[axis + 1 :] for s in sizes], dim


@st.composite
def pad_cases(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...], float]:
    """(shape, widths, value): widths pad the last 1..ndim axes (pairs from the last axis)."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=3, max_elements=12))
    axes = draw(st.integers(1, len(shape)))
    widths = draw(st.lists(st.integers(0, 2), min_size=2 * axes, max_size=2 * axes))
    value = draw(st.sampled_from([0.0, -1.5, 2.0]))
    return shape, tuple(widths), value


@st.composite
def reduce_cases(draw: Any, min_dims: int = 0) -> tuple[tuple[int, ...], Any, bool]:
    """(shape, dim, keepdim): dim is None, an int, or a tuple of distinct axes (any sign)."""
    shape = draw(shapes(min_dims=min_dims))
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]) if ndim else st.just("none"))
    if kind == "none":
        dim = None
    else:
        axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
        signed = [a - ndim if draw(st.booleans()) else a for a in axes]
        dim = signed[0] if kind == "int" else tuple(signed)
    return shape, dim, draw(st.booleans())


@st.composite
def clamp_cases(draw: Any) -> tuple[tuple[int, ...], float | None, float | None]:
    """(shape, lo, hi), bounds on multiples of 1/4 (so that values on a grid of odd multiples
    of 1/8 never lie within 1/8 of a bound)."""
    shape = draw(shapes())
    lo = draw(st.sampled_from([None, -1.0, -0.5, 0.0]))
    hi = draw(st.sampled_from([None, 0.5, 1.0]) if lo is not None else st.sampled_from([0.5, 1.0]))
    return shape, lo, hi


@st.composite
def ce_cases(draw: Any) -> tuple[tuple[int, ...], int, str, float, bool]:
    """Inputs (N, C) or (N, C, d1) with every option of cross_entropy."""
    N, C = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    extra = draw(st.sampled_from([(), (2,), (3,)]))
    ignore_index = draw(st.sampled_from([-100, 0, -1]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    label_smoothing = draw(st.sampled_from([0.0, 0.1, 0.35]))
    weighted = draw(st.booleans())
    return (N, C) + extra, ignore_index, reduction, label_smoothing, weighted
