"""What the course notebooks share: set-up and data here; the kernel viewer (``kernels``),
measurements and batch transforms (``measure``) and pictures (``draw``) beside it, all
re-exported so that a notebook needs only ``import course``.

The notebooks keep their cells to the idea they teach; the plumbing lives here. Measuring
functions return arrays and numbers (the tests check them without pixels); drawing functions
take arrays and only draw.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

import minicnn as mc
from minicnn import data

from .draw import draw_graph, draw_windows, show, show_images
from .kernels import (
    KernelCall,
    KernelsRun,
    cuda_kernel,
    kernel_function,
    kernel_sources,
    kernels_run,
    show_kernel,
    show_source,
)
from .measure import (
    RandomRotation,
    autograd_graph,
    count_macs,
    failing_layer,
    half_size,
    neighbour_correlation,
    rotate,
    seconds,
    shift,
    top_patches,
    weight_grad_norms,
    window,
    without_batchnorm,
)

__all__ = [
    "KernelCall",
    "KernelsRun",
    "RandomRotation",
    "autograd_graph",
    "count_macs",
    "cuda_kernel",
    "dataset",
    "draw_graph",
    "draw_windows",
    "failing_layer",
    "half_size",
    "kernel_function",
    "kernel_sources",
    "kernels_run",
    "loader",
    "neighbour_correlation",
    "photo",
    "rotate",
    "seconds",
    "setup",
    "shift",
    "show",
    "show_images",
    "show_kernel",
    "show_source",
    "subset",
    "top_patches",
    "weight_grad_norms",
    "window",
    "without_batchnorm",
]


def setup(seed: int = 0) -> str:
    """Select the backend named by MINICNN_BACKEND (default numba), seed, size the figures."""
    name = os.environ.get("MINICNN_BACKEND", "").strip().lower() or "numba"
    mc.set_backend(name)
    mc.manual_seed(seed)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 72,
            "savefig.dpi": 72,
            "font.size": 9,
            "axes.titlesize": 9,
            "figure.constrained_layout.use": True,
        }
    )
    print(f"backend: {name}  (set MINICNN_BACKEND to numpy, numba or cupy to change it)")
    return name


MEAN_STD = {
    "mnist": (data.MNIST_MEAN, data.MNIST_STD),
    "fashion": (data.FASHION_MNIST_MEAN, data.FASHION_MNIST_STD),
}


def dataset(name: str = "mnist", train: bool = True) -> tuple[data.ArrayDataset, bool]:
    """(dataset, full): full MNIST or Fashion-MNIST from MINICNN_DATA, else the embedded MNIST
    sample, with one printed line saying so."""
    kind = {"mnist": data.MNIST, "fashion": data.FashionMNIST}[name]
    try:
        return kind(train=train), True
    except (data.DatasetNotFoundError, data.DownloadError) as e:
        split = "train" if train else "test"
        print(f"full {name} not found ({type(e).__name__}); using the MNIST sample ({split})")
        return data.MNISTSample(train=train), False


def photo(step: int = 6) -> np.ndarray:
    """A colour photograph that ships with matplotlib (Grace Hopper, 600x512), every
    ``step``-th pixel: (3, 100, 86) float32 in [0, 1] by default."""
    import matplotlib.cbook
    import matplotlib.image

    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = matplotlib.image.imread(path)[::step, ::step]  # (H, W, 3) uint8
    return np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / 255


def subset(ds: data.ArrayDataset, n: int, seed: int = 0) -> data.ArrayDataset:
    """``n`` images of ``ds`` drawn without replacement (all of them if it has fewer)."""
    if n >= len(ds):
        return ds
    idx = np.sort(np.random.default_rng(seed).choice(len(ds), n, replace=False))
    return data.ArrayDataset(ds.data[idx], ds.targets[idx], ds.classes)


def loader(
    ds: data.ArrayDataset,
    batch_size: int = 64,
    shuffle: bool = False,
    seed: int = 0,
    pad: int = 0,
    augment: Sequence[Any] = (),
    stats: str = "mnist",
    dtype: str = "float32",
) -> data.DataLoader:
    """Batches of ``ds`` scaled to [0, 1], padded by ``pad``, augmented, then normalised."""
    steps = [data.Pad(pad)] if pad else []
    steps += [*augment, data.Normalize(*MEAN_STD[stats])]
    return data.DataLoader(
        ds, batch_size, shuffle=shuffle, seed=seed, transform=data.Compose(steps), dtype=dtype
    )
