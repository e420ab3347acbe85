"""Devices, PyTorch's way of saying where a tensor lives, mapped onto minicnn's backends.

minicnn has backends, not devices, and the map is plain:

    device("cpu")     the host backend in use: the current backend if it is "numpy" or
                      "numba", else "numba" where numba is installed, else "numpy"
    device("cuda")    the "cupy" backend (one GPU: "cuda" and "cuda:0" are the same)

So ``x.to(device)`` and ``model.to(device)`` move data between host and GPU exactly when the
backend changes between "cupy" and a host backend; ``tensor.device`` reports ``cpu`` for a
tensor of either host backend. Backend names (``"numpy"``, ``"numba"``, ``"cupy"``) are
accepted wherever a device is. Device types minicnn has no backend for (``"mps"``, ``"xpu"``,
...) are refused with an error that says so; ``"cuda"`` where cupy or a GPU is missing fails
when data would move, with the reason.
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.tensor import Tensor, as_dtype

_TYPES = ("cpu", "cuda")
_OTHER_TORCH_TYPES = ("mps", "xpu", "hip", "xla", "meta", "mtia", "hpu", "ipu", "vulkan", "mkldnn")


class device:
    """``device("cpu")``, ``device("cuda")``, ``device("cuda:0")``, ``device("cuda", 0)``."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda', got {type!r}")
        name, _, number = type.partition(":")
        if number:
            if index is not None:
                raise ValueError(f"device: index given twice, in {type!r} and as {index!r}")
            if not number.isdigit():
                raise ValueError(f"device: expected 'cuda:<n>', got {type!r}")
            index = int(number)
        if name in backend.BACKENDS:
            raise ValueError(
                f"device: {name!r} is a minicnn backend, not a device; pass it to .to() "
                f"directly, or use device('cpu') / device('cuda')"
            )
        if name not in _TYPES:
            what = (
                "a device minicnn has no backend for" if name in _OTHER_TORCH_TYPES else "unknown"
            )
            raise RuntimeError(
                f"device: {name!r} is {what}; minicnn runs on 'cpu' (the numpy or numba "
                f"backend) and 'cuda' (the cupy backend)"
            )
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise ValueError(f"device: index: expected a non-negative int, got {index!r}")
            if name == "cuda" and index != 0:
                raise RuntimeError(
                    f"device: minicnn drives one GPU, 'cuda:0' (select another with "
                    f"CUDA_VISIBLE_DEVICES); got 'cuda:{index}'"
                )
        self.type = name
        self.index = index

    @property
    def backend(self) -> str:
        """The backend this device names now (see the module docstring)."""
        return "cupy" if self.type == "cuda" else host_backend()

    def __repr__(self) -> str:
        extra = f", index={self.index}" if self.index is not None else ""
        return f"device(type={self.type!r}{extra})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


def host_backend() -> str:
    """What ``device("cpu")`` means now: the current backend if it is a host one, else numba
    where it can run, else numpy."""
    current = backend.get_backend()
    if current != "cupy":
        return current
    return "numba" if backend.unavailable_reason("numba") is None else "numpy"


def device_of(t: Tensor) -> device:
    """``t.device``: cuda:0 for a cupy tensor, cpu for the host backends."""
    return device("cuda", 0) if t.backend == "cupy" else device("cpu")


def backend_for(target: Any, current: str) -> str:
    """The backend that ``target`` (a backend name, a device, or a device string) asks for,
    for data now on backend ``current``: data already on the host stays on its host backend
    when asked for "cpu"."""
    if isinstance(target, str) and target in backend.BACKENDS:
        return target
    dev = device(target)
    if dev.type == "cpu":
        return current if current != "cupy" else host_backend()
    return "cupy"


def _is_device(v: Any) -> bool:
    if isinstance(v, device):
        return True
    if not isinstance(v, str):
        return False
    return v in backend.BACKENDS or v.partition(":")[0] in _TYPES + _OTHER_TORCH_TYPES


def parse_to(args: tuple, kwargs: dict, argname: str = "target") -> tuple[Any, Any, bool]:
    """PyTorch's ``to`` arguments -> (device or backend name or None, dtype or None, copy).

    Accepted: ``to(dtype)``, ``to(device, dtype=None)``, ``to(tensor)`` (its backend and
    dtype), with keywords ``device``, ``dtype``, ``non_blocking`` (ignored: every copy
    completes before it returns) and ``copy``.
    """
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy"}
    if unknown:
        raise TypeError(f"to: unexpected keyword argument {sorted(unknown)[0]!r}")
    if len(args) > 2:
        raise TypeError(f"to: expected at most 2 positional arguments, got {len(args)}")
    target, dtype = kwargs.get("device"), kwargs.get("dtype")
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):
        other = rest.pop(0)
        target, dtype = other.backend, other.dtype
    elif rest and _is_device(rest[0]):
        target = rest.pop(0)
    if rest:
        if dtype is not None:
            raise TypeError("to: dtype given twice (positionally and as a keyword)")
        dtype = rest.pop(0)
    if rest:
        raise TypeError(f"to: expected a dtype after the device, got {rest[0]!r}")
    if target is not None:
        if isinstance(target, str) and target not in backend.BACKENDS:
            target = device(target)  # raises for unknown or unsupported devices
        elif not isinstance(target, (str, device)):
            raise TypeError(f"{argname}: expected a device or a backend name, got {target!r}")
    if dtype is not None:
        dtype = as_dtype(dtype, argname)
    return target, dtype, bool(kwargs.get("copy", False))
