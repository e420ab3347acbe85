"""Datasets: real MNIST / Fashion-MNIST, IDX parsing and its failures, CIFAR-10, downloads."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from minicnn.data import (
    CIFAR10,
    MNIST,
    ArrayDataset,
    ChecksumError,
    DatasetNotFoundError,
    DownloadError,
    FashionMNIST,
    data_dir,
    default_data_dir,
    read_idx,
)
from minicnn.data import download as dl
from minicnn.data.mnist import IMAGES_MAGIC, LABELS_MAGIC

SHARED = Path(os.environ.get("MINICNN_SHARED_DATASETS", "/work/shared/datasets"))
needs_shared = pytest.mark.skipif(
    not (SHARED / "mnist").is_dir() or not (SHARED / "fashion-mnist").is_dir(),
    reason=f"the original MNIST / Fashion-MNIST files are not in {SHARED}",
)

TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# ----- helpers: tiny files in the original formats ------------------------------------------


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


# ----- the data directory -------------------------------------------------------------------


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


# ----- real MNIST and Fashion-MNIST ---------------------------------------------------------

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


# ----- IDX parsing --------------------------------------------------------------------------


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


# ----- MNIST classes on files the tests write ------------------------------------------------


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


# ----- downloads (the network is replaced by local bytes) -----------------------------------


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


def _serve_tiny_mnist(monkeypatch, mirror: str = MNIST.mirrors[0]) -> tuple[FakeNetwork, dict]:
    images, labels = tiny_mnist(6)
    bodies = {
        TRAIN_FILES[0]: gz(idx_bytes(IMAGES_MAGIC, images)),
        TRAIN_FILES[1]: gz(idx_bytes(LABELS_MAGIC, labels)),
    }
    monkeypatch.setattr(MNIST, "md5", {**MNIST.md5, **{k: md5_of(v) for k, v in bodies.items()}})
    net = FakeNetwork({mirror + name: body for name, body in bodies.items()})
    monkeypatch.setattr(dl, "fetch", net)
    return net, bodies


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or "part" in p.name)


def test_download_fetches_verifies_and_writes_the_files(tmp_path, monkeypatch):
    net, bodies = _serve_tiny_mnist(monkeypatch)
    ds = MNIST(root=tmp_path, download=True)
    assert len(ds) == 6
    assert net.asked == [MNIST.mirrors[0] + name for name in TRAIN_FILES]
    for name, body in bodies.items():
        assert (tmp_path / "mnist" / name).read_bytes() == body
    assert _leftovers(tmp_path / "mnist") == []
    MNIST(root=tmp_path, download=True)  # already there: nothing fetched again
    assert len(net.asked) == 2


def test_download_tries_the_next_mirror(tmp_path, monkeypatch):
    net, _ = _serve_tiny_mnist(monkeypatch, mirror=MNIST.mirrors[1])
    assert len(MNIST(root=tmp_path, download=True)) == 6
    assert net.asked[:2] == [MNIST.mirrors[0] + TRAIN_FILES[0], MNIST.mirrors[1] + TRAIN_FILES[0]]


def test_download_checksum_mismatch_leaves_no_file(tmp_path, monkeypatch):
    net, bodies = _serve_tiny_mnist(monkeypatch)
    for url in net.files:
        net.files[url] = b"<html>not the file</html>"
    with pytest.raises(ChecksumError, match="MD5 of the download is") as e:
        MNIST(root=tmp_path, download=True)
    assert TRAIN_FILES[0] in str(e.value)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_interrupted_download_leaves_no_file(tmp_path, monkeypatch):
    net, _ = _serve_tiny_mnist(monkeypatch)
    for url in net.files:
        net.files[url] = ConnectionResetError("connection reset")
    with pytest.raises(DownloadError, match="connection reset") as e:
        MNIST(root=tmp_path, download=True)
    assert all(m + TRAIN_FILES[0] in str(e.value) for m in MNIST.mirrors)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_download_replaces_a_damaged_file(tmp_path, monkeypatch):
    net, bodies = _serve_tiny_mnist(monkeypatch)
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / TRAIN_FILES[0]).write_bytes(b"damaged")
    (tmp_path / "mnist" / TRAIN_FILES[1]).write_bytes(bodies[TRAIN_FILES[1]])
    with pytest.raises(ChecksumError):
        MNIST(root=tmp_path)
    assert len(MNIST(root=tmp_path, download=True)) == 6
    assert net.asked == [MNIST.mirrors[0] + TRAIN_FILES[0]]  # only the damaged file
    assert (tmp_path / "mnist" / TRAIN_FILES[0]).read_bytes() == bodies[TRAIN_FILES[0]]


def test_download_file_reports_every_failed_url(tmp_path, monkeypatch):
    monkeypatch.setattr(dl, "fetch", FakeNetwork({}))
    urls = ["https://a.invalid/x", "https://b.invalid/x"]
    with pytest.raises(DownloadError, match="no route") as e:
        dl.download_file(urls, tmp_path / "sub" / "x", "0" * 32)
    assert all(url in str(e.value) for url in urls)
    assert list((tmp_path / "sub").iterdir()) == []


# ----- CIFAR-10 -----------------------------------------------------------------------------


def cifar_records(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), [int(v) for v in rng.integers(0, 10, n)]


def write_cifar_python(folder: Path, n: int = 3) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Write the python layout as Python 2 did: protocol 2, bytes keys."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        data, labels = cifar_records(n, seed=i)
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        written[name] = (data, labels)
    meta = {b"label_names": [c.encode() for c in CIFAR10.classes], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return written


def write_cifar_binary(folder: Path, n: int = 3) -> dict[str, tuple[np.ndarray, list[int]]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        data, labels = cifar_records(n, seed=100 + i)
        records = np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1)
        (folder / f"{name}.bin").write_bytes(records.tobytes())
        written[name] = (data, labels)
    return written


def _expected(written: dict, train: bool) -> tuple[np.ndarray, np.ndarray]:
    names = [f"data_batch_{k}" for k in range(1, 6)] if train else ["test_batch"]
    data = np.concatenate([written[n][0] for n in names]).reshape(-1, 3, 32, 32)
    return data, np.concatenate([written[n][1] for n in names])


@pytest.mark.parametrize("layout", ["python", "binary"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "test"])
def test_cifar10_reads_both_layouts(tmp_path, layout, train):
    if layout == "python":
        written = write_cifar_python(tmp_path / "cifar-10-batches-py")
    else:
        written = write_cifar_binary(tmp_path / "cifar-10-batches-bin")
    ds = CIFAR10(root=tmp_path, train=train, verify_md5=False)
    data, labels = _expected(written, train)
    assert ds.data.shape == ((15 if train else 3), 3, 32, 32) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data, data)
    np.testing.assert_array_equal(ds.targets, labels)
    # Planes: the first 1024 bytes of a record are the red channel, row-major.
    first = written["data_batch_1" if train else "test_batch"][0][0]
    np.testing.assert_array_equal(ds[0][0][0], first[:1024].reshape(32, 32))
    np.testing.assert_array_equal(ds[0][0][2, 31], first[-32:])
    assert ds.classes[0] == "airplane" and ds.targets.dtype == np.int64


def test_cifar10_prefers_the_python_layout(tmp_path):
    py = write_cifar_python(tmp_path / "cifar-10-batches-py")
    write_cifar_binary(tmp_path / "cifar-10-batches-bin")
    ds = CIFAR10(root=tmp_path, train=False, verify_md5=False)
    np.testing.assert_array_equal(ds.data, _expected(py, False)[0])


def test_cifar10_checks_md5_of_python_batches(tmp_path):
    write_cifar_python(tmp_path / "cifar-10-batches-py")
    with pytest.raises(ChecksumError, match="test_batch: MD5 is"):
        CIFAR10(root=tmp_path, train=False)


def test_cifar10_truncated_binary_batch(tmp_path):
    write_cifar_binary(tmp_path / "cifar-10-batches-bin")
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match="not a whole number of 3073-byte records") as e:
        CIFAR10(root=tmp_path, train=False)
    assert str(path) in str(e.value)


def test_cifar10_rejects_pickles_that_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo this must not run",))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    with pytest.raises(ValueError, match="refusing to load"):
        CIFAR10(root=tmp_path, train=False, verify_md5=False)


def test_cifar10_bad_batch_content(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batch = {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(ValueError, match=r"uint8 \(n, 3072\) array"):
        CIFAR10(root=tmp_path, train=False, verify_md5=False)


def test_cifar10_missing_lists_both_layouts(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        CIFAR10(root=tmp_path, train=True)
    msg = str(e.value)
    assert str(tmp_path) in msg and "download=True" in msg
    for k in range(1, 6):
        assert f"cifar-10-batches-py/data_batch_{k}" in msg
        assert f"cifar-10-batches-bin/data_batch_{k}.bin" in msg


def test_cifar10_download_extracts_the_python_batches(tmp_path, monkeypatch):
    source = tmp_path / "source"
    written = write_cifar_python(source / "cifar-10-batches-py", n=2)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    tarball = buf.getvalue()
    monkeypatch.setattr(CIFAR10, "archive_md5", md5_of(tarball))
    net = FakeNetwork({CIFAR10.url: tarball})
    monkeypatch.setattr(dl, "fetch", net)
    root = tmp_path / "data"
    ds = CIFAR10(root=root, train=True, download=True, verify_md5=False)
    np.testing.assert_array_equal(ds.data, _expected(written, True)[0])
    assert net.asked == [CIFAR10.url]
    names = sorted(p.name for p in (root / "cifar-10-batches-py").iterdir())
    assert names == sorted(CIFAR10.md5)  # the batches and batches.meta, no temporary files
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-batches-py"]  # tarball removed


# ----- ArrayDataset -------------------------------------------------------------------------


def test_array_dataset_indexing_and_per_image_transform():
    data = np.arange(2 * 3 * 2 * 2, dtype=np.uint8).reshape(2, 3, 2, 2)
    ds = ArrayDataset(data, np.array([4, 7]), classes=list("abcdefgh"))
    image, label = ds[-1]
    np.testing.assert_array_equal(image, data[1])
    assert label == 7 and type(label) is int and len(ds) == 2
    flipped = ArrayDataset(data, np.array([4, 7]), transform=lambda im: im[:, :, ::-1])
    np.testing.assert_array_equal(flipped[0][0], data[0][:, :, ::-1])


def test_array_dataset_validates_its_arrays():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        ArrayDataset(np.zeros((2, 3, 4), np.uint8), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="targets: expected shape"):
        ArrayDataset(np.zeros((2, 1, 3, 4), np.uint8), np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="integer labels"):
        ArrayDataset(np.zeros((2, 1, 3, 4), np.uint8), np.zeros(2))
