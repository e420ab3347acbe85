"""DataLoader with PyTorch's signature, built on :class:`minicnn.data.DataLoader`.

minicnn's loader keeps the epoch bookkeeping: a generator of its own, one epoch seed drawn
from it per epoch, and ``state_dict()`` / ``load_state_dict()`` that resume mid-epoch exactly.
This class decides what a batch *is*, as PyTorch's does: the epoch's index order comes from
the sampler (``shuffle=True`` is a ``RandomSampler``), drawn with a generator seeded from the
epoch seed; batch ``b`` is ``collate_fn([dataset[i] for i in its indices])``, made while the
per-item transforms draw from a generator seeded with ``(epoch seed, b)`` (see ``item_rng``).
Order and augmentation therefore depend only on the saved state, and a resumed loader yields
exactly the batches the interrupted one had not delivered.

Workers. minicnn makes batches in the calling process: ``num_workers=0`` makes each batch when
it is asked for; ``num_workers > 0`` makes up to ``num_workers * prefetch_factor`` batches
ahead in one background thread (``worker_init_fn(0)`` runs in it at the start of each epoch).
The batches are the same either way. ``pin_memory``, ``persistent_workers``, ``timeout`` and
``multiprocessing_context`` are accepted and change nothing: there are no worker processes to
keep or wait for, and host memory needs no pinning to reach a cupy array.
"""

from __future__ import annotations

import collections.abc
import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from minicnn import backend as _backend
from minicnn import data as _data
from minicnn.device import host_backend
from minicnn.tensor import Tensor
from minicnn.utils.data.dataset import IterableDataset, Subset, TensorDataset
from minicnn.utils.data.item_rng import use_item_generator
from minicnn.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler, epoch_order

_ORDER_STREAM = 2**31  # the sampler's generator: (epoch seed, _ORDER_STREAM); batches use b < it


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch, as PyTorch's ``default_collate``: tensors and
    arrays are stacked along a new first axis, Python floats become a float64 tensor, ints an
    int64 one; tuples, lists and dicts are collated position by position (key by key);
    strings stay a list."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        for t in batch:
            if not isinstance(t, Tensor) or t.shape != elem.shape or t.backend != elem.backend:
                raise RuntimeError(
                    "default_collate: stack expects each tensor to be equal size (and on one "
                    f"backend), but got {elem.shape} at entry 0 and "
                    f"{getattr(t, 'shape', type(t).__name__)} at another"
                )
        xp = _backend.xp(elem.backend)
        return Tensor._from_op(xp.stack([t.array for t in batch]), elem.backend, None)
    if isinstance(elem, np.ndarray) and elem.dtype.kind in "biuf":
        return Tensor._from_op(np.stack(batch), host_backend(), None)
    if isinstance(elem, (bool, np.bool_)):
        return Tensor(np.array(batch, dtype=np.bool_), backend=host_backend())
    if isinstance(elem, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64), backend=host_backend())
    if isinstance(elem, numbers.Real):
        return Tensor(np.array(batch, dtype=np.float64), backend=host_backend())
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError(
                "default_collate: each element in list of batch should be of equal size"
            )
        columns = [default_collate(list(s)) for s in zip(*batch)]
        return tuple(columns) if isinstance(elem, tuple) else columns
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem)} (a PIL image? add transforms.ToTensor())"
    )


def _batchable(dataset: Any) -> bool:
    """True when ``dataset._batch(indices)`` gives the collated batch in one gather."""
    if type(dataset) is TensorDataset:
        return True
    return type(dataset) is Subset and _batchable(dataset.dataset)


class DataLoader(_data.DataLoader):
    """PyTorch's DataLoader: ``DataLoader(dataset, batch_size=1, shuffle=False, sampler=None,
    batch_sampler=None, num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
    ...)``; ``seed=`` (minicnn's) fixes the loader's generator (default: drawn from
    ``minicnn.manual_seed``'s)."""

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], Any] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
    ) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers: expected a non-negative int, got {num_workers!r}")
        if prefetch_factor is not None and num_workers == 0:
            raise ValueError("prefetch_factor: only valid with num_workers > 0 (as PyTorch)")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers: needs num_workers > 0 (as PyTorch)")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn: expected a callable, got {collate_fn!r}")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError(
                "DataLoader with IterableDataset: expected unspecified shuffle, sampler and "
                "batch_sampler (the stream is read in order)"
            )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
        if batch_sampler is None and batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if generator is not None and seed is None:
            seed = int(generator.initial_seed()) % 2**63
        prefetch = num_workers * (2 if prefetch_factor is None else prefetch_factor)
        if self._iterable:
            self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
            self.prefetch, self.seed = prefetch, seed
        else:
            # minicnn's loader keeps the epoch bookkeeping; shuffling happens in the sampler.
            super().__init__(dataset, batch_size or 1, False, drop_last, seed, None, prefetch)
        self.batch_size, self.drop_last = batch_size, bool(drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.num_workers, self.prefetch_factor = num_workers, prefetch_factor
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.pin_memory, self.timeout, self.worker_init_fn = (
            bool(pin_memory),
            timeout,
            worker_init_fn,
        )
        self.persistent_workers, self.generator = bool(persistent_workers), generator
        self._epoch_batches: tuple[int, list] | None = None

    def __len__(self) -> int:
        if self._iterable:
            raise TypeError("DataLoader over an IterableDataset has no len()")
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            return self._stream()
        return super().__iter__()

    def _batches_of(self, epoch_seed: int) -> list:
        """This epoch's index batches (a list per batch, or single indices when batch_size is
        None), from the sampler and a generator seeded by the epoch seed."""
        if self._epoch_batches is None or self._epoch_batches[0] != epoch_seed:
            rng = np.random.default_rng([epoch_seed, _ORDER_STREAM])
            source = self.batch_sampler if self.batch_sampler is not None else self.sampler
            self._epoch_batches = (epoch_seed, epoch_order(source, rng))
            if self.worker_init_fn is not None and self.num_workers > 0:
                self.worker_init_fn(0)
        return self._epoch_batches[1]

    def _make_batch(self, order: np.ndarray, b: int, epoch_seed: int, name: str) -> Any:
        indices = self._batches_of(epoch_seed)[b]
        with use_item_generator(np.random.default_rng([epoch_seed, b])):
            if self.batch_sampler is None:  # batch_size=None: one sample at a time
                sample = self.dataset[indices]
                return (
                    _convert(sample)
                    if self.collate_fn is default_collate
                    else self.collate_fn(sample)
                )
            if self.collate_fn is default_collate and _batchable(self.dataset):
                return self.dataset._batch(np.asarray(indices, dtype=np.int64))  # one gather
            return self.collate_fn([self.dataset[i] for i in indices])

    def _stream(self) -> Iterator[Any]:
        """An IterableDataset, batched in order (no resume state)."""
        if self.batch_size is None:
            yield from (_convert(x) for x in self.dataset)
            return
        batch: list = []
        for item in self.dataset:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def state_dict(self) -> dict:
        if self._iterable:
            raise NotImplementedError("DataLoader over an IterableDataset: no state to resume")
        return super().state_dict()

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"sampler={type(self.sampler).__name__}, num_workers={self.num_workers}, "
            f"drop_last={self.drop_last}, seed={self.seed})"
        )


def _convert(sample: Any) -> Any:
    """batch_size=None: each sample as it is, with NumPy arrays turned into tensors (inside
    tuples, lists and dicts too), as PyTorch's ``default_convert``."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "biuf":
        return Tensor._from_op(sample, host_backend(), None)
    if isinstance(sample, collections.abc.Mapping):
        return {k: _convert(v) for k, v in sample.items()}
    if isinstance(sample, (tuple, list)) and not isinstance(sample, str):
        return (
            type(sample)(_convert(v) for v in sample)
            if not hasattr(sample, "_fields")
            else type(sample)(*(_convert(v) for v in sample))
        )
    return sample
