"""Tiny files in the original dataset formats, and a network that serves local bytes, for
the dataset and download tests (nothing here touches the real network)."""

from __future__ import annotations

import gzip
import hashlib
import urllib.error
from pathlib import Path

import numpy as np

from minicnn.data.mnist import IMAGES_MAGIC, LABELS_MAGIC

TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def gz(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


def tiny_mnist(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.uint8) % 10


def write_tiny_mnist(folder: Path, train: bool = True, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Write a split's two gzip IDX files under their canonical names; return their arrays."""
    images, labels = tiny_mnist(n)
    folder.mkdir(parents=True, exist_ok=True)
    images_name, labels_name = TRAIN_FILES if train else TEST_FILES
    (folder / images_name).write_bytes(gz(idx_bytes(IMAGES_MAGIC, images)))
    (folder / labels_name).write_bytes(gz(idx_bytes(LABELS_MAGIC, labels)))
    return images, labels


def md5_of(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class FakeNetwork:
    """Serves ``files`` (URL -> bytes) through ``download.fetch``; records the URLs asked."""

    def __init__(self, files: dict[str, bytes | Exception]) -> None:
        self.files = files
        self.asked: list[str] = []

    def __call__(self, url: str, out, timeout: float = 60.0) -> None:
        self.asked.append(url)
        body = self.files.get(url)
        if body is None:
            raise urllib.error.URLError(f"no route to {url}")
        if isinstance(body, Exception):
            out.write(b"partial")
            raise body
        out.write(body)
