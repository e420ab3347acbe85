"""A 2,500-image sample of real MNIST that ships inside the package, for running offline.

``minicnn/data/sample/`` holds, as gzip IDX files, the first 200 training images of each digit
(2,000) and the first 50 test images of each digit (500), in their original file order, with
``mnist_sample.json`` recording the source files' MD5s and the chosen indices. The script
``scripts/build_mnist_sample.py`` builds them from the original MNIST files.
"""

from __future__ import annotations

import importlib.resources
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from minicnn.data import download as dl
from minicnn.data.datasets import ArrayDataset, check_labels
from minicnn.data.mnist import IMAGES_MAGIC, LABELS_MAGIC, MNIST, read_idx
from minicnn.data.paths import data_dir

SAMPLE_FILES = {  # train -> (images, labels) file names in minicnn/data/sample/
    True: ("mnist-sample-train-images-idx3-ubyte.gz", "mnist-sample-train-labels-idx1-ubyte.gz"),
    False: ("mnist-sample-t10k-images-idx3-ubyte.gz", "mnist-sample-t10k-labels-idx1-ubyte.gz"),
}
SAMPLE_SIZES = {True: 2000, False: 500}


class MNISTSample(ArrayDataset):
    """The embedded MNIST sample: 2,000 train / 500 test images, uint8 (N, 1, 28, 28), balanced."""

    classes = MNIST.classes

    def __init__(
        self, train: bool = True, transform: Callable[[np.ndarray], Any] | None = None
    ) -> None:
        self.train = bool(train)
        folder = importlib.resources.files("minicnn.data") / "sample"
        images_name, labels_name = SAMPLE_FILES[self.train]
        with importlib.resources.as_file(folder / images_name) as path:
            images = read_idx(path, IMAGES_MAGIC, (SAMPLE_SIZES[self.train], 28, 28))
        with importlib.resources.as_file(folder / labels_name) as path:
            labels = read_idx(path, LABELS_MAGIC, (SAMPLE_SIZES[self.train],))
        check_labels(labels, 10, labels_name)
        super().__init__(images[:, None], labels, transform=transform)  # (N, 1, 28, 28)

    def _describe(self) -> str:
        return f"embedded {'train' if self.train else 'test'} sample"


def load_mnist_or_sample(
    root: str | os.PathLike | None = None, train: bool = True, download: bool = False
) -> ArrayDataset:
    """Real MNIST if it is on disk (or can be downloaded), else the embedded sample.

    Falling back warns once with a one-line notice. A file that is present but damaged is
    still an error: the sample stands in for missing data, not for corrupt data.
    """
    try:
        return MNIST(root=root, train=train, download=download)
    except (dl.DatasetNotFoundError, dl.DownloadError) as e:
        reason: Exception = e
    except dl.ChecksumError as e:
        if not download:  # a damaged file on disk
            raise
        reason = e  # with download=True, damaged files are re-fetched: the download failed
    n = SAMPLE_SIZES[bool(train)]
    warnings.warn(
        f"full MNIST not found in {data_dir(root) / MNIST.folder}; using the embedded "
        f"{n:,}-image {'training' if train else 'test'} sample ({type(reason).__name__})",
        stacklevel=2,
    )
    return MNISTSample(train=train)
