"""The numba kernels compile with ``parallel=PARALLEL``: ``parallel=True`` without its ``numpy``
option, so np.zeros and np.ones never become parallel loops of their own (jit.py says why).
The direct twins keep the plain ``parallel=True`` a reader knows: they are the definitions,
written to be read, and no training run compiles them."""

from __future__ import annotations

import numpy as np
import pytest

numba_cpu = pytest.importorskip("minicnn.kernels.numba_cpu", reason="numba is not installed")

from minicnn.kernels.numba_cpu import (  # noqa: E402
    conv,
    dropout,
    norm,
    optim,
    pack,
    pool,
    residual,
)
from minicnn.kernels.numba_cpu.jit import PARALLEL  # noqa: E402
from numba import njit, prange  # noqa: E402
from numba.core.registry import CPUDispatcher  # noqa: E402

MODULES = (conv, dropout, norm, optim, pack, pool, residual)


def test_every_parallel_kernel_compiles_with_PARALLEL():
    parallel = {
        f"{m.__name__}.{name}": obj.targetoptions["parallel"]
        for m in MODULES
        for name, obj in vars(m).items()
        if isinstance(obj, CPUDispatcher)
        and obj.__module__ == m.__name__
        and "parallel" in obj.targetoptions
    }
    assert len(parallel) >= 10  # every family's kernels were found
    assert [name for name, option in parallel.items() if option is not PARALLEL] == []


def _fill(a):
    b = np.zeros(a.shape[0])  # a parallel loop of its own under parallel=True
    for i in prange(a.shape[0]):
        b[i] = 2 * a[i]
    return b


def _parallel_loops(dispatcher) -> list[int]:
    """How many parallel loops each compiled signature of ``dispatcher`` started with."""
    return [
        len(dispatcher.overloads[sig].metadata["parfor_diagnostics"].initial_parfors)
        for sig in dispatcher.signatures
    ]


def test_numpy_calls_stay_serial_for_every_signature():
    # Numba empties a dict given as parallel= during the first compile: the second signature
    # is where a dict would have turned the numpy option back on.
    ours, default = njit(parallel=PARALLEL)(_fill), njit(parallel=True)(_fill)
    for dtype in (np.float32, np.float64):
        a = np.arange(5, dtype=dtype)
        np.testing.assert_array_equal(ours(a), 2 * a)
        default(a)
    assert _parallel_loops(ours) == [1, 1]  # the prange only
    assert _parallel_loops(default) == [2, 2]  # np.zeros too
    assert PARALLEL.enabled and PARALLEL.prange and not PARALLEL.numpy
