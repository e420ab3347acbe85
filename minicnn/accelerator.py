"""``minicnn.accelerator``, as ``torch.accelerator``: the one accelerator minicnn knows is a
CUDA GPU through its "cupy" backend."""

from __future__ import annotations

from minicnn import cuda
from minicnn.device import device


def is_available() -> bool:
    """True when the cupy backend can run here."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """``device("cuda")`` where cupy is installed (and, if ``check_available``, usable), else
    None."""
    if cuda.is_available():
        return device("cuda")
    if check_available:
        return None
    try:
        import cupy  # noqa: F401
    except ImportError:
        return None
    return device("cuda")


def device_count() -> int:
    """The number of CUDA devices cupy sees (0 where it cannot run)."""
    return cuda.device_count()
