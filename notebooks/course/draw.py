"""Pictures: thin matplotlib layers over arrays computed elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .measure import window


def show(fig: Any) -> None:
    """Display a matplotlib Figure made without pyplot (``minicnn.viz``'s ``plot_*``) in the
    notebook, as a PNG at the course's resolution."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=plt.rcParams["savefig.dpi"], bbox_inches="tight")
    display(Image(buffer.getvalue()))


def draw_graph(labels: list[str], edges: list[tuple[int, int]], depths: list[int], title: str):
    """Draw a graph from :func:`autograd_graph`: the root on the right, Functions in boxes."""
    import matplotlib.pyplot as plt

    order: dict[int, int] = {}
    rows = []
    for d in depths:
        rows.append(order.get(d, 0))
        order[d] = rows[-1] + 1
    top = max(depths)
    pos = [(top - d, -(r - (order[d] - 1) / 2)) for d, r in zip(depths, rows)]
    fig, ax = plt.subplots(figsize=(1.1 * (top + 1) + 1, 0.9 * max(order.values()) + 0.6))
    for a, b in edges:
        arrow = {"arrowstyle": "-|>", "color": "0.45", "shrinkA": 14, "shrinkB": 14}
        ax.annotate("", pos[b], pos[a], arrowprops=arrow)
    for k, text in enumerate(labels):
        is_op = depths[k] % 2 == 1
        ax.text(
            *pos[k], text, ha="center", va="center", fontsize=8,
            bbox={"boxstyle": "round", "fc": "#fde0c5" if is_op else "#d4e6f1", "ec": "0.4"},
        )  # fmt: skip
    ax.set_xlim(-0.7, top + 0.7)
    ax.set_ylim(-max(order.values()) / 2 - 0.3, max(order.values()) / 2 + 0.3)
    ax.set_title(title)
    ax.axis("off")
    plt.show()


def show_images(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 1.3,
    cmap: str = "gray",
    suptitle: str | None = None,
    symmetric: bool | Sequence[bool] = False,
    row_labels: Sequence[str] | None = None,
) -> None:
    """A grid of (H, W) or (H, W, 3) images; ``symmetric`` (one flag, or one per image) shows
    signed values on a diverging map centred on 0; ``row_labels`` name the rows on the left."""
    import matplotlib.pyplot as plt

    n = len(images)
    ncols = ncols or n
    nrows = -(-n // ncols)
    signed = [symmetric] * n if isinstance(symmetric, bool) else list(symmetric)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        img = np.asarray(images[k])
        kw: dict[str, Any] = {"cmap": cmap}
        if signed[k]:
            m = float(np.abs(img).max()) or 1.0
            kw = {"cmap": "RdBu_r", "vmin": -m, "vmax": m}
        ax.imshow(img, interpolation="nearest", **kw)
        if titles is not None:
            ax.set_title(titles[k], fontsize=8)
    for r, label in enumerate(row_labels or ()):
        ax = axes[r, 0]
        ax.axis("on")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    if suptitle:
        fig.suptitle(suptitle)
    plt.show()


def draw_windows(cases: Sequence[dict[str, Any]], frames: int = 4) -> None:
    """One row per convolution case: the padded input (padding grey) and the cells that
    successive outputs read (from :func:`window`), for the first ``frames`` outputs."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(cases), frames, figsize=(1.45 * frames, 1.5 * len(cases)), squeeze=False
    )
    for row, case in zip(axes, cases):
        H, K, S, P, D = (case[k] for k in "HKSPD")
        OW = (H + 2 * P - D * (K - 1) - 1) // S + 1
        outputs = [(i, j) for i in range(OW) for j in range(OW)]
        picks = [outputs[round(t)] for t in np.linspace(0, len(outputs) - 1, frames)]
        for ax, (oh, ow) in zip(row, picks):
            grid = np.zeros((H + 2 * P, H + 2 * P))
            grid[:P], grid[H + P :], grid[:, :P], grid[:, H + P :] = 0.35, 0.35, 0.35, 0.35
            grid[window(H, K, S, P, D, oh, ow)] = 1.0
            ax.imshow(grid, cmap="Blues", vmin=0, vmax=1.2)
            ax.set_xticks(np.arange(-0.5, H + 2 * P, 1), minor=True)
            ax.set_yticks(np.arange(-0.5, H + 2 * P, 1), minor=True)
            ax.grid(which="minor", color="0.8", lw=0.5)
            ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
            ax.set_title(f"output ({oh},{ow})", fontsize=8)
        row[0].set_ylabel(case["label"], fontsize=8)
    fig.suptitle("Input cells each output reads (grey: zero padding)")
    plt.show()
