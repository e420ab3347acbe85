"""``get_num_threads`` / ``set_num_threads``: the threads the numba backend's parallel kernels
use (numba's own setting; at most ``NUMBA_NUM_THREADS``, fixed when numba loads). The numpy
backend runs its kernels in one Python thread (NumPy's BLAS has its own pool, set by
``OPENBLAS_NUM_THREADS`` before start), and the cupy backend on the GPU.
"""

from __future__ import annotations

from minicnn import backend


def get_num_threads() -> int:
    """The number of threads numba's parallel kernels use (1 where numba cannot run)."""
    if backend.unavailable_reason("numba") is not None:
        return 1
    import numba

    return int(numba.get_num_threads())


def set_num_threads(num: int) -> None:
    """Use ``num`` threads in numba's parallel kernels (1 .. NUMBA_NUM_THREADS)."""
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ValueError(f"set_num_threads: num: expected a positive int, got {num!r}")
    reason = backend.unavailable_reason("numba")
    if reason is not None:
        raise RuntimeError(f"set_num_threads: the numba backend is not available: {reason}")
    import numba

    if num > numba.config.NUMBA_NUM_THREADS:
        raise ValueError(
            f"set_num_threads: num: expected at most {numba.config.NUMBA_NUM_THREADS} "
            f"(NUMBA_NUM_THREADS, fixed at start-up), got {num}"
        )
    numba.set_num_threads(num)
