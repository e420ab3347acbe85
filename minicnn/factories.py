"""More tensor factories with PyTorch's names: ``tensor`` (with ``device=``), ``as_tensor``,
``from_numpy``, ``empty``, ``eye``, ``linspace``, ``randint``, ``randperm``, ``normal`` and the
``*_like`` family.

Integer draws (``randint``, ``randperm``) come from the host generator on every backend (or
from ``generator=``, a :class:`minicnn.Generator`) and are then moved, so a seed gives the
same integers on "numpy", "numba" and "cupy".
``empty`` returns zeros: minicnn never hands out uninitialised memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minicnn import backend as _backend
from minicnn.creation import _no_generator, full, rand, randn, resolve_backend, shape_of, zeros
from minicnn.generator import host_rng
from minicnn.tensor import Tensor, as_dtype, float32


def tensor(
    data: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    backend: str | None = None,
) -> Tensor:
    """A new tensor (always a copy) from Python data, an array or a tensor, on ``device``."""
    name = resolve_backend(backend, device) if device is not None or backend else None
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, backend=name)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory when it already is one (or a NumPy array) of the
    right dtype on the right side of the host/GPU line; otherwise a converted copy."""
    name = resolve_backend(None, device)
    if isinstance(data, Tensor):
        return data.to(device if device is not None else data.backend, dtype)
    want = as_dtype(dtype) if dtype is not None else None
    if _backend.is_array(data) and (want is None or data.dtype == want):
        if (_backend.backend_of_array(data) == "cupy") == (name == "cupy"):
            return Tensor._from_op(data, name, None)  # shares memory
    return Tensor(data, dtype=dtype, backend=name)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor on the host backend in use that shares ``ndarray``'s memory."""
    from minicnn.device import host_backend

    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {ndarray.dtype.name}")
    return Tensor._from_op(ndarray, host_backend(), None)


def empty(*dims: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A tensor of shape ``size`` (zeros, in minicnn)."""
    return zeros(shape_of(dims, size), dtype=dtype, device=device, requires_grad=requires_grad)


def eye(
    n: int, m: int | None = None, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The n x m identity matrix (m = n by default)."""
    m = n if m is None else m
    for argname, v in (("n", n), ("m", m)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"eye: {argname}: expected a non-negative int, got {v!r}")
    name = resolve_backend(None, device)
    dt = as_dtype(dtype) if dtype is not None else float32
    out = Tensor._from_op(_backend.xp(name).eye(n, m, dtype=dt), name, None)
    return out.requires_grad_(requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"linspace: steps: expected a non-negative int, got {steps!r}")
    name = resolve_backend(None, device)
    dt = as_dtype(dtype) if dtype is not None else float32
    data = _backend.xp(name).linspace(start, end, steps, dtype=np.float64).astype(dt)
    return Tensor._from_op(data, name, None).requires_grad_(requires_grad)


def _on(host: np.ndarray, device: Any, requires_grad: bool = False) -> Tensor:
    name = resolve_backend(None, device)
    return Tensor._from_op(_backend.move(host, "numpy", name), name, None).requires_grad_(
        requires_grad
    )


def randint(*args: Any, size: Any = None, dtype: Any = None, device: Any = None,
            generator: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None and args and isinstance(args[-1], (tuple, list)):
        *args, size = args
    if size is None or len(args) not in (1, 2):
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    low, high = (0, args[0]) if len(args) == 1 else args
    if not high > low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    shape = shape_of((), size)
    dt = as_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    host = host_rng(generator).integers(low, high, size=shape).astype(dt)
    return _on(host, device, requires_grad)


def randperm(n: int, dtype: Any = None, device: Any = None, generator: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A random permutation of 0 .. n-1 (int64)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"randperm: n: expected a non-negative int, got {n!r}")
    dt = as_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    return _on(host_rng(generator).permutation(n).astype(dt), device, requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, dtype: Any = None,
           device: Any = None, generator: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Samples of N(mean, std^2): ``normal(mean_tensor, std_tensor)`` elementwise (broadcast),
    ``normal(mean_tensor, 1.0)``, or ``normal(0.0, 1.0, size)``."""
    _no_generator(generator)
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        if size is not None:
            raise TypeError("normal: size is only valid when mean and std are numbers")
        ref = tensors[0]
        m = mean.array if isinstance(mean, Tensor) else mean
        s = std.array if isinstance(std, Tensor) else std
        xp = _backend.xp(ref.backend)
        if bool((xp.asarray(s) < 0).any()):
            raise ValueError("normal: std: expected values >= 0")
        shape = np.broadcast_shapes(*(t.shape for t in tensors))
        z = randn(shape, dtype=ref.dtype, backend=ref.backend)
        return Tensor._from_op(z.array * s + m, ref.backend, None).requires_grad_(requires_grad)
    if size is None:
        raise TypeError("normal: expected size= when mean and std are numbers")
    if std < 0:
        raise ValueError(f"normal: std: expected a number >= 0, got {std!r}")
    z = randn(size=size, dtype=dtype, device=device)
    return Tensor._from_op(z.array * std + mean, z.backend, None).requires_grad_(requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``zeros_like``: minicnn never hands out uninitialised memory."""
    return zeros(
        input.shape, dtype=input.dtype if dtype is None else dtype, **_where(input, device)
    )


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """``fill_value`` in the shape, dtype and backend of ``input`` (unless given)."""
    dt = input.dtype if dtype is None else dtype
    return full(input.shape, fill_value, dtype=dt, **_where(input, device))


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Uniform samples in [0, 1) in the shape, dtype and backend of ``input``."""
    return rand(input.shape, dtype=input.dtype if dtype is None else dtype, **_where(input, device))


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Standard normal samples in the shape, dtype and backend of ``input``."""
    dt = input.dtype if dtype is None else dtype
    return randn(input.shape, dtype=dt, **_where(input, device))


def _where(input: Tensor, device: Any) -> dict[str, Any]:
    return {"backend": input.backend} if device is None else {"device": device}
