"""Tensor methods of the ops in ``minicnn/ops/extra``, plus the small conveniences PyTorch
code expects of a tensor: ``dim()``, ``type()``, ``device``, ``cpu()``, ``cuda()``,
``f"{loss:.4f}"``. Each method is a thin call of a public function."""

from __future__ import annotations

from typing import Any

from minicnn import device as _device
from minicnn.ops.extra import compare, indexing, inplace, linalg, shape
from minicnn.tensor import Tensor, as_dtype

# torch's legacy type names, for t.type() and t.type("torch.LongTensor").
_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}


def _type(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    """``t.type()`` names the type as PyTorch does ("torch.FloatTensor"); ``t.type(dtype)``
    (a dtype or such a name) returns ``t`` cast to it."""
    if dtype is None:
        cuda = ".cuda" if self.backend == "cupy" else ""
        return f"torch{cuda}.{_TYPE_NAMES.get(self.dtype.name, self.dtype.name)}"
    if isinstance(dtype, str) and dtype.startswith("torch."):
        by_name = {v: k for k, v in _TYPE_NAMES.items()}
        *device, name = dtype.split(".")[1:]
        if name not in by_name:
            raise ValueError(f"type: dtype: unknown tensor type {dtype!r}")
        return self.to("cuda" if device else "cpu", by_name[name])
    return self.to(as_dtype(dtype))


def _format(self: Tensor, spec: str) -> str:
    """``f"{loss:.4f}"``: a 0-d tensor formats as its number (as PyTorch); any other tensor
    only with an empty spec."""
    if self.ndim == 0:
        return format(self.item(), spec)
    return object.__format__(self, spec)


def _cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    return self.to(_device.device("cuda" if device is None else device))


def _new(fill: Any) -> Any:
    def method(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, **kw: Any) -> Any:
        from minicnn import factories

        size = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return fill(
            factories,
            tuple(size),
            dtype=self.dtype if dtype is None else dtype,
            device=self.device if device is None else device,
            **kw,
        )

    return method


METHODS: dict[str, Any] = {
    "__format__": _format,
    "dim": lambda self: self.ndim,
    "ndimension": lambda self: self.ndim,
    "nelement": lambda self: self.numel(),
    "element_size": lambda self: self.dtype.itemsize,
    "type": _type,
    "device": property(_device.device_of),
    "is_cuda": property(lambda self: self.backend == "cupy"),
    "cpu": lambda self: self.to("cpu"),
    "cuda": _cuda,
    "new_zeros": _new(lambda f, s, **kw: f.zeros(s, **kw)),
    "new_ones": _new(lambda f, s, **kw: f.ones(s, **kw)),
    "new_empty": _new(lambda f, s, **kw: f.empty(s, **kw)),
    "new_full": lambda self, size, fill_value, **kw: _new(
        lambda f, s, **k: f.full(s, fill_value, **k)
    )(self, size, **kw),  # fmt: skip
    "eq": compare.eq,
    "ne": compare.ne,
    "lt": compare.lt,
    "le": compare.le,
    "gt": compare.gt,
    "ge": compare.ge,
    "isnan": compare.isnan,
    "isinf": compare.isinf,
    "isfinite": compare.isfinite,
    "all": compare.all,
    "any": compare.any,
    "allclose": compare.allclose,
    "equal": compare.equal,
    "maximum": compare.maximum,
    "minimum": compare.minimum,
    "gather": indexing.gather,
    "take_along_dim": indexing.take_along_dim,
    "masked_fill": indexing.masked_fill,
    "topk": indexing.topk,
    "sort": indexing.sort,
    "argsort": indexing.argsort,
    "unique": indexing.unique,
    "chunk": shape.chunk,
    "split": shape.split,
    "unbind": shape.unbind,
    "flip": shape.flip,
    "unflatten": shape.unflatten,
    "t": shape.t,
    "repeat": shape.repeat,
    "clone": shape.clone,
    "contiguous": shape.contiguous,
    "view_as": shape.view_as,
    "reshape_as": shape.reshape_as,
    "expand_as": shape.expand_as,
    "mm": linalg.mm,
    "bmm": linalg.bmm,
    **inplace.INPLACE_METHODS,
}

for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
