"""Trained weights that ship inside the package, loaded torchvision-style.

``models.lenet5(weights="mnist")`` builds LeNet-5 and loads the checkpoint registered under
that name; ``weights=`` may also be the path of an ``.npz`` file (one array per state-dict key,
read with ``allow_pickle=False``, so opening it runs no code). Each registered file is checked
against its SHA-256 before it is read: a damaged or replaced file is an error, never a model
that silently computes something else.

Every entry records what it is: the architecture and its arguments, the classes, the input
preprocessing (``transforms()``: pad 28x28 images to 32x32, then normalise), the test accuracy
measured when it was built, and the JSON record in ``experiments/records/weights/`` holding the
exact command, seed, backend, date and machine. ``scripts/build_weights.py`` rebuilds each file
and its record.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import io
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minicnn.data.mnist import FashionMNIST

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = tuple(FashionMNIST.classes)  # the dataset's own names, in label order
META_KEY = "__meta__"  # the npz entry holding the JSON description, a (1,) str array


class WeightsError(ValueError):
    """A weights file that does not match its registered SHA-256, or that is not a state dict."""


@dataclass(frozen=True)
class Weights:
    """One shipped checkpoint: which model it fits, how its inputs are prepared, how good it is.

    ``accuracy`` is the test accuracy measured by ``scripts/build_weights.py`` on ``test_set``.
    """

    arch: str
    name: str
    file: str
    sha256: str
    accuracy: float
    test_set: str
    model_kwargs: Mapping[str, Any]
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    dataset: str = "mnist"  # "mnist" or "fashion-mnist": what it was trained and tested on
    pad: int = 2
    digits: tuple[int, ...] | None = None  # the MNIST digits it was trained on, if a subset
    description: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``"<arch>-<name>"``: the stem of the file and of its record."""
        return f"{self.arch}-{self.name}"

    @property
    def record(self) -> str:
        """The record, relative to the repository root (it does not ship in the wheel)."""
        return f"experiments/records/weights/{self.key}.json"

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def path(self) -> Path:
        """Where the file of this entry is installed."""
        return Path(str(importlib.resources.files("minicnn.models") / "checkpoints" / self.file))

    def transforms(self) -> Any:
        """The batch transform (``DataLoader(..., transform=w.transforms())``) that turns
        images scaled to [0, 1], (N, C, 28, 28), into this network's (N, C, 32, 32) inputs."""
        from minicnn.data import transforms as T

        return T.Compose([T.Pad(self.pad), T.Normalize(self.mean, self.std)])

    def preprocess(self, images: Any) -> np.ndarray:
        """uint8 images (N, C, 28, 28) (or floats in [0, 1]) -> float32 inputs (N, C, 32, 32)."""
        a = np.asarray(images)
        if a.ndim == 3:
            a = a[None]  # (1, C, 28, 28)
        x = a.astype(np.float32) / 255 if a.dtype == np.uint8 else a.astype(np.float32)
        return np.ascontiguousarray(self.transforms()(x, None), dtype=np.float32)

    def test_set_of(self, root: str | os.PathLike | None = None, sample: bool = False) -> Any:
        """The test images this entry is measured on: the full test set from ``root`` (default
        ``MINICNN_DATA``; raises ``DatasetNotFoundError`` where it is absent) or, with
        ``sample=True``, the embedded 500-image MNIST sample; restricted to ``digits``."""
        from minicnn import data

        if sample:
            if self.dataset != "mnist":
                raise ValueError(f"sample: there is no embedded sample of {self.dataset}")
            ds = data.MNISTSample(train=False)
        elif self.dataset == "mnist":
            ds = data.MNIST(root, train=False)
        else:
            ds = data.FashionMNIST(root, train=False)
        return self.subset(ds)

    def subset(self, ds: Any) -> Any:
        """``ds`` restricted to this entry's ``digits`` (labels unchanged: digit d -> d)."""
        if self.digits is None:
            return ds
        from minicnn.data import ArrayDataset

        keep = np.isin(ds.targets, self.digits)
        return ArrayDataset(ds.data[keep], ds.targets[keep], classes=self.classes)

    def unnormalize(self, x: Any) -> np.ndarray:
        """Model inputs (N, C, H, W) or (C, H, W) -> pixels in [0, 1] (for display)."""
        a = np.asarray(x, dtype=np.float64)
        shape = (-1, 1, 1) if a.ndim == 3 else (1, -1, 1, 1)
        mean = np.asarray(self.mean).reshape(shape)
        std = np.asarray(self.std).reshape(shape)
        return a * std + mean


def _mnist(**kw: Any) -> dict[str, Any]:
    return dict(mean=(0.1307,), std=(0.3081,), **kw)


# The registry: architecture -> weights name -> entry. scripts/build_weights.py prints the
# sha256 and accuracy of a file it builds; tests/models/test_weights.py checks that every entry
# matches its file and its record.
REGISTRY: dict[str, dict[str, Weights]] = {
    "lenet5": {
        "mnist": Weights(
            arch="lenet5",
            name="mnist",
            file="lenet5-mnist.npz",
            sha256="ac791b919da832ac35e2941599cddb102002784db08193eaf751272268502a35",
            accuracy=0.992900,
            test_set="MNIST test set (10,000 images)",
            model_kwargs={"num_classes": 10, "in_channels": 1, "variant": "relu"},
            classes=MNIST_CLASSES,
            description="LeNet-5 (ReLU, max-pool) trained on MNIST, 10 epochs",
            **_mnist(),
        ),
        "mnist-0-4": Weights(
            arch="lenet5",
            name="mnist-0-4",
            file="lenet5-mnist-0-4.npz",
            sha256="322f843da90e97967534da4dcb587e9d3a282d4608bee29856db77ec544ff529",
            accuracy=0.998054,
            test_set="MNIST test digits 0-4 (5,139 images)",
            model_kwargs={"num_classes": 5, "in_channels": 1, "variant": "relu"},
            classes=MNIST_CLASSES[:5],
            digits=(0, 1, 2, 3, 4),
            description=(
                "LeNet-5 trained on MNIST digits 0-4 only, five outputs (label = digit): the "
                "source network of transfer learning to digits 5-9"
            ),
            **_mnist(),
        ),
    },
    "resnet20": {
        "fashion-mnist": Weights(
            arch="resnet20",
            name="fashion-mnist",
            file="resnet20-fashion-mnist.npz",
            sha256="a8120bb846f87632a88ebcb061dfc8f600f01fe79171089f9fafe2b536d8424a",
            accuracy=0.949800,
            test_set="Fashion-MNIST test set (10,000 images)",
            model_kwargs={"num_classes": 10, "in_channels": 1, "shortcut": "A"},
            classes=FASHION_MNIST_CLASSES,
            mean=(0.2860,),
            std=(0.3530,),
            dataset="fashion-mnist",
            description=(
                "ResNet-20 (option A) trained on Fashion-MNIST, 40 epochs, crop+flip, then 4 "
                "epochs of weight averaging (SWA)"
            ),
        ),
    },
}


def list_weights(arch: str | None = None) -> list[str]:
    """Registered weights: names for ``arch`` (``["mnist", "mnist-0-4"]``), or every
    ``"<arch>-<name>"`` when ``arch`` is None."""
    if arch is None:
        return sorted(w.key for entries in REGISTRY.values() for w in entries.values())
    return sorted(REGISTRY.get(arch, {}))


def _names_text(arch: str) -> str:
    names = list_weights(arch)
    if names:
        return f"the weights of {arch} are {', '.join(map(repr, names))}"
    others = ", ".join(f"{w!r}" for w in list_weights())
    return f"{arch} has no shipped weights (shipped: {others})"


def get_weights(arch: str, name: str) -> Weights:
    """The registry entry ``name`` of ``arch``; an unknown name lists the ones that exist."""
    entry = REGISTRY.get(arch, {}).get(name)
    if entry is None:
        raise ValueError(
            f"weights: no weights named {name!r} for {arch}; {_names_text(arch)}, or pass the "
            f"path of an .npz file"
        )
    return entry


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_npz(
    path: str | os.PathLike, state: Mapping[str, Any], meta: Mapping[str, Any] | None = None
) -> str:
    """Write ``state`` (name -> array) and ``meta`` (JSON) as an ``.npz``; return its SHA-256.

    Floating-point arrays are stored as float32. The zip entries carry a fixed date, so the same
    weights always give the same bytes and the same hash.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for k, v in state.items():
        a = np.asarray(getattr(v, "array", v))
        if not isinstance(a, np.ndarray):  # a CuPy array
            a = a.get()
        arrays[k] = a.astype(np.float32) if a.dtype.kind == "f" else a
    if meta is not None:
        arrays[META_KEY] = np.array([json.dumps(dict(meta), sort_keys=True)])  # (1,) str
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for k, a in arrays.items():
            buf = io.BytesIO()
            a = a if a.flags.c_contiguous else np.ascontiguousarray(a)  # keeps 0-d arrays 0-d
            np.lib.format.write_array(buf, a, allow_pickle=False)
            info = zipfile.ZipInfo(k + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, buf.getvalue())
    return sha256_of(path)


def read_npz(
    path: str | os.PathLike, sha256: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(state, meta)`` from an ``.npz`` written by :func:`save_npz` (or ``np.savez``).

    With ``sha256``, the file's hash is checked first and a mismatch raises
    :class:`WeightsError` saying what was expected and what was found.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights: no file at {path}")
    if sha256 is not None:
        found = sha256_of(path)
        if found != sha256:
            raise WeightsError(
                f"weights: {path} has SHA-256 {found}, but the registry expects {sha256}: the "
                f"file is damaged or was replaced. Reinstall minicnn, or rebuild the file with "
                f"scripts/build_weights.py and update minicnn/models/weights.py"
            )
    try:
        with np.load(path, allow_pickle=False) as z:
            state = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise WeightsError(
            f"weights: {path} is not an .npz file of arrays ({type(e).__name__}: {e})"
        ) from e
    meta_array = state.pop(META_KEY, None)
    meta = json.loads(str(meta_array.reshape(-1)[0])) if meta_array is not None else {}
    return state, meta


def _looks_like_path(weights: Any) -> bool:
    if isinstance(weights, os.PathLike):
        return True
    return isinstance(weights, str) and (
        weights.endswith(".npz") or os.sep in weights or "/" in weights or os.path.exists(weights)
    )


def resolve(
    arch: str, weights: Any, kwargs: Mapping[str, Any], defaults: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
    """``(model kwargs, state dict or None)`` for building ``arch`` with ``weights``.

    ``weights`` is None (no loading: ``defaults`` fill every argument left as None), a
    registered name or :class:`Weights`, or the path of an ``.npz``. Arguments the caller set
    must agree with the checkpoint's (``num_classes=10`` with the five-class ``"mnist-0-4"``
    is an error); those left as None take the checkpoint's values.
    """
    if weights is None:
        return {k: (defaults[k] if v is None else v) for k, v in kwargs.items()}, None
    if isinstance(weights, Weights):
        entry: Weights | None = weights
        if entry.arch != arch:
            raise ValueError(f"weights: {entry.key} are weights of {entry.arch}, not of {arch}")
    elif isinstance(weights, str) and weights in REGISTRY.get(arch, {}):
        entry = REGISTRY[arch][weights]
    elif _looks_like_path(weights):
        entry = None
    elif isinstance(weights, str):
        entry = get_weights(arch, weights)  # raises, listing the names that exist
    else:
        raise TypeError(
            f"weights: expected None, a name ({_names_text(arch)}), a Weights entry or the path "
            f"of an .npz file, got {type(weights).__name__}"
        )
    if entry is not None:
        if not entry.path().is_file():
            raise FileNotFoundError(
                f"weights: {entry.file}, the file of {entry.arch}(weights={entry.name!r}), is not "
                f"installed at {entry.path()}; build it with scripts/build_weights.py"
            )
        state, _ = read_npz(entry.path(), sha256=entry.sha256)
        fixed: Mapping[str, Any] = entry.model_kwargs
        source = f"the {entry.name!r} weights"
    else:
        state, meta = read_npz(weights)
        if meta.get("arch", arch) != arch:
            raise ValueError(f"weights: {weights} holds weights of {meta['arch']}, not of {arch}")
        fixed = meta.get("model_kwargs", {})
        source = f"the weights in {weights}"
    out = {}
    for k, v in kwargs.items():
        if k in fixed and v is not None and v != fixed[k]:
            raise ValueError(f"{k}: {source} need {k}={fixed[k]!r}, got {v!r}")
        out[k] = fixed[k] if (v is None and k in fixed) else (defaults[k] if v is None else v)
    return out, state


def read_training_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A training checkpoint (``last.ckpt``, or the run folder holding it) as a dict whose
    ``"model"`` entry is the state dict (name -> array). The current format is read by
    :func:`minicnn.checkpoint.load_checkpoint`, an older pickled one by an unpickler that
    rebuilds only arrays and plain values: reading runs no code from the file."""
    from minicnn import checkpoint

    path = Path(path)
    if path.is_dir():
        path = path / checkpoint.CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: no file at {path}")
    if zipfile.is_zipfile(path):
        state = checkpoint.load_checkpoint(path)
    else:
        with open(path, "rb") as f:
            state = checkpoint.NumpyOnlyUnpickler(f).load()
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise ValueError(f"checkpoint: {path} has no 'model' state dict")
    return state


def describe(entries: Sequence[Weights] | None = None) -> str:
    """A table of the shipped weights: name, accuracy, test set, file size."""
    rows = []
    for w in entries or [w for e in REGISTRY.values() for w in e.values()]:
        path = w.path()
        size = f"{path.stat().st_size / 1024:.0f} KiB" if path.is_file() else "missing"
        rows.append(
            f"{w.arch}(weights={w.name!r}): {100 * w.accuracy:.2f}% on {w.test_set}, {size}"
        )
    return "\n".join(rows)
