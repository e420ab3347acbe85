"""torchvision's datasets ``MNIST``, ``FashionMNIST`` and ``CIFAR10``, read by minicnn's own
readers (:mod:`minicnn.data`).

Each item is what torchvision returns: ``(image, label)`` with a PIL image (mode "L" for the
MNISTs, "RGB" for CIFAR-10) and an int, before ``transform`` and ``target_transform`` are
applied; where Pillow is not installed the image is a uint8 NumPy array (H, W) or (H, W, 3),
which every transform of :mod:`minicnn.vision.transforms` also takes. ``data``, ``targets``,
``classes`` and ``class_to_idx`` are torchvision's too: for the MNISTs a uint8 tensor
(N, 28, 28) and an int64 tensor, for CIFAR-10 a uint8 array (N, 32, 32, 3) and a list.

Where the files are looked for, in order:

1. ``root/MNIST/raw/`` (``root/FashionMNIST/raw/``): torchvision's layout, where a torchvision
   download put them (compressed or not);
2. ``root/mnist/`` (``root/fashion-mnist/``, ``root/cifar-10-batches-py/``): minicnn's layout;
3. the same folder under ``$MINICNN_DATA``, when that variable is set: so a script written
   for ``root="./data", download=True`` runs offline against data that is already here;
4. with ``download=True``, downloaded (MD5-checked) into minicnn's layout under ``root``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from minicnn import data as _data
from minicnn.data.paths import ENV_VAR, data_dir
from minicnn.tensor import Tensor


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


class VisionDataset:
    """Base: ``root``, ``transform``, ``target_transform``; items are (image, target)."""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        for name, fn in (("transform", transform), ("target_transform", target_transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name}: expected a callable or None, got {fn!r}")
        self.root = root
        self.transform = transform
        self.target_transform = target_transform

    def _item(self, image: np.ndarray, target: int) -> tuple[Any, Any]:
        Image = _pil()
        img: Any = Image.fromarray(image) if Image is not None else image
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        lines.append(f"    Root location: {self.root}")
        if hasattr(self, "train"):
            lines.append(f"    Split: {'Train' if self.train else 'Test'}")
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        return "\n".join(lines)


def _candidates(root: Any, folders: list[str]) -> list[Path]:
    """Directories to look in: under root (torchvision's then minicnn's layout), then under
    $MINICNN_DATA when it is set."""
    base = data_dir(root)
    dirs = [base / f for f in folders]
    env = os.environ.get(ENV_VAR, "").strip()
    if root is not None and env:
        dirs += [Path(env).expanduser() / folders[-1]]
    return dirs


class _IDX(VisionDataset):
    """MNIST-like: torchvision's arguments over minicnn's IDX reader."""

    reader: type = _data.MNIST
    torch_folder = "MNIST"
    classes: list[str] = []

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        super().__init__(root, transform, target_transform)
        self.train = bool(train)
        folders = [f"{self.torch_folder}/raw", self.reader.folder]
        names = self.reader.splits[self.train]
        found = None
        for d in _candidates(root, folders):
            if all((d / n).is_file() or (d / n[: -len(".gz")]).is_file() for n in names):
                found = d
                break
        if found is not None:  # read from where the files are: a reader whose folder is "."
            reader = type(self.reader.__name__, (self.reader,), {"folder": "."})
            ds = reader(root=found, train=self.train, download=False)
        else:  # minicnn's reader raises (naming where it looked) or downloads into root
            ds = self.reader(root=root, train=self.train, download=download)
        self._images = ds.data[:, 0]  # (N, 28, 28) uint8
        self._labels = ds.targets  # (N,) int64
        self.data = Tensor._from_op(self._images, "numpy", None)
        self.targets = Tensor._from_op(self._labels, "numpy", None)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self._item(self._images[index], int(self._labels[index]))


class MNIST(_IDX):
    """MNIST handwritten digits: 60,000 train / 10,000 test 28x28 grey images."""

    reader = _data.MNIST
    torch_folder = "MNIST"
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip


class FashionMNIST(_IDX):
    """Fashion-MNIST: 60,000 train / 10,000 test 28x28 grey images of clothes."""

    reader = _data.FashionMNIST
    torch_folder = "FashionMNIST"
    classes = list(_data.FashionMNIST.classes)


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 train / 10,000 test 32x32 colour images in 10 classes."""

    classes = list(_data.CIFAR10.classes)

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        super().__init__(root, transform, target_transform)
        self.train = bool(train)
        try:
            ds = _data.CIFAR10(root=root, train=self.train, download=download)
        except _data.DatasetNotFoundError:
            env = os.environ.get(ENV_VAR, "").strip()
            if root is None or not env or download:
                raise
            ds = _data.CIFAR10(root=env, train=self.train)
        self.data = np.ascontiguousarray(ds.data.transpose(0, 2, 3, 1))  # (N, 32, 32, 3)
        self.targets = [int(t) for t in ds.targets]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self._item(self.data[index], self.targets[index])


__all__ = ["CIFAR10", "MNIST", "FashionMNIST", "VisionDataset"]
