"""Batch transforms: NumPy functions of a whole float batch (N, C, H, W) and a generator.

Each transform is called as ``transform(batch, rng)``, where ``rng`` is a
``numpy.random.Generator`` the DataLoader seeds deterministically for every batch, so an
augmented epoch can be replayed exactly (see ``DataLoader.state_dict``). The work is vectorised
over the batch: a random crop is one fancy-indexing gather, a random flip one masked copy, a
random erasing one masked select.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BatchTransform = Callable[[np.ndarray, np.random.Generator], np.ndarray]

# Per-channel statistics of the training images, scaled to [0, 1].
MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
FASHION_MNIST_MEAN, FASHION_MNIST_STD = (0.2860,), (0.3530,)
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)

_Padding = int | Sequence[int]


def _check_batch(batch: np.ndarray, name: str) -> None:
    if not isinstance(batch, np.ndarray) or batch.ndim != 4:
        shape = getattr(batch, "shape", type(batch).__name__)
        raise ValueError(f"{name}: expected a NumPy batch of shape (N, C, H, W), got {shape}")


def _pads(padding: _Padding) -> tuple[int, int, int, int]:
    """``p`` | ``(left/right, top/bottom)`` | ``(left, top, right, bottom)`` -> (l, t, r, b)."""
    p = (padding,) if isinstance(padding, (int, np.integer)) else tuple(padding)
    if len(p) not in (1, 2, 4) or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0 for v in p
    ):
        raise ValueError(
            f"padding: expected a non-negative int, or 2 or 4 of them, got {padding!r}"
        )
    if len(p) == 1:
        return (int(p[0]),) * 4
    if len(p) == 2:
        return int(p[0]), int(p[1]), int(p[0]), int(p[1])
    return tuple(int(v) for v in p)  # type: ignore[return-value]


class Normalize:
    """``(batch - mean[c]) / std[c]`` per channel; ``mean`` and ``std`` are scalars or C values."""

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(f"mean, std: expected scalars or sequences, got {mean!r}, {std!r}")
        if np.any(self.std <= 0):
            raise ValueError(f"std: expected positive values, got {std!r}")

    def __call__(self, batch: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        _check_batch(batch, "Normalize")
        if batch.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a float batch, got dtype {batch.dtype}")
        C = batch.shape[1]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, C):
                raise ValueError(f"{name}: {v.size} values for a batch with {C} channels")
        mean = self.mean.astype(batch.dtype).reshape(1, -1, 1, 1)  # (1, C or 1, 1, 1)
        std = self.std.astype(batch.dtype).reshape(1, -1, 1, 1)
        return (batch - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={tuple(self.mean.tolist())}, std={tuple(self.std.tolist())})"


class Pad:
    """Pad every image with ``fill``: (N, C, H, W) -> (N, C, t + H + b, l + W + r).

    ``padding``: one int for all sides, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``, as in torchvision.
    """

    def __init__(self, padding: _Padding, fill: float = 0) -> None:
        self.padding = _pads(padding)
        self.fill = fill

    def __call__(self, batch: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        _check_batch(batch, "Pad")
        l, t, r, b = self.padding
        return np.pad(batch, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=self.fill)

    def __repr__(self) -> str:
        return f"Pad(padding={self.padding}, fill={self.fill})"


class RandomCrop:
    """Pad, then cut a random ``size`` window from each image: (N, C, H, W) -> (N, C, h, w).

    Each image gets its own window; its top-left corner is uniform over every position where
    the window fits inside the padded image.
    """

    def __init__(self, size: int | Sequence[int], padding: _Padding = 0, fill: float = 0) -> None:
        hw = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
        if len(hw) != 2 or any(isinstance(v, bool) or int(v) != v or v < 1 for v in hw):
            raise ValueError(f"size: expected a positive int or (h, w), got {size!r}")
        self.size = (int(hw[0]), int(hw[1]))
        self.pad = Pad(padding, fill)

    def offsets(
        self, N: int, H: int, W: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-left corners (top (N,), left (N,)) of N windows in padded images of size H x W."""
        h, w = self.size
        if h > H or w > W:
            raise ValueError(f"size: a {h}x{w} crop does not fit in a padded {H}x{W} image")
        top = rng.integers(0, H - h + 1, size=N)
        left = rng.integers(0, W - w + 1, size=N)
        return top, left

    def __call__(self, batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_batch(batch, "RandomCrop")
        padded = self.pad(batch)  # (N, C, HP, WP)
        N, _, HP, WP = padded.shape
        top, left = self.offsets(N, HP, WP, rng)
        h, w = self.size
        # windows[n, c, i, j] is the h x w view whose corner is (i, j): no copy is made.
        windows = sliding_window_view(padded, (h, w), axis=(2, 3))  # (N, C, HP-h+1, WP-w+1, h, w)
        # Index arrays on axes 0, 2, 3 split by a slice: NumPy puts their (N,) axis first.
        return windows[np.arange(N), :, top, left]  # (N, C, h, w), a copy

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.pad.padding}, fill={self.pad.fill})"


class RandomHorizontalFlip:
    """Mirror each image left-right with probability ``p`` (an independent draw per image)."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_batch(batch, "RandomHorizontalFlip")
        flip = rng.random(batch.shape[0]) < self.p  # (N,) bool
        out = batch.copy()
        out[flip] = batch[flip, :, :, ::-1]
        return out

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomErasing:
    """Blank a random rectangle of each image with probability ``p`` (Zhong et al. 2017).

    As in torchvision: the rectangle's area is a ``scale`` fraction of the image, drawn
    uniformly, and its aspect ratio h/w is drawn log-uniformly from ``ratio``; up to 10
    draws are made per image and the first that fits is used (an image with none that fits is
    left alone). ``value`` fills the rectangle: a number (0, the default, is the mean once the
    batch is normalised, so put this transform after ``Normalize``), or ``"random"`` for
    standard normal noise per pixel. Every channel of an image gets the same rectangle.
    """

    ATTEMPTS = 10

    def __init__(
        self,
        p: float = 0.5,
        scale: tuple[float, float] = (0.02, 0.33),
        ratio: tuple[float, float] = (0.3, 3.3),
        value: float | str = 0.0,
    ) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
        if len(scale) != 2 or not 0.0 < scale[0] <= scale[1] <= 1.0:
            raise ValueError(f"scale: expected (lo, hi) with 0 < lo <= hi <= 1, got {scale!r}")
        if len(ratio) != 2 or not 0.0 < ratio[0] <= ratio[1]:
            raise ValueError(f"ratio: expected (lo, hi) with 0 < lo <= hi, got {ratio!r}")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"value: expected a number or 'random', got {value!r}")
        self.p = float(p)
        self.scale = (float(scale[0]), float(scale[1]))
        self.ratio = (float(ratio[0]), float(ratio[1]))
        self.value = value

    def boxes(
        self, N: int, H: int, W: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(top, left, h, w), each (N,), of the rectangles to erase; h = w = 0 means none."""
        apply = rng.random(N) < self.p  # (N,)
        area = H * W * rng.uniform(*self.scale, size=(N, self.ATTEMPTS))  # (N, A)
        log_r = rng.uniform(np.log(self.ratio[0]), np.log(self.ratio[1]), size=area.shape)
        aspect = np.exp(log_r)
        h = np.rint(np.sqrt(area * aspect)).astype(np.int64)  # (N, A)
        w = np.rint(np.sqrt(area / aspect)).astype(np.int64)
        fits = (h >= 1) & (w >= 1) & (h < H) & (w < W)
        first = np.argmax(fits, axis=1)  # (N,): the first attempt that fits (0 if none)
        ok = apply & fits[np.arange(N), first]
        h = np.where(ok, h[np.arange(N), first], 0)
        w = np.where(ok, w[np.arange(N), first], 0)
        # Uniform corners where the rectangle fits; rng.integers takes per-image upper bounds.
        top = rng.integers(0, H - h + 1)
        left = rng.integers(0, W - w + 1)
        return top, left, h, w

    def __call__(self, batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_batch(batch, "RandomErasing")
        N, C, H, W = batch.shape
        top, left, h, w = self.boxes(N, H, W, rng)
        rows = np.arange(H)[None, :]  # (1, H)
        cols = np.arange(W)[None, :]
        in_rows = (rows >= top[:, None]) & (rows < (top + h)[:, None])  # (N, H)
        in_cols = (cols >= left[:, None]) & (cols < (left + w)[:, None])  # (N, W)
        mask = (in_rows[:, :, None] & in_cols[:, None, :])[:, None]  # (N, 1, H, W)
        if self.value == "random":
            fill = rng.standard_normal(batch.shape).astype(batch.dtype)
        else:
            fill = np.asarray(self.value, dtype=batch.dtype)
        return np.where(mask, fill, batch)

    def __repr__(self) -> str:
        return (
            f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
            f"value={self.value!r})"
        )


class Compose:
    """Apply ``transforms`` in order, all drawing from the same generator."""

    def __init__(self, transforms: Sequence[BatchTransform]) -> None:
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"transforms[{i}]: expected a callable, got {t!r}")

    def __call__(self, batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for t in self.transforms:
            batch = t(batch, rng)
        return batch

    def __repr__(self) -> str:
        body = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{body}\n])" if body else "Compose([])"
