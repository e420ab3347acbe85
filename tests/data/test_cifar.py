"""CIFAR-10: both file layouts, checksums, damaged and unsafe batches, the download."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from minicnn.data import (
    CIFAR10,
    ChecksumError,
    DatasetNotFoundError,
)
from minicnn.data import download as dl

from .files import (
    FakeNetwork,
    md5_of,
)


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
