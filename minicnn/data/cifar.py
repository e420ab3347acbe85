"""CIFAR-10, read from its python batches or its binary batches.

Python version, ``cifar-10-batches-py/``: ``data_batch_1`` .. ``data_batch_5`` and
``test_batch`` are pickles (written by Python 2) of a dict with ``b"data"``, a uint8
(n, 3072) array whose rows are the R, G and B planes of one 32x32 image, and ``b"labels"``, n
ints. Binary version, ``cifar-10-batches-bin/``: ``data_batch_1.bin`` .. ``test_batch.bin``
are records of 3073 bytes, one label byte then the same 3072 pixel bytes.

Unpickling can run arbitrary code, so the batches are read with an unpickler that accepts
only what a NumPy array needs to be rebuilt.
"""

from __future__ import annotations

import os
import pickle
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from minicnn.data import download as dl
from minicnn.data.datasets import ArrayDataset, check_labels
from minicnn.data.paths import data_dir, where_from

PY_FOLDER = "cifar-10-batches-py"
BIN_FOLDER = "cifar-10-batches-bin"
_RECORD = 1 + 3 * 32 * 32  # label byte + R, G, B planes


def _array_rebuilders() -> dict[tuple[str, str], Any]:
    """The globals a pickled ndarray refers to, under the module names NumPy 1 and 2 use."""
    reconstruct = np.ndarray((0,), np.uint8).__reduce__()[0]
    allowed: dict[tuple[str, str], Any] = {("_codecs", "encode"): __import__("_codecs").encode}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = reconstruct
    for module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "ndarray")] = np.ndarray
        allowed[(module, "dtype")] = np.dtype
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        allowed[(module, "_frombuffer")] = lambda buf, dtype, shape, order: np.frombuffer(
            buf, dtype=dtype
        ).reshape(shape, order=order)
    return allowed


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global except those that rebuild NumPy arrays."""

    _allowed = _array_rebuilders()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR batch holds only arrays and lists"
            ) from None


def load_pickle(path: Path) -> Any:
    """Unpickle a CIFAR python file (Python 2 strings arrive as bytes)."""
    try:
        with open(path, "rb") as f:
            return _ArrayUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise ValueError(f"{path}: not a readable CIFAR python batch ({e})") from None


def read_python_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one python batch: images uint8 (n, 3, 32, 32) and labels int64 (n,)."""
    batch = load_pickle(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"{path}: expected a dict with b'data' and b'labels', got {keys}")
    data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _RECORD - 1:
        raise ValueError(
            f"{path}: b'data' should be a uint8 (n, 3072) array, got {data.dtype} {data.shape}"
        )
    if labels.shape != (data.shape[0],) or labels.dtype.kind not in "iu":
        raise ValueError(
            f"{path}: {data.shape[0]} images but b'labels' is {labels.dtype} {labels.shape}"
        )
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def read_binary_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one binary batch: images uint8 (n, 3, 32, 32) and labels int64 (n,)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(
            f"{path}: {raw.size} bytes is not a whole number of {_RECORD}-byte records "
            "(truncated or not a CIFAR-10 binary batch)"
        )
    records = raw.reshape(-1, _RECORD)  # (n, 3073)
    return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0].astype(np.int64)


class CIFAR10(ArrayDataset):
    """CIFAR-10: 50,000 train / 10,000 test colour images, uint8 (N, 3, 32, 32).

    Reads ``<data dir>/cifar-10-batches-py/`` when complete, else ``cifar-10-batches-bin/``.
    ``download=True`` fetches the python tarball, checks its MD5 and extracts the batches.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    archive = "cifar-10-python.tar.gz"
    archive_md5 = "c58f30108f718f92721af3b95e74349a"
    md5 = {
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e",
        "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
    }
    classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]

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
        names = [f"data_batch_{i}" for i in range(1, 6)] if self.train else ["test_batch"]
        py_dir, bin_dir = self.root / PY_FOLDER, self.root / BIN_FOLDER
        py_missing = [n for n in names if not (py_dir / n).is_file()]
        bin_missing = [n + ".bin" for n in names if not (bin_dir / (n + ".bin")).is_file()]
        if py_missing and bin_missing and download:
            self._download_python_batches()
            py_missing = []
        if not py_missing:
            self.folder = PY_FOLDER
            paths = [py_dir / n for n in names]
            if verify_md5:
                for p in paths:
                    dl.check_md5(p, self.md5[p.name])
            batches = [read_python_batch(p) for p in paths]
        elif not bin_missing:
            self.folder = BIN_FOLDER
            paths = [bin_dir / (n + ".bin") for n in names]
            batches = [read_binary_batch(p) for p in paths]
        else:
            missing = [f"{PY_FOLDER}/{n}" for n in py_missing]
            missing += [f"{BIN_FOLDER}/{n}" for n in bin_missing]
            raise dl.missing_files_error(
                "CIFAR10 (python or binary batches)",
                self.root,
                missing,
                self.root,
                where_from(root),
            )
        images = np.concatenate([b[0] for b in batches])  # (N, 3, 32, 32)
        labels = np.concatenate([b[1] for b in batches])  # (N,)
        check_labels(labels, len(self.classes), ", ".join(map(str, paths)))
        super().__init__(images, labels, transform=transform)

    def _download_python_batches(self) -> None:
        """Fetch the tarball, verify it, extract the python batches atomically, delete it."""
        tarball = dl.download_file([self.url], self.root / self.archive, self.archive_md5)
        target = self.root / PY_FOLDER
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball, "r:gz") as tar:
            for name in self.md5:
                # Extract by exact member name, never extractall: no path can escape target.
                try:
                    member = tar.extractfile(f"{PY_FOLDER}/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise ValueError(
                        f"{tarball}: no regular file {PY_FOLDER}/{name} in the archive"
                    )
                fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target)
                try:
                    with os.fdopen(fd, "wb") as out:
                        out.write(member.read())
                    os.replace(tmp, target / name)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
        tarball.unlink()

    def _describe(self) -> str:
        return f"{'train' if self.train else 'test'} split, from {self.root / self.folder}"
