"""``minicnn.Generator``: a seed holder for code that passes ``generator=`` (``random_split``,
``DataLoader``, ``randperm``), as ``torch.Generator().manual_seed(42)``.

It wraps a ``numpy.random.Generator`` on the host; the functions that accept it draw from it
instead of minicnn's global generator, so the same seed gives the same split every time. The
numbers differ from PyTorch's generator for the same seed.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np


class Generator:
    """A host random-number generator: ``g = Generator().manual_seed(42)``."""

    def __init__(self, device: Any = "cpu") -> None:
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self.rng = np.random.default_rng(self._seed)
        self.device = device

    def manual_seed(self, seed: int) -> Generator:
        """Reseed and return this generator (so ``Generator().manual_seed(0)`` chains)."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed: seed: expected an int, got {seed!r}")
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def seed(self) -> int:
        """Reseed from fresh entropy; return the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))
        return self._seed

    def get_state(self) -> dict:
        return copy.deepcopy(self.rng.bit_generator.state)

    def set_state(self, state: dict) -> Generator:
        self.rng.bit_generator.state = copy.deepcopy(state)
        return self


def host_rng(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, else minicnn's global host one."""
    from minicnn import random as _random

    if generator is None:
        return _random.generator("numpy")
    if not isinstance(generator, Generator):
        raise TypeError(f"generator: expected a minicnn.Generator, got {type(generator).__name__}")
    return generator.rng
