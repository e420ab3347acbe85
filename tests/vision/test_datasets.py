"""minicnn.vision.datasets: torchvision's arguments, items and attributes; where the files are
looked for (torchvision's layout, minicnn's, $MINICNN_DATA)."""

from pathlib import Path

import numpy as np
import pytest

import minicnn
from minicnn.vision import datasets, transforms

PIL = pytest.importorskip("PIL.Image", reason="items are PIL images where Pillow is installed")


def write_idx(
    folder: Path, train: bool, n: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Uncompressed IDX files (the names torchvision's download leaves in MNIST/raw)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    prefix = "train" if train else "t10k"
    folder.mkdir(parents=True, exist_ok=True)
    header = (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in images.shape)
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.tobytes())
    header = (2049).to_bytes(4, "big") + n.to_bytes(4, "big")
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(header + labels.tobytes())
    return images, labels


@pytest.mark.parametrize(
    "cls, folder", [(datasets.MNIST, "MNIST"), (datasets.FashionMNIST, "FashionMNIST")]
)
def test_items_and_attributes_are_torchvisions(tmp_path, cls, folder):
    images, labels = write_idx(tmp_path / folder / "raw", train=False)
    ds = cls(str(tmp_path), train=False)
    assert len(ds) == 5 and ds.train is False
    img, label = ds[2]
    assert isinstance(img, PIL.Image) and img.mode == "L" and img.size == (28, 28)
    assert isinstance(label, int) and label == labels[2]
    np.testing.assert_array_equal(np.asarray(img), images[2])
    assert isinstance(ds.data, minicnn.Tensor) and ds.data.shape == (5, 28, 28)
    assert ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
    assert ds.class_to_idx[ds.classes[3]] == 3 and len(ds.classes) == 10
    assert "Split: Test" in repr(ds)


def test_transforms_apply_per_item(tmp_path):
    images, labels = write_idx(tmp_path / "MNIST" / "raw", train=True)
    ds = datasets.MNIST(
        tmp_path,
        train=True,
        transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]),
        target_transform=lambda y: y + 100,
    )
    x, y = ds[0]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x.numpy()[0], (images[0] / 255 - 0.5) / 0.5, atol=1e-6)
    assert y == labels[0] + 100


def test_minicnn_layout_and_the_environment_variable(tmp_path, monkeypatch):
    write_idx(tmp_path / "mine" / "mnist", train=False, seed=1)
    assert len(datasets.MNIST(tmp_path / "mine", train=False)) == 5  # minicnn's layout
    monkeypatch.setenv("MINICNN_DATA", str(tmp_path / "mine"))
    # a script's root without the data: read from $MINICNN_DATA instead of downloading
    ds = datasets.MNIST(tmp_path / "empty", train=False, download=True)
    assert len(ds) == 5
    monkeypatch.delenv("MINICNN_DATA")
    with pytest.raises(FileNotFoundError, match="MNIST"):
        datasets.MNIST(tmp_path / "empty", train=False)


def test_without_pillow_items_are_arrays(tmp_path, monkeypatch):
    write_idx(tmp_path / "MNIST" / "raw", train=False)
    monkeypatch.setattr(datasets, "_pil", lambda: None)
    img, _ = datasets.MNIST(tmp_path, train=False)[0]
    assert isinstance(img, np.ndarray) and img.shape == (28, 28) and img.dtype == np.uint8


def test_bad_arguments(tmp_path):
    write_idx(tmp_path / "MNIST" / "raw", train=False)
    with pytest.raises(TypeError, match="transform: expected a callable or None"):
        datasets.MNIST(tmp_path, train=False, transform="ToTensor")
