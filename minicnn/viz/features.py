"""Looking at what a network holds: its filters and its activation maps.

- :func:`filters`: a convolution's weights (OC, C, KH, KW) as a NumPy array;
  :func:`filter_grid` lays them out as one image: first-layer RGB filters (C = 3) in colour, one
  tile per filter; deeper filters one tile per (output, input channel) pair, a row per filter.
- :func:`activations`: the outputs of named layers for a batch, by forward hooks;
  :func:`activation_grid` tiles one input's channels; :func:`zero_channels` counts the channels
  that stay zero for every input (after a ReLU: "dead" or never-firing feature maps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from minicnn.autograd import no_grad
from minicnn.nn.module import Module
from minicnn.viz import core


def filters(model: Module, layer: str | None = None) -> np.ndarray:
    """The weight of a convolution, (OC, C, KH, KW): ``filters(conv)`` or
    ``filters(model, "features.0")``."""
    module = model if layer is None else core.get_layer(model, layer)
    w = getattr(module, "weight", None)
    if w is None or w.ndim != 4:
        shape = None if w is None else w.shape
        raise ValueError(
            f"layer: expected a convolution with a (OC, C, KH, KW) weight, got "
            f"{type(module).__name__} with weight shape {shape}"
        )
    return core.to_host(w)


def _scale(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Min-max scale to [0, 1] over ``axes`` (a constant block becomes 0.5)."""
    lo = a.min(axis=axes, keepdims=True)
    hi = a.max(axis=axes, keepdims=True)
    span = hi - lo
    return np.where(span > 0, (a - lo) / np.where(span > 0, span, 1), 0.5)


def tile(tiles: np.ndarray, cols: int, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """Lay out (T, h, w) or (T, h, w, 3) tiles row by row, ``cols`` per row, separated by
    ``pad`` pixels of ``fill``: (rows * (h + pad) - pad, cols * (w + pad) - pad[, 3])."""
    T, h, w = tiles.shape[:3]
    rows = math.ceil(T / cols)
    extra = tiles.shape[3:]
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, *extra), fill, dtype=float)
    for t in range(T):
        r, c = divmod(t, cols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = tiles[t]
    return out


def filter_grid(weight: np.ndarray, pad: int = 1, cols: int | None = None) -> np.ndarray:
    """One image of all filters of ``weight`` (OC, C, KH, KW), each scaled to [0, 1].

    C = 3: an RGB image (H, W, 3), one tile per filter, ``cols`` (default ~sqrt(OC)) per row,
    separated by white. C = 1: a grey image, one tile per filter, ``cols`` (default up to 8)
    per row. Otherwise a grey image (H, W): row o holds filter o's C input-channel slices, each
    filter scaled over all its slices, so their contrasts compare. NaN separates grey tiles.
    """
    w = np.asarray(weight, dtype=float)
    if w.ndim != 4:
        raise ValueError(f"weight: expected (OC, C, KH, KW), got shape {w.shape}")
    OC, C = w.shape[:2]
    scaled = _scale(w, (1, 2, 3))  # each filter over all its input channels
    if C == 3:
        rgb = scaled.transpose(0, 2, 3, 1)  # (OC, KH, KW, 3)
        return tile(rgb, cols or math.ceil(math.sqrt(OC)), pad, fill=1.0)
    if C == 1:
        return tile(scaled[:, 0], cols or min(OC, 8), pad)
    return tile(scaled.reshape(OC * C, *w.shape[2:]), C, pad)


def activations(model: Module, x: Any, layers: Sequence[str] | str) -> dict[str, np.ndarray]:
    """The outputs of ``layers`` (names) for inputs ``x``, in eval mode, without the graph:
    ``{name: array (N, ...)}``."""
    with core.inspecting(model):
        t = core.as_input(model, x)
        with core.Capture(model, layers) as cap, no_grad():
            core.forward(model, t)
            return {name: core.to_host(cap[name]) for name in cap.modules}


def activation_grid(maps: np.ndarray, cols: int | None = None, pad: int = 1) -> np.ndarray:
    """One input's maps (K, h, w) as one grey image, each map scaled to [0, 1] on its own
    (an all-zero map stays 0), ``cols`` (default ~sqrt(K)) per row."""
    a = np.asarray(maps, dtype=float)
    if a.ndim != 3:
        raise ValueError(f"maps: expected (K, h, w) (one input's channels), got shape {a.shape}")
    hi = np.abs(a).max(axis=(1, 2), keepdims=True)
    lo = np.minimum(a.min(axis=(1, 2), keepdims=True), 0)
    scaled = np.where(hi > 0, (a - lo) / np.where(hi - lo > 0, hi - lo, 1), 0.0)
    return tile(scaled, cols or math.ceil(math.sqrt(a.shape[0])), pad)


def zero_channels(acts: dict[str, np.ndarray] | np.ndarray) -> dict[str, int] | int:
    """How many channels (axis 1) are exactly zero for every input and position: an int per
    layer for the dict :func:`activations` returns, or an int for one array (N, K, ...)."""
    if isinstance(acts, dict):
        return {name: zero_channels(a) for name, a in acts.items()}  # type: ignore[misc]
    a = np.asarray(acts)
    if a.ndim < 2:
        raise ValueError(f"acts: expected (N, K, ...) activations, got shape {a.shape}")
    moved = np.moveaxis(a, 1, 0).reshape(a.shape[1], -1)  # (K, N * ...)
    return int((~moved.any(axis=1)).sum())
