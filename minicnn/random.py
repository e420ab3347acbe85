"""minicnn's random number generators: one per array module, all seeded by ``manual_seed``.

Host backends (``numpy`` and ``numba``) share one ``numpy.random.Generator``; ``cupy`` has its
own generator on the GPU. Dropout does not draw its mask from these streams directly: it
draws one 63-bit seed per call and hands it to the backend's counter-based mask kernel, so all
backends produce the same mask for the same ``manual_seed``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from minicnn import backend

_DEFAULT_SEED = 0x5EED
_host_rng = np.random.default_rng(_DEFAULT_SEED)
_gpu_rng: Any = None
_gpu_seed = _DEFAULT_SEED


def manual_seed(seed: int) -> None:
    """Seed every backend's generator (host and GPU) with ``seed``."""
    global _host_rng, _gpu_rng, _gpu_seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    _host_rng = np.random.default_rng(int(seed))
    _gpu_seed = int(seed)
    _gpu_rng = None  # recreated lazily, so seeding never needs a GPU


def generator(name: str | None = None) -> Any:
    """The generator for backend ``name`` (default: the current one)."""
    global _gpu_rng
    if (name or backend.current()) == "cupy":
        if _gpu_rng is None:
            _gpu_rng = backend.xp("cupy").random.default_rng(_gpu_seed)
        return _gpu_rng
    return _host_rng


def draw_seed() -> int:
    """A 63-bit seed for a counter-based kernel, from the host generator (any backend)."""
    return int(_host_rng.integers(0, 2**63 - 1))


def get_rng_state() -> dict:
    """A picklable snapshot of the host generator (the GPU stream is re-seeded on restore)."""
    return {"host": copy.deepcopy(_host_rng.bit_generator.state), "gpu_seed": _gpu_seed}


def set_rng_state(state: dict) -> None:
    """Restore a snapshot taken by :func:`get_rng_state`."""
    global _gpu_rng, _gpu_seed
    _host_rng.bit_generator.state = copy.deepcopy(state["host"])
    _gpu_seed = int(state["gpu_seed"])
    _gpu_rng = None
