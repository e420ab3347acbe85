"""DataLoader: batches of (images, labels) tensors, shuffled reproducibly, optionally prefetched.

One batch is made in four vectorised steps::

    idx    = order[b * B : (b + 1) * B]          # (B,) sample indices of batch b
    images = dataset.data[idx], labels = ...     # (B, C, H, W) uint8, (B,) int64: one gather
    x      = images.astype(float32) / 255        # scaled to [0, 1]
    x      = transform(x, rng_for(epoch, b))     # batch augmentation, NumPy on the host
    ->       Tensor(x), Tensor(labels)           # one conversion, on the chosen backend

Randomness. The loader owns a ``numpy.random.Generator`` seeded from ``seed`` (by default a
seed drawn from minicnn's generator, so ``minicnn.manual_seed`` fixes it). At the start of
every epoch (when its first batch is asked for) it draws, from that generator, the epoch's
permutation (when shuffling) and one epoch seed; batch ``b``'s transform generator is seeded
with ``(epoch seed, b)``. So epoch k depends only on the generator state after k epochs, and
batch b only on that state and b: :meth:`DataLoader.state_dict` records the state at the start
of the current epoch and how many batches were delivered, and a loader that loads it yields
exactly the remaining batches, augmentations included, without recomputing the skipped ones.
"""

from __future__ import annotations

import copy
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from minicnn import backend as _backend
from minicnn import random as _random
from minicnn.tensor import Tensor, as_dtype

BatchTransform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass
class _EpochProgress:
    epoch: int
    start_state: dict  # the loader generator's state before this epoch's draws
    batch: int  # batches delivered to the consumer so far
    total: int


class DataLoader:
    """Iterate over ``dataset`` in batches of ``(images, labels)`` tensors.

    images: ``dtype`` (float32) of shape (B, C, H, W), uint8 pixels scaled to [0, 1];
    labels: int64 of shape (B,). Tensors live on ``backend`` (default: the current backend
    when iteration starts). ``transform(batch, rng)`` augments each float batch on the host.
    ``prefetch=N`` makes up to N batches ahead in a background thread.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        transform: BatchTransform | None = None,
        prefetch: int = 0,
        backend: str | None = None,
        dtype: Any = "float32",
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"dataset: expected an object with __len__ and __getitem__, got {dataset!r}"
            )
        for name, value, low in (("batch_size", batch_size, 1), ("prefetch", prefetch, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name}: expected an int >= {low}, got {value!r}")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
        ):
            raise ValueError(f"seed: expected a non-negative int or None, got {seed!r}")
        if transform is not None and not callable(transform):
            raise TypeError(
                f"transform: expected a callable(batch, rng) or None, got {transform!r}"
            )
        if backend is not None:
            _backend._require(_backend._check_name(backend, "backend"))
        self.dtype = as_dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype: expected a floating-point dtype, got {self.dtype.name}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.transform = transform
        self.prefetch = int(prefetch)
        self.backend = backend
        self.seed = int(seed) if seed is not None else _random.draw_seed()
        self._generator = np.random.default_rng(self.seed)
        self._epoch = 0  # the epoch the next __iter__ starts
        self._resume_batch = 0  # batches of that epoch to skip (set by load_state_dict)
        self._current: _EpochProgress | None = None

    def __len__(self) -> int:
        N, B = len(self.dataset), self.batch_size
        return N // B if self.drop_last else -(-N // B)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        # A generator: its body runs when the first batch is asked for, not when iter() is
        # called, so an iterator made and dropped (a progress bar may call iter() twice)
        # draws nothing, starts no epoch and spends no resume position.
        name = self.backend or _backend.get_backend()
        start_state = copy.deepcopy(self._generator.bit_generator.state)
        N = len(self.dataset)
        order = self._generator.permutation(N) if self.shuffle else np.arange(N)  # (N,)
        epoch_seed = int(self._generator.integers(0, 2**63 - 1))
        progress = _EpochProgress(self._epoch, start_state, self._resume_batch, len(self))
        self._current = progress
        self._epoch += 1
        self._resume_batch = 0
        batches: Iterator = (
            self._make_batch(order, b, epoch_seed, name) for b in range(progress.batch, len(self))
        )
        if self.prefetch:
            batches = _prefetched(batches, self.prefetch)
        yield from _counted(batches, progress)

    def _make_batch(
        self, order: np.ndarray, b: int, epoch_seed: int, name: str
    ) -> tuple[Tensor, Tensor]:
        idx = order[b * self.batch_size : (b + 1) * self.batch_size]  # (B,)
        images, labels = self._gather(idx)  # (B, C, H, W), (B,)
        x = images.astype(self.dtype)
        if images.dtype == np.uint8:
            x /= 255
        if self.transform is not None:
            rng = np.random.default_rng([epoch_seed, b])
            x = np.ascontiguousarray(self.transform(x, rng), dtype=self.dtype)
        return _as_tensor(x, name), _as_tensor(labels, name)

    def _gather(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The images and int64 labels of samples ``idx``: one fancy index when possible."""
        ds = self.dataset
        data, targets = getattr(ds, "data", None), getattr(ds, "targets", None)
        if (
            isinstance(data, np.ndarray)
            and isinstance(targets, np.ndarray)
            and getattr(ds, "transform", None) is None
        ):
            return data[idx], targets[idx].astype(np.int64, copy=False)
        items = [ds[int(i)] for i in idx]  # any dataset: one __getitem__ per sample
        images = np.stack([np.asarray(im) for im, _ in items])
        labels = np.array([int(label) for _, label in items], dtype=np.int64)
        return images, labels

    def state_dict(self) -> dict:
        """Where iteration stands: the epoch, batches delivered in it, the generator state."""
        p = self._current
        if p is not None and p.batch < p.total:  # in the middle of an epoch
            epoch, batch, state = p.epoch, p.batch, p.start_state
        else:
            epoch, batch = self._epoch, self._resume_batch
            state = self._generator.bit_generator.state
        return {
            "epoch": epoch,
            "batch": batch,
            "generator": copy.deepcopy(state),
            "seed": self.seed,
            "num_samples": len(self.dataset),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state``: the next iteration yields the batches it had not delivered."""
        mine = self.state_dict()
        for key in ("num_samples", "batch_size", "shuffle", "drop_last"):
            if state.get(key) != mine[key]:
                raise ValueError(
                    f"state: saved with {key}={state.get(key)!r} but this loader has "
                    f"{key}={mine[key]!r}; resuming would not reproduce the same batches"
                )
        if not 0 <= state["batch"] <= len(self):
            raise ValueError(f"state: batch {state['batch']} outside 0..{len(self)}")
        generator = np.random.default_rng()
        generator.bit_generator.state = copy.deepcopy(state["generator"])
        self._generator = generator
        self.seed = int(state["seed"])
        self._epoch = int(state["epoch"])
        self._resume_batch = int(state["batch"])
        self._current = None

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed}, "
            f"transform={self.transform!r}, prefetch={self.prefetch}, "
            f"backend={self.backend!r}, dtype={self.dtype.name!r})"
        )


def _as_tensor(host: np.ndarray, name: str) -> Tensor:
    """Wrap a freshly made host array as a tensor of backend ``name`` (no extra copy)."""
    return Tensor._from_op(_backend.move(host, "numpy", name), name, None)


def _counted(batches: Iterator, progress: _EpochProgress) -> Iterator:
    """Yield ``batches``, counting in ``progress`` each one handed to the consumer."""
    try:
        for item in batches:
            progress.batch += 1
            yield item
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # stops a prefetch thread when the loop is abandoned


_ITEM, _DONE, _ERROR = "item", "done", "error"


def _prefetched(batches: Iterator, depth: int) -> Iterator:
    """Yield ``batches`` made by a background thread, at most ``depth`` ahead of the consumer.

    An exception in the thread is re-raised here, in the consumer, after the batches made before
    it. Closing this generator (a ``break`` out of the loop) stops the thread and joins it.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message: tuple) -> bool:
        while not stop.is_set():
            try:
                q.put(message, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in batches:
                if not put((_ITEM, item)):
                    return
            put((_DONE, None))
        except BaseException as e:  # handed to the consumer, who re-raises it
            put((_ERROR, e))

    thread = threading.Thread(target=produce, name="minicnn-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == _DONE:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():
            try:  # a producer blocked on a full queue sees the stop flag within one timeout
                q.get_nowait()
            except queue.Empty:
                pass
            thread.join(timeout=0.05)
