"""Downloads: mirrors, checksums, interrupted and damaged files (the network is replaced by
local bytes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from minicnn.data import (
    MNIST,
    ChecksumError,
    DownloadError,
)
from minicnn.data import download as dl
from minicnn.data.mnist import IMAGES_MAGIC, LABELS_MAGIC

from .files import (
    TRAIN_FILES,
    FakeNetwork,
    gz,
    idx_bytes,
    md5_of,
    tiny_mnist,
)


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
