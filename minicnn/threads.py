"""``get_num_threads`` / ``set_num_threads``: the threads minicnn's CPU work may use.

Two thread pools compute on the CPU: the numba backend's parallel kernels, and the OpenBLAS
behind NumPy's matrix products (the numpy backend's convolutions, every backend's Linear).
``set_num_threads(n)`` (or ``MINICNN_NUM_THREADS=n`` in the environment) caps both at ``n``;
by default both use every core.

More threads are not always faster, so within that cap:

- each numba kernel call runs on one thread or on all ``n``, whichever is measured faster for
  it (tiny calls always on one: see ``minicnn/kernels/numba_cpu/threads.py``);
- while an op of the numba backend runs, OpenBLAS runs on one thread. Its products there are
  small (Linear layers), and a multi-threaded OpenBLAS call waits for its helper threads by
  spinning, which is ruinous when another program holds a core: LeNet-5's first Linear layer
  (64x400 by 400x120) measured 72 ms on two OpenBLAS threads and 73 us on one, under load.
  Its idle helpers also keep spinning for a while after each call, on the cores the numba
  kernels need. Setting the thread count through OpenBLAS's own function works whenever NumPy
  was imported, unlike ``OPENBLAS_NUM_THREADS``, which acts only before NumPy loads.

The cupy backend runs on the GPU and is not affected.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

_requested: int | None = None  # set_num_threads' value; None: MINICNN_NUM_THREADS or all cores
_blas_now: int | None = None  # the thread count minicnn last gave OpenBLAS (None: untouched)


def _env_threads() -> int | None:
    text = os.environ.get("MINICNN_NUM_THREADS", "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"MINICNN_NUM_THREADS: expected a positive int, got {text!r}")
    return value


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _numba_limit() -> int | None:
    """NUMBA_NUM_THREADS (fixed when numba loads), or None without numba."""
    from minicnn import backend

    if backend.unavailable_reason("numba") is not None:
        return None
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def get_num_threads() -> int:
    """The threads minicnn's CPU kernels may use (``set_num_threads``; default: every core
    numba may use)."""
    requested = _requested if _requested is not None else _env_threads()
    limit = _numba_limit()
    if requested is None:
        return limit if limit is not None else _cores()
    return min(requested, limit) if limit is not None else requested


def set_num_threads(num: int) -> None:
    """Let minicnn's CPU kernels (numba's and OpenBLAS's) use at most ``num`` threads."""
    global _requested
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ValueError(f"set_num_threads: num: expected a positive int, got {num!r}")
    limit = _numba_limit()
    if limit is not None and num > limit:
        raise ValueError(
            f"set_num_threads: num: expected at most {limit} (NUMBA_NUM_THREADS, fixed at "
            f"start-up), got {num}"
        )
    _requested = num
    _apply()


def _apply() -> None:
    """Give the current setting to the numba kernels (once loaded) and to OpenBLAS."""
    n = get_num_threads()
    kernels = sys.modules.get("minicnn.kernels.numba_cpu.threads")
    if kernels is not None:
        kernels.set_max_threads(n)
    if _requested is not None or _env_threads() is not None:
        _set_blas(n)


def numba_loaded() -> None:
    """Called once the numba kernels are loaded: they follow the setting from now on."""
    if _requested is not None or _env_threads() is not None:
        _apply()


def blas_for(name: str) -> None:
    """Before an op of backend ``name`` runs: OpenBLAS on one thread for numba, and back to
    the setting (or OpenBLAS's own count, when minicnn was given none) for numpy. Calls
    OpenBLAS only when the count changes."""
    if name == "numba":
        if _blas_now != 1:
            _set_blas(1)
    elif name == "numpy" and _blas_now is not None:
        explicit = _requested if _requested is not None else _env_threads()
        n = explicit if explicit is not None else _blas_default
        if n is not None and _blas_now != n:
            _set_blas(n)


_blas: tuple | None = None  # OpenBLAS's (set, get) once looked for; (None, None): not found
_blas_default: int | None = None  # OpenBLAS's own thread count, before minicnn changed it


def _set_blas(n: int) -> None:
    global _blas, _blas_now, _blas_default
    if _blas is None:
        _blas = _find_openblas()
        if _blas[1] is not None:
            _blas_default = int(_blas[1]())
    if _blas[0] is not None:
        _blas[0](n)
    _blas_now = n


def _find_openblas() -> tuple:
    """OpenBLAS's ``set_num_threads`` and ``get_num_threads`` in the copy NumPy loaded, or
    (None, None) for another BLAS (Apple's Accelerate, MKL) or none found. NumPy's wheels ship
    it as scipy-openblas in numpy.libs (Linux, Windows) or .dylibs (macOS), its symbols with a
    prefix and suffix; a NumPy linked to a system OpenBLAS exports the plain names."""
    import numpy as np

    folder = Path(np.__file__).resolve().parent
    paths: list[str | None] = [
        str(p)
        for d in (folder / ".libs", folder.parent / "numpy.libs", folder / ".dylibs")
        if d.is_dir()
        for p in sorted(d.iterdir())
        if "openblas" in p.name.lower()
    ]
    paths.append(None)  # the symbols already loaded into the process
    for path in paths:
        try:
            lib = ctypes.CDLL(path)  # a library NumPy loaded already: that same copy
        except OSError:
            continue
        for prefix, suffix in (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", "")):
            setter = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            getter = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    return None, None
