"""The shipped checkpoints: registry, files, records, loading, and accuracy."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minicnn as mc
from minicnn import data, models
from minicnn.models import weights as W
from minicnn.training import evaluate
from tests.conftest import to_numpy

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = [w for entries in W.REGISTRY.values() for w in entries.values()]
IDS = [w.key for w in ENTRIES]

# Accuracy on the embedded 500-image test sample (measured when the files were built, minus a
# margin of about two images): the check that runs where the full test sets are absent.
SAMPLE_THRESHOLDS = {"lenet5-mnist": 0.99, "lenet5-mnist-0-4": 0.99}
FULL_THRESHOLDS = {
    "lenet5-mnist": 0.990,
    "lenet5-mnist-0-4": 0.995,
    "resnet20-fashion-mnist": 0.949,
}


def _built(entry: W.Weights) -> W.Weights:
    if not entry.path().is_file():
        pytest.skip(
            f"{entry.file} is not built yet: python scripts/build_weights.py convert {entry.key} "
            f"RUN/last.ckpt"
        )
    return entry


def _full_test_set(entry: W.Weights):
    try:
        return entry.test_set_of()
    except data.DatasetNotFoundError as e:
        pytest.skip(f"full test set absent ({e.__class__.__name__}); set MINICNN_DATA")


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_file_matches_registry_and_record(entry):
    entry = _built(entry)
    assert W.sha256_of(entry.path()) == entry.sha256
    record = json.loads((ROOT / entry.record).read_text())
    assert record["sha256"] == entry.sha256 and record["name"] == entry.key
    assert record["accuracy"] == pytest.approx(entry.accuracy, abs=5e-5)
    assert record["accuracy"] >= FULL_THRESHOLDS[entry.key]
    for key in ("command", "seed", "backend"):
        assert record["training"][key] is not None, key
    assert record["machine"]["date"] and record["machine"]["cpu"]
    state, meta = W.read_npz(entry.path())
    assert meta["arch"] == entry.arch and meta["model_kwargs"] == dict(entry.model_kwargs)
    assert all(a.dtype in (np.float32, np.int64) for a in state.values())


def test_all_checkpoints_together_fit_in_two_mebibytes():
    folder = ROOT / "minicnn" / "models" / "checkpoints"
    total = sum(p.stat().st_size for p in folder.glob("*.npz"))
    assert 0 < total <= 2 * 1024 * 1024, total


@pytest.mark.parametrize("key", ["lenet5-mnist", "lenet5-mnist-0-4"])
def test_lenet_checkpoints_on_the_embedded_sample(backend_name, key):
    entry = next(w for w in ENTRIES if w.key == key)
    model = models.lenet5(weights=_built(entry).name)
    assert model.classifier[5].out_features == entry.num_classes
    test = entry.test_set_of(sample=True)
    result = evaluate(model, data.DataLoader(test, 250, transform=entry.transforms()))
    assert result["samples"] == (500 if entry.digits is None else 250)
    assert result["accuracy"] >= SAMPLE_THRESHOLDS[key], result["accuracy"]


@pytest.mark.parametrize(
    "key",
    [
        "lenet5-mnist",
        "lenet5-mnist-0-4",
        pytest.param("resnet20-fashion-mnist", marks=pytest.mark.slow),
    ],
)
def test_checkpoint_accuracy_on_the_full_test_set(key):
    """LeNet-5 >= 99.0% on MNIST, the digits-0-4 net >= 99.5% on test digits 0-4, ResNet-20
    >= 94.8% on Fashion-MNIST, each its recorded accuracy, with the fastest backend here."""
    entry = _built(next(w for w in ENTRIES if w.key == key))
    test = _full_test_set(entry)
    name = "numba" if mc.unavailable_reason("numba") is None else "numpy"
    with mc.use_backend(name):
        model = getattr(models, entry.arch)(weights=entry.name)
        result = evaluate(model, data.DataLoader(test, 500, transform=entry.transforms()))
    assert result["samples"] == (5139 if entry.digits else 10000)
    assert result["accuracy"] >= FULL_THRESHOLDS[key], result["accuracy"]
    assert result["accuracy"] == pytest.approx(entry.accuracy, abs=2e-4)


def test_unknown_names_list_the_ones_that_exist():
    with pytest.raises(ValueError, match=r"weights: no weights named 'cifar10' for lenet5; the "
                       r"weights of lenet5 are 'mnist', 'mnist-0-4'"):  # fmt: skip
        models.lenet5(weights="cifar10")
    with pytest.raises(
        ValueError, match=r"resnet56 has no shipped weights \(shipped: .*'lenet5-mnist'"
    ):
        models.resnet56(weights="fashion-mnist")
    with pytest.raises(TypeError, match="weights: expected None, a name"):
        models.lenet5(weights=3)
    assert W.list_weights("lenet5") == ["mnist", "mnist-0-4"]
    assert "resnet20-fashion-mnist" in W.list_weights()


def test_arguments_must_agree_with_the_checkpoint():
    entry = _built(W.get_weights("lenet5", "mnist-0-4"))
    with pytest.raises(
        ValueError, match="num_classes: the 'mnist-0-4' weights need num_classes=5, got 10"
    ):
        models.lenet5(num_classes=10, weights=entry.name)
    with pytest.raises(ValueError, match="variant: .* need variant='relu', got 'classic'"):
        models.lenet5(variant="classic", weights="mnist-0-4")
    assert models.lenet5(num_classes=5, weights="mnist-0-4").classifier[5].out_features == 5
    assert models.lenet5().classifier[5].out_features == 10  # defaults unchanged
    assert models.resnet20().conv1.in_channels == 3


def test_a_changed_file_fails_its_sha256_check(monkeypatch, tmp_path):
    entry = _built(W.get_weights("lenet5", "mnist"))
    wrong = dataclasses.replace(entry, sha256="ab" * 32)
    monkeypatch.setitem(W.REGISTRY["lenet5"], "mnist", wrong)
    with pytest.raises(W.WeightsError, match=rf"has SHA-256 {entry.sha256}, but the registry "
                       rf"expects {'ab' * 32}: the file is damaged or was replaced"):  # fmt: skip
        models.lenet5(weights="mnist")
    damaged = tmp_path / "damaged.npz"
    raw = bytearray(entry.path().read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    with pytest.raises(W.WeightsError, match="damaged or was replaced"):
        W.read_npz(damaged, sha256=entry.sha256)


def test_a_missing_file_says_how_to_build_it(monkeypatch, tmp_path):
    entry = W.get_weights("lenet5", "mnist")
    monkeypatch.setattr(W.Weights, "path", lambda self: tmp_path / self.file)
    with pytest.raises(FileNotFoundError, match=r"weights: lenet5-mnist.npz, the file of "
                       r"lenet5\(weights='mnist'\), is not installed .* scripts/build_weights.py"):  # fmt: skip
        models.lenet5(weights=entry.name)


def test_weights_from_an_npz_path(backend_name, tmp_path):
    mc.manual_seed(3)
    source = models.lenet5(num_classes=7)
    path = tmp_path / "mine.npz"
    sha = W.save_npz(
        path, source.state_dict(), {"arch": "lenet5", "model_kwargs": {"num_classes": 7}}
    )
    assert W.save_npz(tmp_path / "again.npz", source.state_dict(), {"arch": "lenet5", "model_kwargs": {"num_classes": 7}}) == sha  # fmt: skip
    for weights in (path, str(path)):
        loaded = models.lenet5(weights=weights)  # num_classes comes from the file
        for (k, a), (_, b) in zip(source.state_dict().items(), loaded.state_dict().items()):
            np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=k)
    plain = tmp_path / "plain.npz"  # np.savez without metadata: the caller gives the arguments
    np.savez(plain, **{k: to_numpy(v) for k, v in source.state_dict().items()})
    assert models.lenet5(num_classes=7, weights=plain).classifier[5].out_features == 7
    with pytest.raises(ValueError, match="weights: .* holds weights of lenet5, not of resnet20"):
        models.resnet20(weights=path)
    with pytest.raises(FileNotFoundError, match="weights: no file at .*missing.npz"):
        models.lenet5(weights=tmp_path / "missing.npz")
    objects = tmp_path / "objects.npz"
    np.savez(objects, bad=np.array([{"a": 1}], dtype=object))
    with pytest.raises(W.WeightsError, match="is not an .npz file of arrays"):
        W.read_npz(objects)


def test_training_checkpoints_are_read_without_running_code(tmp_path):
    good = tmp_path / "last.ckpt"
    state = {"model": {"w": np.arange(6.0).reshape(2, 3)}, "epoch": 2, "meta": {"seed": 0}}
    good.write_bytes(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    read = W.read_training_checkpoint(tmp_path)  # the folder or the file
    np.testing.assert_array_equal(read["model"]["w"], state["model"]["w"])

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad = tmp_path / "evil.ckpt"
    bad.write_bytes(pickle.dumps({"model": {}, "x": Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="refused to load (posix|os|nt).system"):
        W.read_training_checkpoint(bad)


def test_current_training_checkpoints_are_read_too(tmp_path):
    from minicnn.checkpoint import save_checkpoint

    model = models.lenet5()
    save_checkpoint(tmp_path / "last.ckpt", model=model, epoch=3, meta={"seed": 1})
    read = W.read_training_checkpoint(tmp_path)
    assert read["epoch"] == 3 and read["meta"] == {"seed": 1}
    for name, t in model.state_dict().items():
        np.testing.assert_array_equal(read["model"][name], to_numpy(t))


def test_preprocess_and_unnormalize_are_inverse():
    entry = W.get_weights("lenet5", "mnist")
    images = np.random.default_rng(0).integers(0, 256, size=(2, 1, 28, 28), dtype=np.uint8)
    x = entry.preprocess(images)
    assert x.shape == (2, 1, 32, 32) and x.dtype == np.float32
    back = entry.unnormalize(x)[:, :, 2:-2, 2:-2]
    np.testing.assert_allclose(back, images / 255, atol=1e-6)


@pytest.mark.slow
def test_a_built_wheel_contains_the_checkpoints(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("minicnn-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for entry in ENTRIES:
        if entry.path().is_file():
            assert f"minicnn/models/checkpoints/{entry.file}" in names
    assert "minicnn/viz/__init__.py" in names and "minicnn/cli_viz.py" in names


def test_npz_round_trip_keeps_scalar_buffers(tmp_path):
    """BatchNorm's num_batches_tracked is a 0-d int64 buffer: it stays 0-d and int64."""
    source = models.resnet20(in_channels=1)
    source.bn1.num_batches_tracked.array[...] = 7
    path = tmp_path / "r.npz"
    W.save_npz(path, source.state_dict(), {"arch": "resnet20", "model_kwargs": {"in_channels": 1}})
    state, _ = W.read_npz(path)
    assert state["bn1.num_batches_tracked"].shape == () and state["bn1.num_batches_tracked"] == 7
    loaded = models.resnet20(weights=path)
    assert loaded.conv1.in_channels == 1
    for (k, a), (_, b) in zip(source.state_dict().items(), loaded.state_dict().items()):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=k)
