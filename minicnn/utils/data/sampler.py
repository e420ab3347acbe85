"""Samplers: which dataset indices an epoch visits, and in what order.

``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``, ``WeightedRandomSampler``
and ``BatchSampler``, as PyTorch's. Iterating one directly draws from minicnn's host generator
(or its ``generator=``). Inside a :class:`~minicnn.utils.data.DataLoader` each sampler is asked
for an epoch's order through ``order(rng)``, with a generator the loader seeds per epoch from
its own state, so ``DataLoader.state_dict()`` resumes the same order. A sampler of your own
needs only ``__iter__`` and ``__len__``; then the loader takes ``list(sampler)`` each epoch
(resumes are exact when that list is the same each time it is asked).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from minicnn.generator import Generator, host_rng


class Sampler:
    """Base class: ``__iter__`` yields indices (or lists of indices, for batch samplers)."""

    generator: Generator | None = None

    def order(self, rng: np.random.Generator) -> list[Any]:
        """This epoch's indices, drawn from ``rng``."""
        return list(iter(self))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.order(host_rng(self.generator)))

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} has no __len__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def order(self, rng: np.random.Generator) -> list[int]:
        return list(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, or ``num_samples`` draws with ``replacement``."""

    def __init__(
        self,
        data_source: Any,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement: expected a bool, got {replacement!r}")
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples: expected a positive int, got {num_samples!r}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def order(self, rng: np.random.Generator) -> list[int]:
        n = len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, self.num_samples).tolist()
        reps = -(-self.num_samples // n) if n else 0  # whole permutations, then cut
        return np.concatenate([rng.permutation(n) for _ in range(reps)] or [np.zeros(0, int)])[
            : self.num_samples
        ].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices, self.generator = list(indices), generator

    def order(self, rng: np.random.Generator) -> list[int]:
        return [self.indices[i] for i in rng.permutation(len(self.indices))]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: Generator | None = None,
    ) -> None:
        w = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, dtype=np.float64)
        if w.ndim != 1 or (w < 0).any() or not w.sum() > 0:
            raise ValueError(
                f"weights: expected a 1-D sequence of non-negative numbers, got {weights!r}"
            )
        if not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples: expected a positive int, got {num_samples!r}")
        if not replacement and num_samples > (w > 0).sum():
            raise ValueError(
                "num_samples: cannot draw more samples than non-zero weights without replacement"
            )
        self.weights, self.num_samples = w, num_samples
        self.replacement, self.generator = replacement, generator

    def order(self, rng: np.random.Generator) -> list[int]:
        p = self.weights / self.weights.sum()
        return rng.choice(len(p), self.num_samples, replace=self.replacement, p=p).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last may be shorter
    unless ``drop_last``)."""

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last: expected a bool, got {drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def order(self, rng: np.random.Generator) -> list[list[int]]:
        idx = epoch_order(self.sampler, rng)
        B = self.batch_size
        stop = len(idx) - len(idx) % B if self.drop_last else len(idx)
        return [idx[i : i + B] for i in range(0, stop, B)]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.order(host_rng(getattr(self.sampler, "generator", None))))

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def epoch_order(sampler: Any, rng: np.random.Generator) -> list[Any]:
    """An epoch's indices from ``sampler``: ``order(rng)`` when it has one, else its iterator."""
    if isinstance(sampler, Sampler):
        return sampler.order(rng)
    return list(iter(sampler))
