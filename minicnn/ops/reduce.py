"""Reductions: ``sum, mean, max, min, var`` over ``dim`` (``axis``), with ``keepdim``.

A reduction's backward re-inserts the reduced axes as size 1 and broadcasts ``gy`` back over
them. ``amax``/``amin`` (and ``max``/``min`` of a whole tensor) share the gradient equally
among elements that tie for the maximum; ``max(x, dim)`` returns ``(values, indices)``, as
PyTorch, and its gradient goes to the one element each index names.

Special values follow PyTorch: NaN propagates; the sum of nothing is 0 and its mean NaN; the
variance divides by max(n - correction, 0), so that of one value is 0 / 0 = NaN; ``max``,
``min`` and the arg-reductions refuse an empty reduced axis (there is no value to return) but
return an empty result when only another axis is empty.
"""

from __future__ import annotations

import builtins as _b
from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.tensor import Tensor


def normalize_dims(op: str, dim: Any, ndim: int) -> tuple[int, ...]:
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not isinstance(d, int) or not -_b.max(ndim, 1) <= d < _b.max(ndim, 1):
            raise ValueError(
                f"{op}: dim {d!r} is out of range for a tensor with {ndim} dimension(s) "
                f"(expected an int in [{-_b.max(ndim, 1)}, {_b.max(ndim, 1) - 1}])"
            )
        out.append(d % _b.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim!r} names an axis twice")
    return tuple(sorted(out)) if ndim else ()


def _kept_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


class Sum(Function):
    """y = sum of x over ``dims``. gx = gy broadcast back over the reduced axes."""

    def forward(self, x: Any, dims: tuple[int, ...], keepdim: bool) -> Any:
        self.shape, self.kept = x.shape, _kept_shape(x.shape, dims)
        return x.sum(axis=dims, keepdims=keepdim)

    def backward(self, gy: Any) -> Any:
        return backend.xp().broadcast_to(gy.reshape(self.kept), self.shape).copy()


class Mean(Function):
    """y = mean of x over ``dims``. gx = gy / n broadcast back (n: elements per mean)."""

    def forward(self, x: Any, dims: tuple[int, ...], keepdim: bool) -> Any:
        self.shape, self.kept = x.shape, _kept_shape(x.shape, dims)
        self.n = _b.max(1, x.size // _b.max(1, _prod(self.kept)))
        return x.mean(axis=dims, keepdims=keepdim)

    def backward(self, gy: Any) -> Any:
        g = gy.reshape(self.kept) / gy.dtype.type(self.n)
        return backend.xp().broadcast_to(g, self.shape).copy()


class Max(Function):
    """y = max (or min) over ``dims``. gx = gy / (number of ties) at each maximal element."""

    def forward(self, x: Any, dims: tuple[int, ...], keepdim: bool, minimum: bool = False) -> Any:
        y = x.min(axis=dims, keepdims=True) if minimum else x.max(axis=dims, keepdims=True)
        self.hit = x == y  # (x.shape) True where x attains the extremum
        self.count = self.hit.sum(axis=dims, keepdims=True)  # ties per reduced slot
        self.kept = y.shape
        return y if keepdim else y.reshape([s for i, s in enumerate(x.shape) if i not in dims])

    def backward(self, gy: Any) -> Any:
        return self.hit * (gy.reshape(self.kept) / self.count.astype(gy.dtype))


class Var(Function):
    """y = sum((x - mean)**2) / (n - correction) over ``dims``.
    gx = gy * 2 (x - mean) / (n - correction)."""

    def forward(self, x: Any, dims: tuple[int, ...], keepdim: bool, correction: int) -> Any:
        kept = _kept_shape(x.shape, dims)
        n = x.size // _b.max(1, _prod(kept))
        self.centered = x - x.mean(axis=dims, keepdims=True)
        self.denom = x.dtype.type(_b.max(n - correction, 0))
        self.kept = kept
        return (self.centered * self.centered).sum(axis=dims, keepdims=keepdim) / self.denom

    def backward(self, gy: Any) -> Any:
        return gy.reshape(self.kept) * (2 / self.denom) * self.centered


def _prod(shape: tuple[int, ...]) -> int:
    p = 1
    for s in shape:
        p *= s
    return p


def _dim_args(op: str, input: Tensor, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> tuple:
    """Accept PyTorch's ``dim``/``keepdim`` and NumPy's ``axis``/``keepdims`` spellings."""
    if axis is not None:
        if dim is not None:
            raise ValueError(f"{op}: pass dim or axis, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return normalize_dims(op, dim, input.ndim), bool(keepdim)


def sum(
    input: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Sum over ``dim`` (all axes when None)."""
    dims, keep = _dim_args("sum", input, dim, keepdim, axis, keepdims)
    return Sum.apply(input, dims, keep)


def mean(
    input: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Mean over ``dim`` (all axes when None)."""
    dims, keep = _dim_args("mean", input, dim, keepdim, axis, keepdims)
    if input.dtype.kind != "f":
        raise TypeError(f"mean: expected a floating-point tensor, got dtype {input.dtype.name}")
    return Mean.apply(input, dims, keep)


def amax(
    input: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Largest value over ``dim`` (an int, a tuple, or None for all; as ``torch.amax``); ties
    share the gradient."""
    dims, keep = _dim_args("amax", input, dim, keepdim, axis, keepdims)
    _nonempty("amax", input, dims)
    return Max.apply(input, dims, keep)


def amin(
    input: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Smallest value over ``dim`` (an int, a tuple, or None for all; as ``torch.amin``); ties
    share the gradient."""
    dims, keep = _dim_args("amin", input, dim, keepdim, axis, keepdims)
    _nonempty("amin", input, dims)
    return Max.apply(input, dims, keep, minimum=True)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, **kw: Any) -> Any:
    """As ``torch.max``: ``max(x)`` the largest value (a 0-d tensor, as ``amax``); ``max(x,
    dim)`` the pair ``(values, indices)`` along int ``dim``; ``max(a, b)`` the elementwise
    maximum. The last two live in ``ops/extra`` (``indexing.extremum``, ``compare``)."""
    if dim is None and not kw:
        _nonempty("max", input)
        return Max.apply(input, normalize_dims("max", None, input.ndim), False)
    from minicnn.ops.extra.indexing import extremum

    return extremum("max", input, dim, keepdim, kw, minimum=False)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, **kw: Any) -> Any:
    """As ``torch.min``: ``min(x)``, ``(values, indices) = min(x, dim)``, or ``min(a, b)``."""
    if dim is None and not kw:
        _nonempty("min", input)
        return Max.apply(input, normalize_dims("min", None, input.ndim), False, minimum=True)
    from minicnn.ops.extra.indexing import extremum

    return extremum("min", input, dim, keepdim, kw, minimum=True)


def var(
    input: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    correction: int = 1,
    unbiased: bool | None = None,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Variance over ``dim``; ``correction=1`` (default, as PyTorch) divides by n - 1."""
    dims, keep = _dim_args("var", input, dim, keepdim, axis, keepdims)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if input.dtype.kind != "f":
        raise TypeError(f"var: expected a floating-point tensor, got dtype {input.dtype.name}")
    return Var.apply(input, dims, keep, int(correction))


def std(
    input: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    correction: int = 1,
    unbiased: bool | None = None,
) -> Tensor:
    """Standard deviation: ``sqrt(var(...))``."""
    return var(input, dim, keepdim, correction=correction, unbiased=unbiased).sqrt()


def _nonempty(op: str, input: Tensor, dims: tuple[int, ...] | None = None) -> None:
    """A max, min or arg-reduction has no value over nothing: as PyTorch, each reduced axis
    must be non-empty (other axes may be empty: the result is then empty too)."""
    if dims is None or len(dims) == input.ndim:  # a reduction over everything
        if input.numel() == 0:
            raise ValueError(f"{op}: expected a non-empty tensor, got shape {input.shape}")
        return
    for d in dims:
        if input.shape[d] == 0:
            raise ValueError(
                f"{op}: dim {d}: expected a non-zero size to reduce over, got shape {input.shape}"
            )


def argmax(
    input: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None
) -> Tensor:
    """Index of the largest value (flat when ``dim`` is None; a NaN wins, as in PyTorch);
    ``axis`` is NumPy's name for ``dim``. Not differentiable."""
    if axis is not None:
        if dim is not None:
            raise ValueError("argmax: pass dim or axis, not both")
        dim = axis
    _nonempty("argmax", input, None if dim is None else normalize_dims("argmax", dim, input.ndim))
    data = input.array.argmax(axis=dim)
    if keepdim and dim is not None:
        data = backend.xp(input.backend).expand_dims(data, dim)
    return Tensor._from_op(data.astype("int64"), input.backend, None)


def argmin(
    input: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None
) -> Tensor:
    """Index of the smallest value (flat when ``dim`` is None; a NaN wins, as in PyTorch);
    ``axis`` is NumPy's name for ``dim``. Not differentiable."""
    if axis is not None:
        if dim is not None:
            raise ValueError("argmin: pass dim or axis, not both")
        dim = axis
    _nonempty("argmin", input, None if dim is None else normalize_dims("argmin", dim, input.ndim))
    data = input.array.argmin(axis=dim)
    if keepdim and dim is not None:
        data = backend.xp(input.backend).expand_dims(data, dim)
    return Tensor._from_op(data.astype("int64"), input.backend, None)
