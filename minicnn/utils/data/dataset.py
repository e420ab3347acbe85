"""Datasets with PyTorch's names: ``Dataset``, ``IterableDataset``, ``TensorDataset``,
``Subset``, ``ConcatDataset`` and ``random_split``.

A map-style dataset is anything with ``__len__`` and ``__getitem__(i)``; these classes are
the usual ones to build from. ``TensorDataset`` and ``Subset`` also hand the DataLoader a
whole batch in one fancy index (``_batch``), instead of one ``__getitem__`` per sample.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from minicnn.generator import Generator, host_rng
from minicnn.tensor import Tensor


class Dataset:
    """Base of map-style datasets: subclass it and define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no __getitem__; define it")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base of datasets read as a stream: define ``__iter__``. A DataLoader batches the
    stream in order (no shuffling, no sampler)."""

    def __iter__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no __iter__; define it")


class TensorDataset(Dataset):
    """Sample i is ``(t[i] for t in tensors)``; all tensors share their first dimension."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for k, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: tensors[{k}]: expected a Tensor, got {type(t).__name__}"
                )
            if t.ndim == 0 or t.shape[0] != tensors[0].shape[0]:
                raise ValueError(
                    f"TensorDataset: size mismatch between tensors: tensors[0] has "
                    f"{tensors[0].shape[0] if tensors[0].ndim else 'no'} rows, tensors[{k}] has shape {t.shape}"
                )
        self.tensors = tuple(tensors)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        """The collated batch of ``indices``: one fancy index per tensor."""
        from minicnn import backend

        out = []
        for t in self.tensors:
            idx = backend.move(indices, "numpy", t.backend)
            out.append(Tensor._from_op(t.array[idx], t.backend, None))
        return tuple(out)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def _batch(self, indices: np.ndarray) -> Any:
        """The collated batch, from the underlying dataset's ``_batch`` (see the loader)."""
        return self.dataset._batch(np.asarray(self.indices, dtype=np.int64)[indices])


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError(
                    "ConcatDataset: absolute value of index should not exceed dataset length"
                )
            index += len(self)
        d = bisect.bisect_right(self.cumulative_sizes, index)
        start = 0 if d == 0 else int(self.cumulative_sizes[d - 1])
        return self.datasets[d][index - start]


def random_split(
    dataset: Any, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given ``lengths`` (counts
    that add up to its length, or fractions that add up to 1, as PyTorch)."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):  # the remainder, one each, round-robin
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths: sum of input lengths ({sum(lengths)}) does not equal the "
            f"length of the input dataset ({n})"
        )
    order = host_rng(generator).permutation(n).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[offset : offset + length]))
        offset += length
    return out
