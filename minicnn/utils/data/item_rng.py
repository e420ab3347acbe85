"""The generator that per-item random transforms draw from.

Outside a DataLoader it is minicnn's global host generator (``manual_seed`` fixes it). While
a :class:`~minicnn.utils.data.DataLoader` makes batch ``b`` of an epoch, it is a generator
seeded with ``(epoch seed, b)`` and private to the thread making the batch: so random crops
and flips are the same when a loader resumes from ``state_dict()`` mid-epoch, and making
batches ahead in a background thread never touches the generator the model's dropout uses.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np

from minicnn import random as _random

_local = threading.local()


def item_generator() -> np.random.Generator:
    """The generator per-item transforms should draw from now."""
    return getattr(_local, "rng", None) or _random.generator("numpy")


@contextlib.contextmanager
def use_item_generator(rng: np.random.Generator) -> Iterator[None]:
    """Make ``rng`` the item generator of this thread inside the block."""
    previous = getattr(_local, "rng", None)
    _local.rng = rng
    try:
        yield
    finally:
        _local.rng = previous
