"""MNIST and Fashion-MNIST, read from their original IDX files (gzip-compressed).

An IDX file is a big-endian header followed by raw bytes::

    uint32 magic    0x00000803 (2051) for images, 0x00000801 (2049) for labels:
                    two zero bytes, the element type (0x08 = unsigned byte), the number of dims
    uint32 dims[k]  e.g. (60000, 28, 28) for images, (60000,) for labels
    uint8  data[]   prod(dims) bytes, row-major

:func:`read_idx` checks every part of that: the magic number, the dimensions, and that the
file holds exactly prod(dims) data bytes (no fewer, no more), so a truncated, corrupt or
mislabelled file is an error naming the file, never garbage in the arrays.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from minicnn.data import download as dl
from minicnn.data.datasets import ArrayDataset, check_labels
from minicnn.data.paths import data_dir, where_from

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_UBYTE = 0x08
_MAX_BYTES = 1 << 32  # no IDX file of these datasets comes near; a larger header is corrupt


def read_idx(
    path: str | os.PathLike,
    magic: int | None = None,
    shape: Sequence[int | None] | None = None,
) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip when the name ends in ``.gz``) into a uint8 array.

    ``magic``: the expected magic number (:data:`IMAGES_MAGIC` or :data:`LABELS_MAGIC`).
    ``shape``: the expected dimensions, ``None`` for any size, e.g. ``(None, 28, 28)``.
    Raises ValueError naming the file for a bad magic number, unexpected dimensions, a short
    read, trailing bytes, or a damaged gzip stream.
    """
    path = Path(path)
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return _parse_idx(f, path, magic, shape)
        with open(path, "rb") as f:
            return _parse_idx(f, path, magic, shape)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: damaged gzip stream ({e})") from None


def _read_exact(f: BinaryIO, out: memoryview) -> int:
    """Fill ``out`` from ``f``; return how many bytes arrived (fewer only at end of file)."""
    n = 0
    while n < len(out):
        got = f.readinto(out[n:])
        if not got:
            break
        n += got
    return n


def _parse_idx(
    f: BinaryIO, path: Path, magic: int | None, shape: Sequence[int | None] | None
) -> np.ndarray:
    header = bytearray(4)
    if _read_exact(f, memoryview(header)) < 4:
        raise ValueError(f"{path}: too short for an IDX header (fewer than 4 bytes)")
    found = int.from_bytes(header, "big")
    if magic is not None and found != magic:
        kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(magic, "IDX")
        raise ValueError(
            f"{path}: bad magic number {found} (0x{found:08x}), expected {magic} "
            f"(0x{magic:08x}, an IDX {kind} file); is this the right file?"
        )
    if header[0] != 0 or header[1] != 0 or header[2] != _UBYTE or header[3] == 0:
        raise ValueError(
            f"{path}: bad magic number 0x{found:08x}; expected 0x000008NN (unsigned bytes, "
            "NN dimensions)"
        )
    ndim = header[3]
    raw_dims = bytearray(4 * ndim)
    if _read_exact(f, memoryview(raw_dims)) < len(raw_dims):
        raise ValueError(f"{path}: truncated header: {ndim} dimensions announced, not all present")
    dims = tuple(int.from_bytes(raw_dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
    if shape is not None and (
        len(shape) != ndim or any(s is not None and s != d for s, d in zip(shape, dims))
    ):
        want = tuple("any" if s is None else s for s in shape)
        raise ValueError(f"{path}: dimensions {dims}, expected {want}")
    size = int(np.prod(dims, dtype=np.int64))
    if size > _MAX_BYTES:
        raise ValueError(f"{path}: dimensions {dims} promise {size} bytes; the header is corrupt")
    arr = np.empty(dims, dtype=np.uint8)
    n = _read_exact(f, memoryview(arr.reshape(-1)))
    if n < size:
        raise ValueError(
            f"{path}: truncated: dimensions {dims} need {size} data bytes, the file holds {n}"
        )
    if f.read(1):  # also makes gzip check its CRC and length trailer
        raise ValueError(f"{path}: trailing bytes after the {size} data bytes of dimensions {dims}")
    return arr


class IDXDataset(ArrayDataset):
    """Base of MNIST-like datasets: four IDX files in ``<data dir>/<folder>/``.

    Subclasses set ``folder``, ``mirrors`` (base URLs tried in order), ``md5`` (published MD5
    of each file) and ``classes``.
    """

    folder = ""
    mirrors: tuple[str, ...] = ()
    md5: dict[str, str] = {}
    classes: Sequence[str] = ()
    image_size = (28, 28)
    splits = {
        True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    }

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = False,
        transform: Callable[[np.ndarray], Any] | None = None,
        verify_md5: bool = True,
    ) -> None:
        self.root = data_dir(root)
        self.train = bool(train)
        directory = self.root / self.folder
        images_path, labels_path = self._locate(directory, root, download, verify_md5)
        images = read_idx(images_path, IMAGES_MAGIC, (None, *self.image_size))  # (N, H, W)
        labels = read_idx(labels_path, LABELS_MAGIC, (None,))  # (N,)
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{type(self).__name__}: {images_path} holds {images.shape[0]} images but "
                f"{labels_path} holds {labels.shape[0]} labels; the counts must agree"
            )
        check_labels(labels, len(self.classes), str(labels_path))
        super().__init__(images[:, None], labels, transform=transform)  # (N, 1, H, W)

    def _locate(
        self,
        directory: Path,
        root: str | os.PathLike | None,
        download: bool,
        verify_md5: bool,
    ) -> list[Path]:
        """The split's two files: the ``.gz`` names, else their decompressed copies."""
        names = self.splits[self.train]
        found: list[Path | None] = []
        for name in names:
            gz, plain = directory / name, directory / name[: -len(".gz")]
            found.append(gz if gz.is_file() else plain if plain.is_file() else None)
        missing = [name for name, p in zip(names, found) if p is None]
        if missing and not download:
            raise dl.missing_files_error(
                type(self).__name__, directory, missing, self.root, where_from(root)
            )
        paths = []
        for name, p in zip(names, found):
            if p is None:
                p = self._download(directory, name)
            elif verify_md5 and p.name == name:
                try:
                    dl.check_md5(p, self.md5[name])
                except dl.ChecksumError:
                    if not download:
                        raise
                    p = self._download(directory, name)  # replace the damaged copy
            paths.append(p)
        return paths

    def _download(self, directory: Path, name: str) -> Path:
        return dl.download_file([m + name for m in self.mirrors], directory / name, self.md5[name])

    def _describe(self) -> str:
        return f"{'train' if self.train else 'test'} split, from {self.root / self.folder}"


class MNIST(IDXDataset):
    """MNIST handwritten digits: 60,000 train / 10,000 test images, uint8 (N, 1, 28, 28)."""

    folder = "mnist"
    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = [str(d) for d in range(10)]


class FashionMNIST(IDXDataset):
    """Fashion-MNIST (Zalando): 60,000 train / 10,000 test images, uint8 (N, 1, 28, 28)."""

    folder = "fashion-mnist"
    mirrors = (
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    )
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
