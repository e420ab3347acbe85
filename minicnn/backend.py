"""THE backend switch: ``"numpy"`` | ``"numba"`` | ``"cupy"``.

A backend is two things: an array module (``xp``: NumPy for ``numpy`` and ``numba``, CuPy for
``cupy``) for light array math, and a table of hand-written kernels (``minicnn.kernels``'s
``numpy_ref``, ``numba_cpu`` or ``cuda``) for the heavy loops. Ops reach a backend only through
:func:`xp` and :func:`kernel`; they never test which backend they run on.

Every tensor remembers the backend its array belongs to. While an op runs, the backend of its
inputs is made current (:func:`op_backend`), so ``xp()`` and ``kernel()`` inside an op answer
for the inputs, whatever the global choice is. The global choice (``set_backend``,
``use_backend``, the ``MINICNN_BACKEND`` environment variable) decides where *new* tensors are
created.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

BACKENDS: tuple[str, ...] = ("numpy", "numba", "cupy")

# Which kernel package implements each backend.
_KERNEL_MODULES = {
    "numpy": "minicnn.kernels.numpy_ref",
    "numba": "minicnn.kernels.numba_cpu",
    "cupy": "minicnn.kernels.cuda",
}

_state = threading.local()
_reasons: dict[str, str | None] = {}  # backend -> why it cannot run (None: it can)
_kernel_tables: dict[str, dict[str, Any]] = {}


def _check_name(name: Any, argname: str = "name") -> str:
    if not isinstance(name, str) or name not in BACKENDS:
        raise ValueError(
            f"{argname}: expected one of {', '.join(map(repr, BACKENDS))}, got {name!r}"
        )
    return name


def unavailable_reason(name: str) -> str | None:
    """Why backend ``name`` cannot run here, or None when it can. Probed once, then cached."""
    _check_name(name)
    if name not in _reasons:
        _reasons[name] = _probe(name)
    return _reasons[name]


def _probe(name: str) -> str | None:
    if name == "numpy":
        return None
    if name == "numba":
        try:
            import numba  # noqa: F401
        except ImportError as e:
            return f"the numba package is not installed ({e}); install it with: pip install numba"
        return None
    try:
        import cupy
    except ImportError as e:
        return (
            f"the cupy package is not installed ({e}); install it with: "
            "pip install 'minicnn[gpu]' (cupy-cuda13x)"
        )
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError without a driver, and friends
        return f"cupy is installed but no CUDA device can be used: {e}"
    if count < 1:
        return "cupy is installed but no CUDA device is present"
    return None


def available_backends() -> list[str]:
    """The backends that can run on this machine, in the order of ``BACKENDS``."""
    return [b for b in BACKENDS if unavailable_reason(b) is None]


def _require(name: str) -> str:
    reason = unavailable_reason(name)
    if reason is not None:
        raise RuntimeError(f"backend {name!r} is not available: {reason}")
    return name


def _initial_backend() -> str:
    name = os.environ.get("MINICNN_BACKEND", "numpy").strip().lower() or "numpy"
    if name not in BACKENDS:
        raise ValueError(
            f"MINICNN_BACKEND: expected one of {', '.join(map(repr, BACKENDS))}, got {name!r}"
        )
    return _require(name)


_default = _initial_backend()


def get_backend() -> str:
    """The backend new tensors are created on."""
    return getattr(_state, "current", None) or _default


def set_backend(name: str) -> None:
    """Make ``name`` the backend new tensors are created on (raises if it cannot run here)."""
    global _default
    _default = _require(_check_name(name))
    _state.current = None


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[str]:
    """``with use_backend("numba"):`` creates new tensors on ``name`` inside the block."""
    _require(_check_name(name))
    previous = getattr(_state, "current", None)
    _state.current = name
    try:
        yield name
    finally:
        _state.current = previous


@contextlib.contextmanager
def op_backend(name: str) -> Iterator[None]:
    """Make ``name`` current while an op's forward or backward runs (used by autograd)."""
    previous_op = getattr(_state, "op", None)
    _state.op = name
    try:
        yield
    finally:
        _state.op = previous_op


def current() -> str:
    """The backend an op's array math should use: the op's inputs', else the global one."""
    return getattr(_state, "op", None) or get_backend()


def xp(name: str | None = None) -> ModuleType:
    """The array module of backend ``name`` (default: :func:`current`): numpy or cupy."""
    name = name or current()
    if name == "cupy":
        _require("cupy")
        import cupy

        return cupy
    return np


def kernel(kernel_name: str, name: str | None = None) -> Any:
    """The hand-written kernel ``kernel_name`` of backend ``name`` (default: :func:`current`).

    ``kernel_name`` is a contract name (``"conv2d_forward"``: the fast kernel) or a direct
    twin's (``"conv2d_forward_direct"``: the same parameters and results, the readable loops).
    The twin is asked for by its own name, the one it has in every backend, so that a search
    for it finds every place it is used.
    """
    name = _require(_check_name(name or current()))
    table = _kernel_tables.get(name)
    if table is None:
        module = importlib.import_module(_KERNEL_MODULES[name])
        # A backend that compiles its kernels on first use says so once, on a cold cache, so
        # that a long first step is not mistaken for a hang.
        notice = getattr(module, "compile_notice", lambda: None)()
        if notice:
            print(f"minicnn: {notice}", file=sys.stderr, flush=True)
        table = {**module.KERNELS, **module.DIRECT}
        _kernel_tables[name] = table
    try:
        return table[kernel_name]
    except KeyError:
        raise KeyError(f"kernel_name: backend {name!r} has no kernel {kernel_name!r}") from None


def backend_of_array(a: Any) -> str:
    """``"cupy"`` for a CuPy array, else ``"numpy"`` (host arrays belong to numpy and numba)."""
    return "cupy" if type(a).__module__.startswith("cupy") else "numpy"


def is_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) or backend_of_array(a) == "cupy"


def to_host(a: Any) -> np.ndarray:
    """A NumPy copy (or view, for host arrays) of any backend's array."""
    if backend_of_array(a) == "cupy":
        return a.get()
    return np.asarray(a)


def move(a: Any, src: str, dst: str) -> Any:
    """Move array ``a`` from backend ``src`` to ``dst``; host-to-host moves share memory."""
    src_gpu, dst_gpu = src == "cupy", dst == "cupy"
    if src_gpu == dst_gpu:
        return a
    if dst_gpu:
        return xp("cupy").asarray(a)
    return a.get()


def synchronize(name: str | None = None) -> None:
    """Wait for queued GPU work (a no-op on the CPU backends); for timing."""
    if (name or current()) == "cupy":
        xp("cupy").cuda.get_current_stream().synchronize()
