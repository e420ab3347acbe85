"""Compiling the .cu sources once per process and launching their kernels with CuPy.

Every kernel file is compiled by NVRTC through ``cupy.RawModule`` the first time one of its
kernels is needed; the module is then kept in :data:`_modules` for the life of the process (and
CuPy keeps the binary in its on-disk cache, so later processes skip the compiler). The kernels are
C++ templates on the element type ``T`` (and, for the tiled convolutions, the tile shape); each
instantiation the launchers may use is listed by its family module as a *name expression* such as
``"conv2d_forward_gemm_kernel<float, 64, 64>"``, which is also the name it is fetched by.

CuPy is imported inside the functions, never at module level, so the package imports (and the
kernel contract can be checked) on a machine without CuPy or a GPU.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from importlib.resources import files
from typing import Any

import numpy as np

# .cu file name -> compiled cupy.RawModule
_modules: dict[str, Any] = {}
# .cu file name -> how many times it was compiled in this process (the tests check it stays 1)
compile_counts: dict[str, int] = {}

COMPILE_OPTIONS = ("-std=c++17",)
THREADS = 256  # block size of the elementwise and pooling kernels


def import_cupy():
    """Import and return cupy, with an error that says what is missing."""
    try:
        import cupy
    except ImportError as error:  # pragma: no cover - depends on the machine
        raise ImportError(
            "the 'cupy' backend needs CuPy and a CUDA GPU: pip install 'minicnn[gpu]'"
        ) from error
    return cupy


def read_source(file_name: str) -> str:
    """The source of ``cuda/<file_name>`` with ``#include "common.cuh"`` replaced by the header.

    Pasting the header in (rather than passing NVRTC an include path) keeps each module one
    self-contained text, so CuPy's compile cache, keyed on that text, also notices header edits.
    """
    folder = files("minicnn.kernels") / "cuda"
    source = (folder / file_name).read_text(encoding="utf-8")
    header = (folder / "common.cuh").read_text(encoding="utf-8")
    return source.replace('#include "common.cuh"', header)


def module(file_name: str, name_expressions: Iterable[str]):
    """The ``cupy.RawModule`` of ``cuda/<file_name>``, compiled on first use and then cached."""
    compiled = _modules.get(file_name)
    if compiled is None:
        cupy = import_cupy()
        compiled = cupy.RawModule(
            code=read_source(file_name),
            options=COMPILE_OPTIONS,
            name_expressions=tuple(name_expressions),
        )
        compiled.compile()  # compile now, so a compiler error surfaces here and only once
        _modules[file_name] = compiled
        compile_counts[file_name] = compile_counts.get(file_name, 0) + 1
    return compiled


@functools.cache
def _function(file_name: str, name: str, name_expressions: tuple[str, ...]):
    return module(file_name, name_expressions).get_function(name)


def launch(
    file_name: str,
    name_expressions: tuple[str, ...],
    name: str,
    grid: tuple[int, ...],
    block: tuple[int, ...],
    args: tuple,
) -> None:
    """Launch kernel ``name`` of ``cuda/<file_name>`` on ``grid`` x ``block`` with ``args``.

    ``args`` must match the C signature exactly: CuPy arrays for pointers, ``np.int32`` for
    ``int``, ``np.int64`` for ``long long``, and ``np.float32``/``np.float64`` for ``T``.
    """
    _function(file_name, name, name_expressions)(grid, block, args)


def ctype(dtype) -> str:
    """The C++ element type of a float32 or float64 array: ``"float"`` or ``"double"``."""
    return "float" if np.dtype(dtype) == np.float32 else "double"


def instantiations(kernel: str, types: Sequence[str] = ("float", "double")) -> list[str]:
    """Name expressions of a kernel template for each element type."""
    return [f"{kernel}<{t}>" for t in types]


@functools.cache
def multiprocessor_count() -> int:
    """Streaming multiprocessors of the current GPU (grids are sized in multiples of it)."""
    cupy = import_cupy()
    return int(cupy.cuda.Device().attributes["MultiProcessorCount"])


def elementwise_grid(total: int) -> tuple[int]:
    """Grid for a grid-stride loop over ``total`` elements with :data:`THREADS`-thread blocks.

    One thread per element up to a few resident waves; past that, threads loop.
    """
    blocks = (total + THREADS - 1) // THREADS
    return (max(1, min(blocks, 32 * multiprocessor_count())),)


def int32_args(*values: int) -> tuple[np.int32, ...]:
    """``int`` kernel arguments, refusing values that would wrap (one NumPy conversion for all
    of them: this runs on every launch)."""
    try:
        return tuple(np.array(values, dtype=np.int32))
    except OverflowError:
        raise ValueError(f"{values} do not all fit the kernels' 32-bit int parameters") from None
