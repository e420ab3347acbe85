"""Drawing: a thin matplotlib layer over the arrays the other modules compute.

Each ``plot_*`` returns a ``matplotlib.figure.Figure`` (made without pyplot, so nothing global
changes; ``fig.savefig("x.png")`` writes it, a notebook shows it). matplotlib is imported only
here, when something is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from minicnn.viz import features as _features


def _figure(cols: int, rows: int = 1, size: float = 2.0, extra_height: float = 0.6) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(
            "minicnn.viz: drawing needs matplotlib (pip install matplotlib); the functions "
            "that compute (saliency, class_model, ...) return arrays and work without it"
        ) from e
    fig = Figure(figsize=(size * cols, size * rows + extra_height), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes


def _grey_cmap() -> Any:
    from matplotlib import colormaps

    return colormaps["gray"].with_extremes(bad="white")  # NaN: the separators of a tile grid


def _image(a: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """(C, H, W) or (H, W) -> what imshow draws, and its keyword arguments."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 3 and a.shape[0] == 3:
        return np.clip(a.transpose(1, 2, 0), 0, 1), {}
    if a.ndim == 3:
        a = a[0]
    return a, {"cmap": _grey_cmap()}


def _bare(ax: Any, xlabel: str = "") -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(xlabel, fontsize=8)


def plot_filters(model: Any, layer: str | None = None, title: str | None = None) -> Any:
    """The filters of a convolution (see :func:`minicnn.viz.filter_grid`)."""
    w = _features.filters(model, layer)
    OC, C, KH, KW = w.shape
    grid = _features.filter_grid(w)
    rgb = C == 3
    cols = 1
    fig, axes = _figure(cols, size=3.2 if rgb else max(2.0, 0.45 * C + 1), extra_height=0.8)
    if C == 1:
        cols_, rows_ = min(OC, 8), -(-OC // 8)
        fig.set_size_inches(max(3.2, 0.6 * cols_), 0.7 * rows_ + 1.0)  # rows of up to 8 tiles
    ax = axes[0, 0]
    ax.imshow(grid, **({} if rgb else {"cmap": _grey_cmap(), "vmin": 0, "vmax": 1}))
    name = layer or type(model).__name__
    ax.set_title(title or f"{name}: {OC} filters {KH}x{KW}", fontsize=9)
    if rgb:
        _bare(ax, "one tile per filter, RGB")
    elif C == 1:
        cols_ = min(OC, 8)
        ax.set_xticks([(KW + 1) * c + (KW - 1) / 2 for c in range(cols_)], range(cols_), fontsize=7)
        rows_ = -(-OC // 8)
        ticks = [(KH + 1) * r + (KH - 1) / 2 for r in range(rows_)] if rows_ > 1 else []
        ax.set_yticks(ticks, [f"+{8 * r}" for r in range(len(ticks))], fontsize=7)
        ax.set_xlabel("filter (each scaled to its own range: black low, white high)", fontsize=8)
    else:
        ax.set_xticks([(KW + 1) * c + (KW - 1) / 2 for c in range(C)], range(C), fontsize=7)
        ax.set_yticks([(KH + 1) * o + (KH - 1) / 2 for o in range(OC)], range(OC), fontsize=7)
        ax.set_xlabel("input channel", fontsize=8)
        ax.set_ylabel("filter (output channel)", fontsize=8)
    return fig


def plot_activations(
    acts: Mapping[str, np.ndarray], index: int = 0, title: str | None = None
) -> Any:
    """Input ``index``'s maps at each layer of ``acts`` (from :func:`minicnn.viz.activations`),
    with the number of channels that are zero for every input of the batch."""
    names = [n for n, a in acts.items() if np.asarray(a).ndim == 4]
    if not names:
        raise ValueError("acts: expected at least one layer with (N, K, h, w) maps")
    fig, axes = _figure(len(names), size=2.6)
    for ax, name in zip(axes[0], names):
        a = np.asarray(acts[name])
        ax.imshow(_features.activation_grid(a[index]), cmap=_grey_cmap(), vmin=0, vmax=1)
        zeros = _features.zero_channels(a)
        ax.set_title(f"{name}: {a.shape[1]} maps {a.shape[2]}x{a.shape[3]}", fontsize=8)
        _bare(ax, f"{zeros} of {a.shape[1]} zero for all {a.shape[0]} inputs")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_saliency(
    image: np.ndarray,
    maps: Mapping[str, np.ndarray],
    title: str | None = None,
    overlay: bool = True,
    image_labels: Sequence[str] | None = None,
) -> Any:
    """One row per input: ``image`` (C, H, W) or (N, C, H, W), then each map (H, W) or
    (N, H, W) as a heat map (over the image in grey when ``overlay``), each scaled to its own
    maximum absolute value; signed maps (integrated gradients) in blue-red."""
    images = np.asarray(image, dtype=float)
    if images.ndim == 3 or (images.ndim == 2):
        images = images[None]
        maps = {k: np.asarray(v)[None] for k, v in maps.items()}
    N = images.shape[0]
    fig, axes = _figure(len(maps) + 1, N, size=2.0)
    for n in range(N):
        shown, kw = _image(images[n])
        axes[n, 0].imshow(shown, **kw)
        axes[n, 0].set_title("input" if n == 0 else "", fontsize=8)
        _bare(axes[n, 0], image_labels[n] if image_labels is not None else "pixels")
        for ax, (name, m) in zip(axes[n, 1:], maps.items()):
            m = np.asarray(m[n], dtype=float)
            signed = m.min() < 0
            scale = np.abs(m).max() or 1.0
            if overlay:
                ax.imshow(shown, **kw)
            im = ax.imshow(
                m / scale,
                cmap="RdBu_r" if signed else "inferno",
                vmin=-1 if signed else 0,
                vmax=1,
                alpha=0.75 if overlay else 1.0,
            )
            ax.set_title(name if n == 0 else "", fontsize=8)
            _bare(ax, "signed / max |value|" if signed else "/ max value")
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02).ax.tick_params(labelsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_images(
    images: np.ndarray | Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    cols: int | None = None,
    scale: str = "each",
) -> Any:
    """A grid of images (N, C, H, W) or (N, H, W); ``scale="each"`` stretches each to its own
    range, ``"shared"`` uses one range for all (to compare intensities)."""
    ims = [np.asarray(a, dtype=float) for a in images]
    N = len(ims)
    cols = cols or min(N, 10)
    rows = -(-N // cols)
    fig, axes = _figure(cols, rows, size=1.6, extra_height=0.6 + 0.35 * rows)
    lo = min(float(a.min()) for a in ims)
    hi = max(float(a.max()) for a in ims)
    for i, ax in enumerate(axes.ravel()):
        if i >= N:
            ax.set_visible(False)
            continue
        shown, kw = _image(ims[i])
        if scale == "shared" and "cmap" in kw:
            kw.update(vmin=lo, vmax=hi)
        ax.imshow(shown, **kw)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
        _bare(ax, labels[i] if labels is not None else "")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_curves(
    curves: Mapping[str, np.ndarray], xlabel: str, ylabel: str, title: str, log: bool = False
) -> Any:
    """Line plots of ``curves`` (label -> values), e.g. an objective per step."""
    fig, axes = _figure(1, size=3.6, extra_height=0.0)
    ax = axes[0, 0]
    for label, y in curves.items():
        ax.plot(np.asarray(y), label=label)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize=7)
    return fig
