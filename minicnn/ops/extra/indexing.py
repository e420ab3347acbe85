"""Selecting elements by index: ``take_along_dim``, ``gather``, ``masked_fill``, and the
sorting family ``sort``, ``argsort``, ``topk``, ``unique``.

Each selection is one fancy index ``x[i0, i1, ...]`` whose index arrays are ``idx`` along
``dim`` and ``arange`` along every other axis, so it goes through the differentiable
``getitem`` (``minicnn/ops/shape.py``): the gradient is scattered back, with ``add.at``, to
the elements that were picked. ``sort`` and ``topk`` return ``(values, indices)`` pairs whose
values carry that gradient; the indices, like ``argsort`` and ``unique``, have none.
"""

from __future__ import annotations

from typing import Any

from minicnn import backend, return_types
from minicnn.ops.elementwise import where
from minicnn.ops.shape import _axis, getitem
from minicnn.tensor import Tensor, _is_scalar


def _fancy_index(idx: Any, dim: int, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """Index arrays selecting ``idx`` (int array) along ``dim``: ``arange`` broadcast over
    every other axis, sized by ``shape`` (the result's shape)."""
    xp = backend.xp(backend.backend_of_array(idx))
    parts = []
    for a, n in enumerate(shape):
        if a == dim:
            parts.append(xp.broadcast_to(idx, shape))
        else:
            parts.append(xp.arange(n).reshape([n if b == a else 1 for b in range(len(shape))]))
    return tuple(parts)


def _index_tensor(op: str, name: str, index: Any, input: Tensor) -> Any:
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu":
        got = index.dtype.name if isinstance(index, Tensor) else type(index).__name__
        raise TypeError(f"{op}: {name}: expected an integer Tensor, got {got}")
    if index.backend != input.backend:
        raise TypeError(
            f"{op}: {name} lives on backend {index.backend!r}, input on {input.backend!r}"
        )
    if index.ndim != input.ndim:
        raise ValueError(
            f"{op}: {name}: expected {input.ndim} dimensions (the input's), got shape {index.shape}"
        )
    return index.array.astype("int64", copy=False)


def take_along_dim(input: Tensor, indices: Tensor, dim: int) -> Tensor:
    """``input`` at ``indices`` along ``dim``; the other axes of ``indices`` broadcast against
    the input's (as ``numpy.take_along_axis``). Differentiable in ``input``."""
    d = _axis("take_along_dim", dim, input.ndim)
    idx = _index_tensor("take_along_dim", "indices", indices, input)
    shape = tuple(
        idx.shape[a] if a == d else max(idx.shape[a], input.shape[a]) for a in range(input.ndim)
    )
    return getitem(input, _fancy_index(idx, d, shape))


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` for ``dim == 0`` (and so on): the output has
    ``index``'s shape, which may not exceed the input's along the other axes."""
    d = _axis("gather", dim, input.ndim)
    idx = _index_tensor("gather", "index", index, input)
    for a in range(input.ndim):
        if a != d and idx.shape[a] > input.shape[a]:
            raise ValueError(
                f"gather: index: size {idx.shape[a]} along dim {a} exceeds the input's "
                f"{input.shape[a]} (index shape {idx.shape}, input shape {input.shape})"
            )
    return getitem(input, _fancy_index(idx, d, idx.shape))


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``input`` with ``value`` where the bool ``mask`` (broadcast) is True; differentiable in
    ``input`` (and in ``value`` when it is a tensor)."""
    if not isinstance(mask, Tensor) or mask.dtype.kind != "b":
        got = mask.dtype.name if isinstance(mask, Tensor) else type(mask).__name__
        raise TypeError(f"masked_fill: mask: expected a bool Tensor, got {got}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(
                f"masked_fill: value: expected a number or a 0-d tensor, got shape {value.shape}"
            )
        value = value.to(input.dtype)  # the result keeps the input's dtype
    elif _is_scalar(value) or isinstance(value, bool):
        # The value takes the input's dtype (2.7 fills an int64 tensor with 2, as PyTorch).
        value = Tensor(value, dtype=input.dtype, backend=input.backend)
    else:
        raise TypeError(f"masked_fill: value: expected a number, got {type(value).__name__}")
    return where(mask, value, input)


def _sort_order(op: str, input: Tensor, dim: int, descending: bool) -> tuple[int, Any]:
    """(axis, indices that sort ``input`` along it): stable, so equal values keep their order."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input: expected a Tensor, got {type(input).__name__}")
    d = _axis(op, dim, max(input.ndim, 1))
    x = input.array.reshape(1) if input.ndim == 0 else input.array
    xp = backend.xp(input.backend)
    if descending:
        x = -x.astype("int64") if x.dtype.kind in "ub" else -x
    return d, xp.argsort(x, axis=d, kind="stable")


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """``(values, indices)``: ``input`` sorted along ``dim``; ``values`` is differentiable."""
    d, order = _sort_order("sort", input, dim, descending)
    src = input.reshape(1) if input.ndim == 0 else input
    values = getitem(src, _fancy_index(order, d, order.shape)).reshape(input.shape)
    indices = Tensor._from_op(order.reshape(input.shape), input.backend, None)
    return return_types.sort(values, indices)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim``."""
    d, order = _sort_order("argsort", input, dim, descending)
    return Tensor._from_op(order.reshape(input.shape), input.backend, None)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """``(values, indices)`` of the ``k`` largest (or smallest) elements along ``dim``, in
    order; ``values`` is differentiable."""
    d, order = _sort_order("topk", input, dim, largest)
    n = 1 if input.ndim == 0 else input.shape[d]
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n:
        raise ValueError(f"topk: k: expected an int in [0, {n}] (the size of dim {dim}), got {k!r}")
    order = order[(slice(None),) * d + (slice(0, k),)]  # the first k along d
    src = input.reshape(1) if input.ndim == 0 else input
    values = getitem(src, _fancy_index(order, d, order.shape))
    indices = Tensor._from_op(order, input.backend, None)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return return_types.topk(values, indices)


def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct values of ``input`` (flattened), sorted; optionally the index of each
    element's value among them (``return_inverse``) and how often each occurs."""
    if not isinstance(input, Tensor):
        raise TypeError(f"unique: input: expected a Tensor, got {type(input).__name__}")
    if dim is not None:
        raise NotImplementedError(
            "unique: dim is not supported by minicnn; call unique on the flattened tensor"
        )
    xp = backend.xp(input.backend)
    values, inverse, counts = xp.unique(
        input.array.reshape(-1), return_inverse=True, return_counts=True
    )
    out = [Tensor._from_op(values, input.backend, None)]
    if return_inverse:
        inv = inverse.reshape(input.shape).astype("int64")
        out.append(Tensor._from_op(inv, input.backend, None))
    if return_counts:
        out.append(Tensor._from_op(counts.astype("int64"), input.backend, None))
    return out[0] if len(out) == 1 else tuple(out)


def extremum(op: str, input: Tensor, dim: Any, keepdim: bool, kw: dict, minimum: bool) -> Any:
    """``max``/``min`` of ``minicnn/ops/reduce.py`` given a dim or a second tensor: the pair
    (values, indices) along ``dim`` (values through :func:`take_along_dim`, so the gradient
    reaches the one element each index names, as PyTorch), or the elementwise extremum."""
    from minicnn.ops.extra import compare
    from minicnn.ops.reduce import Max, _nonempty, normalize_dims

    unknown = sorted(set(kw) - {"axis", "keepdims", "other"})
    if unknown:
        raise TypeError(f"{op}: unexpected keyword argument {unknown[0]!r}")
    other = kw.get("other", dim)
    if isinstance(other, Tensor):  # max(a, b): elementwise
        return (compare.minimum if minimum else compare.maximum)(input, other)
    if kw.get("axis") is not None:
        if dim is not None:
            raise ValueError(f"{op}: pass dim or axis, not both")
        dim = kw["axis"]
    if dim is None:
        _nonempty(op, input)
        return Max.apply(input, normalize_dims(op, None, input.ndim), False, minimum=minimum)
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}: dim: expected an int, got {dim!r} (for several axes use amax/amin)")
    keep = bool(keepdim if kw.get("keepdims") is None else kw["keepdims"])
    d = normalize_dims(op, dim, input.ndim)
    _nonempty(op, input, d)  # only the reduced axis must be non-empty
    a = d[0] if d else 0
    x = input.reshape(1) if input.ndim == 0 else input
    xp = backend.xp(x.backend)
    idx = getattr(x.array, "argmin" if minimum else "argmax")(axis=a)
    idx = xp.expand_dims(idx.astype("int64"), a)  # (..., 1, ...): one index per reduced slot
    values = take_along_dim(x, Tensor._from_op(idx, x.backend, None), a)
    indices = Tensor._from_op(idx, x.backend, None)
    if not keep or input.ndim == 0:
        shape = input.shape[:a] + input.shape[a + 1 :]
        values, indices = values.reshape(shape), indices.reshape(shape)
    return getattr(return_types, op)(values, indices)
