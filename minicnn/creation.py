"""Tensor factories: ``zeros, ones, full, randn, rand, arange, zeros_like, ones_like``.

Each makes its array directly on the backend (default: the current one), in float32 unless
``dtype`` says otherwise. Random factories draw from minicnn's generators (``manual_seed``).
As in PyTorch, the shape may be given as ``zeros(2, 3)``, ``zeros((2, 3))`` or
``zeros(size=(2, 3))``, and ``device="cpu" | "cuda"`` names the backend the way
:mod:`minicnn.device` maps it (``backend=`` names it directly). More factories, with
PyTorch's names, are in :mod:`minicnn.factories`.
"""

from __future__ import annotations

from typing import Any

from minicnn import backend as _backend
from minicnn import random as _random
from minicnn.tensor import Tensor, _shape_arg, as_dtype, float32


def resolve_backend(backend: str | None, device: Any) -> str:
    """The backend named by ``backend`` or ``device`` (at most one), else the current one."""
    if backend is not None and device is not None:
        raise ValueError(f"pass device or backend, not both (got {device!r} and {backend!r})")
    if device is not None:
        from minicnn.device import backend_for

        return _backend._require(backend_for(device, _backend.get_backend()))
    if backend is not None:
        return _backend._require(_backend._check_name(backend, "backend"))
    return _backend.get_backend()


def shape_of(dims: tuple[Any, ...], size: Any) -> tuple[int, ...]:
    """The shape from ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``."""
    if size is not None:
        if dims:
            raise TypeError("size given twice (positionally and as the size= keyword)")
        dims = (size,) if isinstance(size, int) else (tuple(size),)
    return _shape_arg(dims)


def _make(
    array_fn: Any,
    shape: tuple[int, ...],
    dtype: Any,
    requires_grad: bool,
    name: str | None,
    device: Any = None,
    **kw: Any,
) -> Tensor:
    name = resolve_backend(name, device)
    dt = as_dtype(dtype) if dtype is not None else float32
    data = array_fn(_backend.xp(name), shape, dt, **kw)
    return Tensor._from_op(data, name, None).requires_grad_(requires_grad)


def zeros(
    *dims: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    backend: str | None = None,
) -> Tensor:
    """A tensor of zeros of shape ``size``."""
    shape = shape_of(dims, size)
    return _make(lambda xp, s, d: xp.zeros(s, d), shape, dtype, requires_grad, backend, device)


def ones(
    *dims: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    backend: str | None = None,
) -> Tensor:
    """A tensor of ones of shape ``size``."""
    shape = shape_of(dims, size)
    return _make(lambda xp, s, d: xp.ones(s, d), shape, dtype, requires_grad, backend, device)


def full(
    size: Any,
    fill_value: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    backend: str | None = None,
    *,
    device: Any = None,
) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``; without ``dtype``, as PyTorch,
    a bool fills a bool tensor, an int an int64 one, a float a float32 one."""
    shape = _shape_arg((size,) if isinstance(size, int) else (tuple(size),))
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = (
            "bool"
            if isinstance(fill_value, bool)
            else "int64"
            if isinstance(fill_value, int)
            else None
        )
    fill = lambda xp, s, d: xp.full(s, fill_value, d)  # noqa: E731
    return _make(fill, shape, dtype, requires_grad, backend, device)


def randn(
    *dims: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    backend: str | None = None,
    generator: Any = None,
) -> Tensor:
    """Standard normal samples of shape ``size``."""
    _no_generator(generator)
    return _make(_normal, shape_of(dims, size), dtype, requires_grad, backend, device)


def rand(
    *dims: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    backend: str | None = None,
    generator: Any = None,
) -> Tensor:
    """Uniform samples in [0, 1) of shape ``size``."""
    _no_generator(generator)
    return _make(_uniform, shape_of(dims, size), dtype, requires_grad, backend, device)


def _no_generator(generator: Any) -> None:
    if generator is not None:
        raise NotImplementedError(
            "generator: minicnn has one generator per backend, seeded by minicnn.manual_seed; "
            "a separate generator object is not supported"
        )


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
    *,
    device: Any = None,
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

    return _make(fill, (), dtype, requires_grad, backend, device)


def zeros_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, *, device: Any = None
) -> Tensor:
    """Zeros with the shape, backend and (unless given) dtype of ``t``."""
    name = t.backend if device is None else resolve_backend(None, device)
    dtype = t.dtype if dtype is None else dtype
    return zeros(t.shape, dtype=dtype, requires_grad=requires_grad, backend=name)


def ones_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, *, device: Any = None
) -> Tensor:
    """Ones with the shape, backend and (unless given) dtype of ``t``."""
    name = t.backend if device is None else resolve_backend(None, device)
    dtype = t.dtype if dtype is None else dtype
    return ones(t.shape, dtype=dtype, requires_grad=requires_grad, backend=name)
