"""The embedded MNIST sample: size, balance, identity with real MNIST, and the fallback."""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from minicnn.data import MNIST, MNISTSample, load_mnist_or_sample
from minicnn.data.sample import SAMPLE_FILES

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("MINICNN_SHARED_DATASETS", "/work/shared/datasets"))
needs_shared = pytest.mark.skipif(
    not (SHARED / "mnist").is_dir(), reason=f"the original MNIST files are not in {SHARED}"
)


def sample_files() -> list:
    folder = importlib.resources.files("minicnn.data") / "sample"
    return [p for p in folder.iterdir() if p.is_file()]


def record() -> dict:
    folder = importlib.resources.files("minicnn.data") / "sample"
    return json.loads((folder / "mnist_sample.json").read_text())


@pytest.mark.parametrize("train, N, per_class", [(True, 2000, 200), (False, 500, 50)])
def test_sample_is_class_balanced(train, N, per_class):
    ds = MNISTSample(train=train)
    assert len(ds) == N
    assert ds.data.shape == (N, 1, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.dtype == np.int64
    assert np.bincount(ds.targets, minlength=10).tolist() == [per_class] * 10
    assert ds.classes == MNIST.classes
    assert len(record()["train_indices" if train else "test_indices"]) == N


def test_sample_is_under_one_megabyte():
    files = sample_files()
    names = {p.name for p in files}
    assert {*SAMPLE_FILES[True], *SAMPLE_FILES[False], "mnist_sample.json"} <= names
    assert sum(len(p.read_bytes()) for p in files) < 1_000_000


def test_sample_records_its_sources():
    rec = record()
    assert rec["source_md5"] == MNIST.md5
    assert "first 200" in rec["rule"] and "first 50" in rec["rule"]


def test_sample_is_declared_as_package_data():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"minicnn.data" = ["sample/*"]' in text


@needs_shared
@pytest.mark.parametrize("train, k", [(True, 200), (False, 50)])
def test_sample_images_are_the_first_k_of_each_class_of_real_mnist(train, k):
    real = MNIST(root=SHARED, train=train)
    sample = MNISTSample(train=train)
    idx = np.array(record()["train_indices" if train else "test_indices"])
    expected = np.sort(np.concatenate([np.flatnonzero(real.targets == c)[:k] for c in range(10)]))
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_array_equal(sample.data, real.data[idx])
    np.testing.assert_array_equal(sample.targets, real.targets[idx])


@needs_shared
def test_build_script_reproduces_the_shipped_bytes(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "build_mnist_sample", ROOT / "scripts" / "build_mnist_sample.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.OUT = tmp_path
    assert script.main(["build_mnist_sample.py", str(SHARED / "mnist")]) == 0
    shipped = {p.name: p.read_bytes() for p in sample_files()}
    built = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert built == shipped


def test_fallback_to_the_sample_warns_once_per_call(tmp_path):
    with pytest.warns(UserWarning) as caught:
        ds = load_mnist_or_sample(root=tmp_path, train=False)
    assert isinstance(ds, MNISTSample) and len(ds) == 500
    (w,) = caught
    msg = str(w.message)
    assert "full MNIST not found in" in msg and str(tmp_path / "mnist") in msg
    assert "embedded 500-image test sample" in msg
    with pytest.warns(UserWarning, match="embedded 2,000-image training sample"):
        load_mnist_or_sample(root=tmp_path, train=True)


@needs_shared
def test_real_mnist_is_preferred_when_present():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_mnist_or_sample(root=SHARED, train=False)
    assert isinstance(ds, MNIST) and len(ds) == 10000


def test_damaged_mnist_is_an_error_not_a_fallback(tmp_path):
    (tmp_path / "mnist").mkdir()
    for name in MNIST.splits[False]:
        (tmp_path / "mnist" / name).write_bytes(b"damaged")
    with pytest.raises(RuntimeError, match="MD5 is"):
        load_mnist_or_sample(root=tmp_path, train=False)
