"""``interpolate``: resize (N, C, H, W) images by nearest-neighbour or bilinear sampling.

Both modes are separable: resizing the height, then the width. Along one axis, output
position ``o`` reads input position ``src(o)``:

    nearest         src = floor(o * scale)                         scale = in / out
    nearest-exact   src = floor((o + 0.5) * scale)
    bilinear        src = (o + 0.5) * scale - 0.5 (clamped at 0)   align_corners=False
                    src = o * (in - 1) / (out - 1)                 align_corners=True

(``scale`` is ``1 / scale_factor`` when a scale factor is given, as PyTorch.) Bilinear blends
the two neighbours ``i0 = floor(src)`` and ``i1 = i0 + 1`` with weight ``src - i0``. Each step
is an integer-array ``getitem`` and a weighted sum, so the gradient needs no code of its own:
``getitem``'s backward adds each output's gradient back to the inputs it read.

Shrinking by bilinear sampling skips input pixels (aliasing). ``antialias=True`` (bilinear
only) widens the triangle filter to ``scale`` input pixels, as Pillow and PyTorch do: output
``o`` averages the inputs within ``scale`` of its centre ``c = (o + 0.5) * scale`` with weights
``max(0, 1 - |i + 0.5 - c| / scale)``, normalised to sum to 1. Along one axis that is a matrix
``A`` (out, in), so the resize is ``A_h @ x @ A_w^T``: two differentiable matmuls.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minicnn import backend
from minicnn.ops._args import check_tensor
from minicnn.ops.shape import getitem
from minicnn.tensor import Tensor

MODES = ("nearest", "nearest-exact", "bilinear")


def _source(n_in: int, n_out: int, scale: float | None, mode: str, align: bool) -> np.ndarray:
    """Float source coordinate of each output position along one axis."""
    o = np.arange(n_out, dtype=np.float64)
    if mode == "bilinear" and align:
        return o * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    step = 1 / scale if scale is not None else n_in / n_out
    if mode == "nearest":
        return o * step
    if mode == "nearest-exact":
        return (o + 0.5) * step
    return np.maximum((o + 0.5) * step - 0.5, 0)


def _resize_axis(x: Tensor, axis: int, n_out: int, scale: float | None, mode: str, align: bool) -> Tensor:  # fmt: skip
    n_in = x.shape[axis]
    src = _source(n_in, n_out, scale, mode, align)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    xp = backend.xp(x.backend)
    lead = (slice(None),) * axis
    x0 = getitem(x, lead + (xp.asarray(i0),))
    if mode != "bilinear":
        return x0
    i1 = np.minimum(i0 + 1, n_in - 1)
    shape = [1] * x.ndim
    shape[axis] = n_out
    lam = Tensor(xp.asarray((src - i0).reshape(shape)), dtype=x.dtype, backend=x.backend)
    return x0 + (getitem(x, lead + (xp.asarray(i1),)) - x0) * lam


def _antialias_matrix(n_in: int, n_out: int, scale: float | None) -> np.ndarray:
    """(n_out, n_in) weights of the widened triangle filter (see the module docstring)."""
    step = (1 / scale) if scale is not None else n_in / n_out  # input pixels per output pixel
    support = max(step, 1.0)  # the filter's half-width, in input pixels
    A = np.zeros((n_out, n_in))
    for o in range(n_out):
        centre = (o + 0.5) * step
        lo, hi = max(int(centre - support + 0.5), 0), min(int(centre + support + 0.5), n_in)
        i = np.arange(lo, hi)
        w = np.maximum(0.0, 1 - np.abs((i - centre + 0.5) / support))
        A[o, lo:hi] = w / w.sum() if w.sum() > 0 else 0
    return A


def interpolate(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize ``input`` (N, C, H, W) to ``size`` (an int or (OH, OW)) or by ``scale_factor``
    with ``mode`` ``"nearest"``, ``"nearest-exact"`` or ``"bilinear"``."""
    check_tensor("interpolate", "input", input, (4,), "(N, C, H, W)")
    if mode not in MODES:
        raise NotImplementedError(
            f"interpolate: mode: minicnn supports {', '.join(map(repr, MODES))} for 4-D "
            f"inputs, got {mode!r}"
        )
    if align_corners is not None and mode != "bilinear":
        raise ValueError(
            f"interpolate: align_corners: only valid with mode='bilinear', got mode={mode!r}"
        )
    if antialias and mode != "bilinear":
        raise NotImplementedError(
            f"interpolate: antialias=True: minicnn supports it for mode='bilinear', got {mode!r}"
        )
    if antialias and align_corners:
        raise NotImplementedError(
            "interpolate: antialias=True with align_corners=True is not supported by minicnn"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: expected exactly one of size and scale_factor")
    H, W = input.shape[2:]
    if size is not None:
        sizes = (size, size) if isinstance(size, int) else tuple(size)
        if len(sizes) != 2 or not all(isinstance(s, int) and s >= 1 for s in sizes):
            raise ValueError(f"interpolate: size: expected a positive int or a pair, got {size!r}")
        scales: tuple[float | None, float | None] = (None, None)
    else:
        f = (scale_factor,) * 2 if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        if len(f) != 2 or not all(isinstance(v, (int, float)) and v > 0 for v in f):
            raise ValueError(
                f"interpolate: scale_factor: expected a positive number or a pair, got "
                f"{scale_factor!r}"
            )
        sizes = (math.floor(H * f[0]), math.floor(W * f[1]))
        if min(sizes) < 1:
            raise ValueError(f"interpolate: scale_factor {scale_factor!r} gives size {sizes}")
        scales = (None, None) if recompute_scale_factor else (float(f[0]), float(f[1]))
    align = bool(align_corners)
    if antialias:
        xp = backend.xp(input.backend)
        A_h, A_w = (
            Tensor(
                xp.asarray(_antialias_matrix(n, m, sc)), dtype=input.dtype, backend=input.backend
            )
            for n, m, sc in ((H, sizes[0], scales[0]), (W, sizes[1], scales[1]))
        )
        return A_h @ input @ A_w.T  # (OH, H) @ (N, C, H, W) @ (W, OW) -> (N, C, OH, OW)
    y = _resize_axis(input, 2, sizes[0], scales[0], mode, align)  # (N, C, OH, W)
    return _resize_axis(y, 3, sizes[1], scales[1], mode, align)  # (N, C, OH, OW)
