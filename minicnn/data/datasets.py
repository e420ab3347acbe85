"""ArrayDataset: images and labels held in memory as NumPy arrays.

Every dataset in ``minicnn.data`` is one: ``data`` is a uint8 array of shape (N, C, H, W),
``targets`` an int64 array of shape (N,), ``classes`` the class names in label order.
``dataset[i]`` is ``(image, label)``: a uint8 (C, H, W) array and a Python int. The
:class:`~minicnn.data.loader.DataLoader` reads ``data`` and ``targets`` directly, a whole
batch at a time, when the dataset has no per-image ``transform``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class ArrayDataset:
    """A dataset of ``data`` (N, C, H, W) and ``targets`` (N,) arrays.

    ``transform``, if given, is applied by ``__getitem__`` to each (C, H, W) uint8 image. It is
    for per-image Python functions; the DataLoader's batch ``transform`` is the fast path.
    """

    classes: Sequence[str] = ()

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray,
        classes: Sequence[str] | None = None,
        transform: Callable[[np.ndarray], Any] | None = None,
    ) -> None:
        data = np.asarray(data)
        targets = np.asarray(targets)
        if data.ndim != 4:
            raise ValueError(f"data: expected an (N, C, H, W) array, got shape {data.shape}")
        if targets.shape != (data.shape[0],):
            raise ValueError(
                f"targets: expected shape ({data.shape[0]},) to match data's {data.shape[0]} "
                f"images, got {targets.shape}"
            )
        if targets.dtype.kind not in "iu":
            raise TypeError(f"targets: expected integer labels, got dtype {targets.dtype}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform: expected a callable or None, got {transform!r}")
        self.data = data
        self.targets = targets.astype(np.int64, copy=False)
        if classes is not None:
            self.classes = list(classes)
        self.transform = transform

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = self.data[index]  # (C, H, W)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])

    def _describe(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self._describe()
        return (
            f"{type(self).__name__}({len(self)} images of shape {tuple(self.data.shape[1:])}, "
            f"{len(self.classes)} classes{', ' + extra if extra else ''})"
        )


def check_labels(targets: np.ndarray, num_classes: int, source: str) -> None:
    """Raise ValueError naming ``source`` if a label is outside 0..num_classes-1."""
    if targets.size and (targets.min() < 0 or targets.max() >= num_classes):
        bad = targets[(targets < 0) | (targets >= num_classes)]
        raise ValueError(
            f"{source}: labels must lie in 0..{num_classes - 1}, found {bad.size} outside "
            f"(first: {int(bad[0])}); the file is corrupt or not a label file of this dataset"
        )
