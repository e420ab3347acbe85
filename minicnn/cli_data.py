"""The command line's datasets: loading them with errors and notices in CLI words, naming
them in output ("MNIST sample (2,000 images)"), their batch transforms; and the backend."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import minicnn

DATASETS = ("mnist", "fashion-mnist", "cifar10", "mnist-sample")
NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
FOLDERS = {"mnist": "mnist", "fashion-mnist": "fashion-mnist", "cifar10": "cifar-10-batches-py"}


class UserError(Exception):
    """A mistake the user can fix; the message says how, in the command line's words."""


def _data_source(root: str | None) -> str:
    """Where the data folder came from, in the command line's words."""
    from minicnn.data.paths import ENV_VAR

    if root is not None:
        return "set by --data-root"
    if os.environ.get(ENV_VAR, "").strip():
        return f"set by {ENV_VAR}"
    return f"the default: neither --data-root nor {ENV_VAR} is set"


def _title(name: str, dataset: Any) -> str:
    """What ran: "MNIST sample" when the embedded sample stood in, else the dataset's name."""
    from minicnn.data import MNISTSample

    return "MNIST sample" if isinstance(dataset, MNISTSample) else NAMES.get(name, name)


def _label(name: str, dataset: Any) -> str:
    """How output names a dataset: "MNIST sample (2,000 images)", "MNIST (60,000 images)"."""
    return f"{_title(name, dataset)} ({len(dataset):,} images)"


def _datasets(name: str, root: str | None, download: bool) -> tuple[Any, Any, tuple, tuple]:
    """(train, test, mean, std) for dataset ``name``; missing data is a :class:`UserError`."""
    from minicnn import data
    from minicnn.data.paths import data_dir

    if name == "mnist-sample":
        return (
            data.MNISTSample(train=True),
            data.MNISTSample(train=False),
            data.MNIST_MEAN,
            data.MNIST_STD,
        )
    folder = data_dir(root) / FOLDERS[name]
    try:
        if name == "mnist":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the notice below says it in CLI words
                train = data.load_mnist_or_sample(root, train=True, download=download)
                test = data.load_mnist_or_sample(root, train=False, download=download)
            if isinstance(train, data.MNISTSample):
                what = "could not be downloaded to" if download else "not found in"
                print(
                    f"notice: full MNIST {what} {folder} ({_data_source(root)}); using the "
                    f"MNIST sample shipped with minicnn ({len(train):,} training images).\n"
                    f"        For the full 60,000: add --download, or point --data-root (or "
                    f"MINICNN_DATA) at a folder holding {FOLDERS['mnist']}/.",
                    file=sys.stderr,
                )
            return train, test, data.MNIST_MEAN, data.MNIST_STD
        kind = data.FashionMNIST if name == "fashion-mnist" else data.CIFAR10
        mean, std = (
            (data.FASHION_MNIST_MEAN, data.FASHION_MNIST_STD)
            if name == "fashion-mnist"
            else (data.CIFAR10_MEAN, data.CIFAR10_STD)
        )
        train = kind(root, train=True, download=download)
        return train, kind(root, train=False, download=download), mean, std
    except data.DatasetNotFoundError:
        raise UserError(
            f"{NAMES[name]} not found in {folder} ({_data_source(root)}).\n"
            f"Add --download to fetch it, or point --data-root (or MINICNN_DATA) at a folder "
            f"holding {FOLDERS[name]}/."
        ) from None
    except data.DownloadError as e:
        first = str(e).splitlines()[-1].strip()
        raise UserError(
            f"could not download {NAMES[name]} to {folder}: {first}\n"
            f"Check the network, or point --data-root (or MINICNN_DATA) at a folder that has it."
        ) from None
    except data.ChecksumError as e:
        raise UserError(
            f"{e}\nDelete the damaged file and run again with --download."
            if not download
            else str(e)
        ) from None


def _transforms(train: Any, mean: tuple, std: tuple, augment: str) -> tuple[Any, Any]:
    """Batch transforms for training and testing: 28x28 images are padded to 32x32."""
    from minicnn.data import transforms as T

    pad = 32 - train.data.shape[-1]
    base = [T.Pad(pad // 2)] if pad > 0 else []
    test_tf = T.Compose([*base, T.Normalize(mean, std)])
    aug: list[Any] = []
    if augment.startswith("crop"):
        aug.append(T.RandomCrop(32, padding=4))
    if "flip" in augment:
        aug.append(T.RandomHorizontalFlip())
    erase = [T.RandomErasing(p=0.5, value="random")] if augment.endswith("-erase") else []
    return T.Compose([*base, *aug, T.Normalize(mean, std), *erase]), test_tf


def _backend_choice(name: str | None) -> str:
    if name:
        return name
    env = os.environ.get("MINICNN_BACKEND")
    if env:
        return env
    return "numba" if minicnn.unavailable_reason("numba") is None else "numpy"
