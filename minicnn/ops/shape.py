"""Shape ops: reshape/view, transpose/permute, flatten, squeeze/unsqueeze, expand, indexing,
``cat``, ``stack`` and constant ``pad``.

None of them does arithmetic: each moves elements, so each backward moves the gradient back
(the inverse reshape or permutation, a slice of ``gy``, or a scatter into zeros).
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.tensor import Tensor, _raw_index


class Reshape(Function):
    """y = x with a new shape (same elements, C order). gx = gy reshaped back."""

    def forward(self, x: Any, shape: tuple[int, ...]) -> Any:
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, gy: Any) -> Any:
        return gy.reshape(self.shape)


class Permute(Function):
    """y = x with axes reordered by ``dims``. gx = gy with the inverse permutation."""

    def forward(self, x: Any, dims: tuple[int, ...]) -> Any:
        self.inverse = tuple(sorted(range(len(dims)), key=lambda i: dims[i]))
        return x.transpose(dims)

    def backward(self, gy: Any) -> Any:
        return gy.transpose(self.inverse)


class Expand(Function):
    """y = x broadcast to ``shape`` (a copy). gx = gy summed over the broadcast axes."""

    def forward(self, x: Any, shape: tuple[int, ...]) -> Any:
        self.shape = x.shape
        return backend.xp().broadcast_to(x, shape).copy()

    def backward(self, gy: Any) -> Any:
        from minicnn.ops.elementwise import unbroadcast

        return unbroadcast(gy, self.shape)


class GetItem(Function):
    """y = x[index] (basic slices, ints, None, Ellipsis, bool masks, integer arrays).
    gx = zeros with gy placed back at ``index``; integer arrays may repeat an element, so they
    scatter-add (``add.at``) and every occurrence contributes."""

    def forward(self, x: Any, index: Any) -> Any:
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, gy: Any) -> Any:
        xp = backend.xp()
        gx = xp.zeros(self.shape, self.dtype)
        if _has_int_array(self.index):
            xp.add.at(gx, self.index, gy)
        else:
            gx[self.index] = gy
        return gx


def _has_int_array(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(p, "dtype") and p.dtype.kind in "iu" for p in parts)


class Cat(Function):
    """y = the inputs joined along ``dim``. Each input's gradient is its slice of gy."""

    def forward(self, *xs: Any, dim: int) -> Any:
        self.dim = dim
        self.sizes = [x.shape[dim] for x in xs]
        return backend.xp().concatenate(xs, axis=dim)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        out, start = [], 0
        for size in self.sizes:
            sl = [slice(None)] * gy.ndim
            sl[self.dim] = slice(start, start + size)
            out.append(gy[tuple(sl)])
            start += size
        return tuple(out)


class Stack(Function):
    """y = the inputs stacked along a new axis ``dim``. Input i's gradient is gy[..., i, ...]."""

    def forward(self, *xs: Any, dim: int) -> Any:
        self.dim, self.n = dim, len(xs)
        return backend.xp().stack(xs, axis=dim)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        return tuple(gy.take(i, axis=self.dim) for i in range(self.n))


class Pad(Function):
    """y = x surrounded by ``value``; ``widths`` is NumPy's ((before, after), ...) per axis.
    gx = the interior of gy."""

    def forward(self, x: Any, widths: tuple[tuple[int, int], ...], value: float) -> Any:
        self.interior = tuple(slice(b, b + s) for (b, _), s in zip(widths, x.shape))
        return backend.xp().pad(x, widths, mode="constant", constant_values=value)

    def backward(self, gy: Any) -> Any:
        return gy[self.interior]


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape; one size may be -1 (inferred)."""
    shape = _shape_args(shape)
    if shape.count(-1) > 1 or any(s < -1 for s in shape):
        raise ValueError(f"shape: expected sizes >= 0 with at most one -1, got {shape}")
    known = _numel(tuple(s for s in shape if s != -1))
    n = input.numel()
    if (-1 in shape and (known == 0 or n % known)) or (-1 not in shape and known != n):
        raise ValueError(
            f"shape: cannot reshape a tensor of shape {input.shape} ({n} elements) to {shape}"
        )
    return Reshape.apply(input, shape)


view = reshape


def _axis(op: str, d: int, ndim: int, argname: str = "dim") -> int:
    if not isinstance(d, int) or not -ndim <= d < ndim:
        raise ValueError(f"{op}: {argname} {d!r} out of range for {ndim} dimension(s)")
    return d % ndim


def permute(input: Tensor, *dims: Any) -> Tensor:
    """Reorder the axes: ``dims`` is a permutation of ``range(ndim)``."""
    dims = _shape_args(dims)
    in_range = all(-input.ndim <= d < input.ndim for d in dims)
    if not in_range or sorted(d % input.ndim for d in dims) != list(range(input.ndim)):
        raise ValueError(f"dims: expected a permutation of {tuple(range(input.ndim))}, got {dims}")
    return Permute.apply(input, tuple(d % input.ndim for d in dims))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap axes ``dim0`` and ``dim1``."""
    perm = list(range(input.ndim))
    a, b = (
        _axis("transpose", dim0, input.ndim, "dim0"),
        _axis("transpose", dim1, input.ndim, "dim1"),
    )
    perm[a], perm[b] = perm[b], perm[a]
    return Permute.apply(input, tuple(perm))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim`` .. ``end_dim`` (inclusive) into one."""
    if input.ndim == 0:
        return reshape(input, 1)
    s, e = (
        _axis("flatten", start_dim, input.ndim, "start_dim"),
        _axis("flatten", end_dim, input.ndim, "end_dim"),
    )
    if s > e:
        raise ValueError(
            f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim})"
        )
    shape = input.shape[:s] + (_numel(input.shape[s : e + 1]),) + input.shape[e + 1 :]
    return Reshape.apply(input, shape)


def squeeze(input: Tensor, dim: int | None = None) -> Tensor:
    """Remove size-1 axes (all of them, or only ``dim`` if it has size 1)."""
    if dim is None:
        shape = tuple(s for s in input.shape if s != 1)
    else:
        d = _axis("squeeze", dim, input.ndim)
        shape = input.shape if input.shape[d] != 1 else input.shape[:d] + input.shape[d + 1 :]
    return Reshape.apply(input, shape)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 axis at position ``dim`` (in the result)."""
    d = _axis("unsqueeze", dim, input.ndim + 1)
    return Reshape.apply(input, input.shape[:d] + (1,) + input.shape[d:])


def expand(input: Tensor, *shape: Any) -> Tensor:
    """Broadcast to ``shape`` (-1 keeps a size), as ``torch.Tensor.expand``."""
    shape = _shape_args(shape)
    lead = len(shape) - input.ndim
    if lead < 0:
        raise ValueError(f"shape: expected at least {input.ndim} sizes, got {shape}")
    if any(s == -1 for s in shape[:lead]):
        raise ValueError(f"shape: -1 is not allowed for a new leading axis, got {shape}")
    full = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    for i, s in enumerate(input.shape):
        if s != 1 and s != full[i + lead]:
            raise ValueError(f"shape: cannot expand a tensor of shape {input.shape} to {shape}")
    return Expand.apply(input, full)


def getitem(input: Tensor, index: Any) -> Tensor:
    """``input[index]`` with basic and integer-array indexing; differentiable."""
    raw = _raw_index(index)
    xp = backend.xp(input.backend)
    if isinstance(raw, list):
        raw = xp.asarray(raw)
    elif isinstance(raw, tuple):
        raw = tuple(xp.asarray(p) if isinstance(p, list) else p for p in raw)
    try:
        return GetItem.apply(input, raw)
    except IndexError as e:
        raise IndexError(f"index: {e} (tensor shape {input.shape})") from None


def _check_join(op: str, tensors: Any, dim: int, new_axis: bool) -> tuple[list[Tensor], int]:
    tensors = list(tensors)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"tensors: {op} expects a non-empty sequence of Tensors")
    ref = tensors[0].shape
    d = _axis(op, dim, len(ref) + (1 if new_axis else 0))
    for i, t in enumerate(tensors[1:], 1):
        other = t.shape
        same = (
            other == ref
            if new_axis
            else (
                len(other) == len(ref)
                and all(a == b for j, (a, b) in enumerate(zip(ref, other)) if j != d)
            )
        )
        if not same:
            what = "the same shape" if new_axis else f"the same shape except along dim {d}"
            raise ValueError(
                f"tensors: {op} needs {what}; tensor 0 has {ref}, tensor {i} has {other}"
            )
    return tensors, d


def cat(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors along an existing axis ``dim``."""
    tensors, d = _check_join("cat", tensors, dim, new_axis=False)
    return Cat.apply(*tensors, dim=d)


def stack(tensors: Any, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis ``dim``."""
    tensors, d = _check_join("stack", tensors, dim, new_axis=True)
    return Stack.apply(*tensors, dim=d)


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding, as ``torch.nn.functional.pad``: ``pad`` lists (before, after) pairs
    starting from the LAST axis: ``(left, right, top, bottom, ...)``."""
    if mode != "constant":
        raise ValueError(f"mode: only 'constant' padding is supported, got {mode!r}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: expected an even number of sizes covering at most {input.ndim} axes, got {pad}"
        )
    if any(not isinstance(p, int) or p < 0 for p in pad):
        raise ValueError(f"pad: expected non-negative ints, got {pad}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(input, tuple(widths), value)
