"""``minicnn.cuda``, as ``torch.cuda``: is a GPU usable, how many, seeding and syncing.

minicnn reaches a GPU through its "cupy" backend only (``device("cuda")`` is that backend),
so every question here is answered by cupy: ``is_available()`` is True exactly when the
"cupy" backend can run; ``minicnn.unavailable_reason("cupy")`` says why not.
"""

from __future__ import annotations

from minicnn import backend
from minicnn import random as _random


def is_available() -> bool:
    """True when the cupy backend (cupy and a CUDA device) can run here."""
    return backend.unavailable_reason("cupy") is None


def device_count() -> int:
    """The number of CUDA devices cupy sees (0 where it cannot run); minicnn uses the first."""
    if not is_available():
        return 0
    return int(backend.xp("cupy").cuda.runtime.getDeviceCount())


def current_device() -> int:
    """The index of the device in use: always 0 (minicnn drives one GPU)."""
    _require()
    return 0


def get_device_name(device: object = None) -> str:
    """The name of the GPU, as the CUDA runtime reports it."""
    _require()
    props = backend.xp("cupy").cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed: int) -> None:
    """Seed the GPU generator only (``minicnn.manual_seed`` seeds every generator); works
    without a GPU, as PyTorch's does."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    _random._gpu_seed = int(seed)
    _random._gpu_rng = None  # recreated from the seed on first use


manual_seed_all = manual_seed


def synchronize(device: object = None) -> None:
    """Wait for all queued GPU work (for timing)."""
    _require()
    backend.synchronize("cupy")


def empty_cache() -> None:
    """Return cupy's cached, unused GPU memory to the driver (nothing to do without a GPU)."""
    if is_available():
        backend.xp("cupy").get_default_memory_pool().free_all_blocks()


def _require() -> None:
    reason = backend.unavailable_reason("cupy")
    if reason is not None:
        raise RuntimeError(f"minicnn.cuda: no usable GPU: {reason}")
