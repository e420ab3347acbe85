"""MNIST and Fashion-MNIST: the data directory, the real files, IDX parsing and its failures,
and the dataset classes on files the tests write."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from minicnn.data import (
    MNIST,
    ChecksumError,
    DatasetNotFoundError,
    FashionMNIST,
    data_dir,
    default_data_dir,
    read_idx,
)
from minicnn.data import download as dl
from minicnn.data.mnist import IMAGES_MAGIC, LABELS_MAGIC

from .files import (
    TEST_FILES,
    TRAIN_FILES,
    gz,
    idx_bytes,
    tiny_mnist,
    write_tiny_mnist,
)

SHARED = Path(os.environ.get("MINICNN_SHARED_DATASETS", "/work/shared/datasets"))
needs_shared = pytest.mark.skipif(
    not (SHARED / "mnist").is_dir() or not (SHARED / "fashion-mnist").is_dir(),
    reason=f"the original MNIST / Fashion-MNIST files are not in {SHARED}",
)


def test_data_dir_prefers_root_then_env_then_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("MINICNN_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_dir(tmp_path / "root") == tmp_path / "root"
    assert data_dir() == tmp_path / "env"
    monkeypatch.delenv("MINICNN_DATA")
    assert data_dir() == default_data_dir() == tmp_path / "xdg" / "minicnn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".cache" / "minicnn"


MNIST_COUNTS = {
    True: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    False: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
# Sums of all pixel values of the published files: a checksum of the decoded images.
PIXEL_SUMS = {
    ("MNIST", True): 1567298545,
    ("MNIST", False): 264923200,
    ("FashionMNIST", True): 3431114169,
    ("FashionMNIST", False): 573469082,
}


@needs_shared
@pytest.mark.parametrize("cls", [MNIST, FashionMNIST], ids=["mnist", "fashion-mnist"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "test"])
def test_real_files_decode_to_the_published_dataset(monkeypatch, cls, train):
    monkeypatch.setenv("MINICNN_DATA", str(SHARED))
    ds = cls(train=train)
    N = 60000 if train else 10000
    assert len(ds) == N
    assert ds.data.shape == (N, 1, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.shape == (N,) and ds.targets.dtype == np.int64
    counts = np.bincount(ds.targets, minlength=10).tolist()
    if cls is MNIST:
        assert counts == MNIST_COUNTS[train]
    else:
        assert counts == [N // 10] * 10
    assert int(ds.data.sum(dtype=np.int64)) == PIXEL_SUMS[(cls.__name__, train)]
    image, label = ds[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.uint8 and isinstance(label, int)
    assert len(ds.classes) == 10
    assert ds.root == SHARED


@needs_shared
def test_first_mnist_training_digit_is_a_five(monkeypatch):
    monkeypatch.setenv("MINICNN_DATA", str(SHARED))
    assert MNIST(train=True)[0][1] == 5
    assert FashionMNIST(train=False).classes[9] == "Ankle boot"


@needs_shared
def test_md5_of_a_file_is_computed_once_per_process(monkeypatch):
    calls = []
    real_md5 = hashlib.md5

    def counting_md5(*args, **kwargs):
        calls.append(1)
        return real_md5(*args, **kwargs)

    dl._md5_cache.clear()
    monkeypatch.setattr(dl.hashlib, "md5", counting_md5)
    MNIST(root=SHARED, train=False)
    MNIST(root=SHARED, train=False)
    assert len(calls) == 2  # the images file and the labels file, once each


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "plain"])
def test_read_idx_round_trip(tmp_path, compress):
    images, _ = tiny_mnist(3)
    raw = idx_bytes(IMAGES_MAGIC, images)
    path = tmp_path / ("x.gz" if compress else "x")
    path.write_bytes(gz(raw) if compress else raw)
    got = read_idx(path, IMAGES_MAGIC, (None, 28, 28))
    np.testing.assert_array_equal(got, images)
    assert got.dtype == np.uint8 and got.flags.writeable


def _write(tmp_path: Path, raw: bytes, name: str = "f-idx3-ubyte.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(gz(raw))
    return path


def test_read_idx_bad_magic_names_the_file(tmp_path):
    _, labels = tiny_mnist(3)
    path = _write(tmp_path, idx_bytes(LABELS_MAGIC, labels))
    with pytest.raises(ValueError, match=r"bad magic number 2049 .*expected 2051") as e:
        read_idx(path, IMAGES_MAGIC)
    assert str(path) in str(e.value)
    path = _write(tmp_path, b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(path)


def test_read_idx_wrong_dimensions(tmp_path):
    small = np.zeros((2, 27, 28), np.uint8)
    path = _write(tmp_path, idx_bytes(IMAGES_MAGIC, small))
    with pytest.raises(ValueError, match=r"dimensions \(2, 27, 28\), expected \('any', 28, 28\)"):
        read_idx(path, IMAGES_MAGIC, (None, 28, 28))


def test_read_idx_truncated_data(tmp_path):
    images, _ = tiny_mnist(3)
    path = _write(tmp_path, idx_bytes(IMAGES_MAGIC, images)[:-100])
    with pytest.raises(
        ValueError, match=r"truncated: .* need 2352 data bytes, the file holds 2252"
    ):
        read_idx(path, IMAGES_MAGIC)


def test_read_idx_truncated_header(tmp_path):
    with pytest.raises(ValueError, match="too short"):
        read_idx(_write(tmp_path, b"\x00\x00"), IMAGES_MAGIC)
    with pytest.raises(ValueError, match="truncated header"):
        read_idx(_write(tmp_path, IMAGES_MAGIC.to_bytes(4, "big") + b"\x00\x00\x00\x03"))


def test_read_idx_trailing_bytes(tmp_path):
    _, labels = tiny_mnist(3)
    path = _write(tmp_path, idx_bytes(LABELS_MAGIC, labels) + b"\x00")
    with pytest.raises(ValueError, match="trailing bytes"):
        read_idx(path, LABELS_MAGIC)


def test_read_idx_damaged_gzip(tmp_path):
    images, _ = tiny_mnist(3)
    packed = gz(idx_bytes(IMAGES_MAGIC, images))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="damaged gzip stream") as e:
        read_idx(cut, IMAGES_MAGIC)
    assert str(cut) in str(e.value)
    not_gzip = tmp_path / "plain.gz"
    not_gzip.write_bytes(idx_bytes(IMAGES_MAGIC, images))
    with pytest.raises(ValueError, match="damaged gzip stream"):
        read_idx(not_gzip, IMAGES_MAGIC)
    bad_crc = bytearray(packed)
    bad_crc[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    crc = tmp_path / "crc.gz"
    crc.write_bytes(bytes(bad_crc))
    with pytest.raises(ValueError, match="damaged gzip stream"):
        read_idx(crc, IMAGES_MAGIC)


@pytest.mark.parametrize("train", [True, False], ids=["train", "test"])
def test_mnist_reads_tiny_files(tmp_path, train):
    images, labels = write_tiny_mnist(tmp_path / "mnist", train=train)
    ds = MNIST(root=tmp_path, train=train, verify_md5=False)
    np.testing.assert_array_equal(ds.data[:, 0], images)
    np.testing.assert_array_equal(ds.targets, labels)
    assert ds.targets.dtype == np.int64 and len(ds) == 6
    assert "MNIST(6 images" in repr(ds)


def test_mnist_reads_decompressed_files(tmp_path):
    images, labels = tiny_mnist(4)
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / TRAIN_FILES[0][:-3]).write_bytes(idx_bytes(IMAGES_MAGIC, images))
    (tmp_path / "mnist" / TRAIN_FILES[1][:-3]).write_bytes(idx_bytes(LABELS_MAGIC, labels))
    ds = MNIST(root=tmp_path)  # no published MD5 for decompressed files: not checked
    np.testing.assert_array_equal(ds.data[:, 0], images)


def test_fashion_mnist_uses_its_own_folder(tmp_path):
    write_tiny_mnist(tmp_path / "fashion-mnist")
    assert len(FashionMNIST(root=tmp_path, verify_md5=False)) == 6
    with pytest.raises(DatasetNotFoundError):
        MNIST(root=tmp_path)


def test_image_and_label_counts_must_agree(tmp_path):
    folder = tmp_path / "mnist"
    write_tiny_mnist(folder, n=6)
    (folder / TRAIN_FILES[1]).write_bytes(gz(idx_bytes(LABELS_MAGIC, np.zeros(5, np.uint8))))
    with pytest.raises(ValueError, match="holds 6 images but .* holds 5 labels") as e:
        MNIST(root=tmp_path, verify_md5=False)
    assert TRAIN_FILES[0] in str(e.value) and TRAIN_FILES[1] in str(e.value)


def test_swapped_files_are_caught_by_the_magic_number(tmp_path):
    folder = tmp_path / "mnist"
    write_tiny_mnist(folder)
    a, b = (folder / name for name in TRAIN_FILES)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    with pytest.raises(ValueError, match="bad magic number"):
        MNIST(root=tmp_path, verify_md5=False)


def test_labels_out_of_range_are_rejected(tmp_path):
    folder = tmp_path / "mnist"
    write_tiny_mnist(folder)
    bad = np.array([0, 1, 2, 3, 4, 12], np.uint8)
    (folder / TRAIN_FILES[1]).write_bytes(gz(idx_bytes(LABELS_MAGIC, bad)))
    with pytest.raises(ValueError, match=r"labels must lie in 0..9, found 1 outside \(first: 12\)"):
        MNIST(root=tmp_path, verify_md5=False)


def test_md5_mismatch_of_a_canonical_file_is_reported(tmp_path):
    write_tiny_mnist(tmp_path / "mnist")
    with pytest.raises(ChecksumError, match="MD5 is [0-9a-f]{32}, expected f68b3c2d") as e:
        MNIST(root=tmp_path)
    assert str(tmp_path / "mnist" / TRAIN_FILES[0]) in str(e.value)


def test_missing_files_are_listed_in_one_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MINICNN_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(train=False)
    msg = str(e.value)
    assert isinstance(e.value, FileNotFoundError)
    assert str(tmp_path / "mnist") in msg and "$MINICNN_DATA" in msg
    assert all(name in msg for name in TEST_FILES)
    assert "download=True" in msg and "root=" in msg and "MINICNN_DATA=" in msg
    # One present, one missing: only the missing one is named.
    images, _ = tiny_mnist(2)
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / TEST_FILES[0]).write_bytes(gz(idx_bytes(IMAGES_MAGIC, images)))
    with pytest.raises(DatasetNotFoundError, match="1 file") as e:
        MNIST(train=False)
    assert TEST_FILES[1] in str(e.value) and TEST_FILES[0] not in str(e.value)
