"""Tensor factories: ``zeros, ones, full, randn, rand, arange, zeros_like, ones_like``.

Each makes its array directly on the backend (default: the current one), in float32 unless
``dtype`` says otherwise. Random factories draw from minicnn's generators (``manual_seed``).
"""

from __future__ import annotations

from typing import Any

from minicnn import backend as _backend
from minicnn import random as _random
from minicnn.tensor import Tensor, _shape_arg, as_dtype, float32


def _make(
    array_fn: Any,
    shape: tuple[int, ...],
    dtype: Any,
    requires_grad: bool,
    name: str | None,
    **kw: Any,
) -> Tensor:
    name = (
        _backend._require(_backend._check_name(name, "backend")) if name else _backend.get_backend()
    )
    dt = as_dtype(dtype) if dtype is not None else float32
    data = array_fn(_backend.xp(name), shape, dt, **kw)
    return Tensor._from_op(data, name, None).requires_grad_(requires_grad)


def zeros(
    *size: Any, dtype: Any = None, requires_grad: bool = False, backend: str | None = None
) -> Tensor:
    """A tensor of zeros of shape ``size``."""
    return _make(lambda xp, s, d: xp.zeros(s, d), _shape_arg(size), dtype, requires_grad, backend)


def ones(
    *size: Any, dtype: Any = None, requires_grad: bool = False, backend: str | None = None
) -> Tensor:
    """A tensor of ones of shape ``size``."""
    return _make(lambda xp, s, d: xp.ones(s, d), _shape_arg(size), dtype, requires_grad, backend)


def full(
    size: Any,
    fill_value: float,
    dtype: Any = None,
    requires_grad: bool = False,
    backend: str | None = None,
) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``."""
    shape = _shape_arg((size,) if isinstance(size, int) else (tuple(size),))
    return _make(lambda xp, s, d: xp.full(s, fill_value, d), shape, dtype, requires_grad, backend)


def randn(
    *size: Any, dtype: Any = None, requires_grad: bool = False, backend: str | None = None
) -> Tensor:
    """Standard normal samples of shape ``size``."""
    return _make(_normal, _shape_arg(size), dtype, requires_grad, backend)


def rand(
    *size: Any, dtype: Any = None, requires_grad: bool = False, backend: str | None = None
) -> Tensor:
    """Uniform samples in [0, 1) of shape ``size``."""
    return _make(_uniform, _shape_arg(size), dtype, requires_grad, backend)


def _normal(xp: Any, shape: tuple[int, ...], dt: Any) -> Any:
    rng = _random.generator("cupy" if xp.__name__ == "cupy" else "numpy")
    return rng.standard_normal(shape, dtype=dt) if dt.kind == "f" else _not_float("randn", dt)


def _uniform(xp: Any, shape: tuple[int, ...], dt: Any) -> Any:
    rng = _random.generator("cupy" if xp.__name__ == "cupy" else "numpy")
    return rng.random(shape, dtype=dt) if dt.kind == "f" else _not_float("rand", dt)


def _not_float(fn: str, dt: Any) -> Any:
    raise TypeError(f"dtype: {fn} makes floating-point samples; got {dt.name}")


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    backend: str | None = None,
) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``, as PyTorch.

    Integer arguments give int64, any float argument float32, unless ``dtype`` says otherwise.
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("step: expected a non-zero number, got 0")
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = "int64" if is_int else float32

    def fill(xp: Any, shape: tuple[int, ...], dt: Any) -> Any:
        return xp.arange(start, end, step).astype(dt)

    return _make(fill, (), dtype, requires_grad, backend)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape, backend and (unless given) dtype of ``t``."""
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, backend=t.backend)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape, backend and (unless given) dtype of ``t``."""
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, backend=t.backend)
