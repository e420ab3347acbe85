"""More shape ops: ``chunk``, ``split``, ``unbind``, ``flip``, ``unflatten``, ``t``,
``repeat``, ``clone`` and the ``*_as`` spellings.

``chunk``, ``split``, ``unbind`` and ``flip`` are slices, so their gradients come from
``getitem``'s backward. ``repeat`` tiles the input; its backward sums the gradient over the
copies. ``clone`` copies; its backward passes the gradient through.
"""

from __future__ import annotations

import math
from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops.shape import _axis, expand, getitem, permute, reshape
from minicnn.tensor import Tensor


class Repeat(Function):
    """y = x tiled ``reps`` times along each axis (x first gets leading size-1 axes up to
    len(reps)). gx = gy viewed as (r0, s0, r1, s1, ...) summed over the r axes."""

    def forward(self, x: Any, reps: tuple[int, ...]) -> Any:
        self.shape = x.shape
        self.padded = (1,) * (len(reps) - x.ndim) + tuple(x.shape)  # (s0, s1, ...)
        self.reps = reps
        return backend.xp().tile(x.reshape(self.padded), reps)

    def backward(self, gy: Any) -> Any:
        split = [n for pair in zip(self.reps, self.padded) for n in pair]  # (r0, s0, r1, s1, ...)
        g = gy.reshape(split).sum(axis=tuple(range(0, len(split), 2)))  # (s0, s1, ...)
        return g.reshape(self.shape)


class Clone(Function):
    """y = a copy of x. gx = gy."""

    def forward(self, x: Any) -> Any:
        return x.copy()

    def backward(self, gy: Any) -> Any:
        return gy


def _tensor(op: str, input: Any) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input: expected a Tensor, got {type(input).__name__}")


def _slice(input: Tensor, d: int, start: int, stop: int) -> Tensor:
    return getitem(input, (slice(None),) * d + (slice(start, stop),))


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size_or_sections`` along ``dim`` (the last may be smaller), or pieces
    of the listed sizes, which must add up to the size of ``dim``."""
    _tensor("split", tensor)
    d = _axis("split", dim, tensor.ndim)
    n = tensor.shape[d]
    s = split_size_or_sections
    if isinstance(s, int) and not isinstance(s, bool):
        if s < 1 and n > 0:
            raise ValueError(f"split: split_size_or_sections: expected a positive int, got {s}")
        sizes = [min(s, n - i) for i in range(0, n, s)] if n else [0]
    elif isinstance(s, (list, tuple)) and all(isinstance(v, int) and v >= 0 for v in s):
        if sum(s) != n:
            raise ValueError(
                f"split: split_size_or_sections: sizes {list(s)} add up to {sum(s)}, but dim "
                f"{dim} has size {n}"
            )
        sizes = list(s)
    else:
        raise TypeError(
            f"split: split_size_or_sections: expected an int or a list of ints, got {s!r}"
        )
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return tuple(_slice(tensor, d, a, a + size) for a, size in zip(starts, sizes))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` pieces of ceil(size / chunks) along ``dim`` (as PyTorch, there may be
    fewer)."""
    _tensor("chunk", input)
    if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
        raise ValueError(f"chunk: chunks: expected a positive int, got {chunks!r}")
    n = input.shape[_axis("chunk", dim, input.ndim)]
    return split(input, max(1, math.ceil(n / chunks)), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, with that axis removed."""
    _tensor("unbind", input)
    d = _axis("unbind", dim, input.ndim)
    return tuple(getitem(input, (slice(None),) * d + (i,)) for i in range(input.shape[d]))


def flip(input: Tensor, dims: Any) -> Tensor:
    """``input`` reversed along each axis in ``dims``."""
    _tensor("flip", input)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    index = [slice(None)] * input.ndim
    for d in dims:
        index[_axis("flip", d, input.ndim, "dims")] = slice(None, None, -1)
    return getitem(input, tuple(index))


def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:
    """Split axis ``dim`` into ``sizes`` (one of them may be -1): (N, 12) -> (N, 3, 4)."""
    _tensor("unflatten", input)
    d = _axis("unflatten", dim, input.ndim)
    sizes = tuple(sizes)
    known = math.prod(s for s in sizes if s != -1)
    n = input.shape[d]
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (known and n % known):
        raise ValueError(
            f"unflatten: sizes: {sizes} does not multiply to {n}, the size of dim {dim}"
        )
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1 :])


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix; a 0-d or 1-d tensor as it is."""
    _tensor("t", input)
    if input.ndim > 2:
        raise ValueError(
            f"t: expected a tensor with at most 2 dimensions, got shape {input.shape} "
            "(use transpose(dim0, dim1) or permute)"
        )
    return permute(input, 1, 0) if input.ndim == 2 else input


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """``input`` tiled ``sizes[i]`` times along axis i; ``len(sizes)`` must be at least
    ``input.ndim`` (extra sizes add leading axes)."""
    _tensor("repeat", input)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in sizes):
        raise ValueError(f"repeat: sizes: expected non-negative ints, got {sizes}")
    if len(sizes) < input.ndim:
        raise ValueError(
            f"repeat: sizes: expected at least {input.ndim} values (one per dimension of the "
            f"input), got {sizes}"
        )
    return Repeat.apply(input, tuple(sizes))


def clone(input: Tensor) -> Tensor:
    """A copy with its own memory; gradients flow through to ``input``."""
    _tensor("clone", input)
    return Clone.apply(input)


def contiguous(input: Tensor) -> Tensor:
    """``input`` itself: minicnn's ops accept any memory layout (each kernel makes the
    contiguous copy it needs)."""
    return input


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` reshaped to ``other``'s shape."""
    return reshape(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` reshaped to ``other``'s shape."""
    return reshape(input, other.shape)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` broadcast to ``other``'s shape."""
    return expand(input, other.shape)
