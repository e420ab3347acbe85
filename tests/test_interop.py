"""minicnn.interop: the weights-file readers and writers, the kind of a file told from its first
bytes, and ``weights=`` of the zoo, with every bad input. PyTorch itself is needed only by
tests/models/test_torchvision.py; here a PyTorch file is only recognised, or refused without it."""

from __future__ import annotations

import io
import pickle
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minicnn
from minicnn import interop, models, nn
from minicnn.interop import WeightsFileError
from minicnn.serialization import detect_format

try:
    import safetensors  # noqa: F401

    HAVE_SAFETENSORS = True
except ImportError:
    HAVE_SAFETENSORS = False

needs_safetensors = pytest.mark.skipif(
    not HAVE_SAFETENSORS, reason="safetensors not installed (pip install -e '.[safetensors]')"
)


def small_net() -> nn.Module:
    """Conv, batch norm and a head: parameters, float buffers and an integer buffer."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
    )


def trained_state(model: nn.Module) -> OrderedDict:
    """Distinct, non-default values in every entry, as a state dict of arrays."""
    rng = np.random.default_rng(1)
    state = OrderedDict()
    for key, t in model.state_dict().items():
        if t.dtype.kind == "f":
            state[key] = rng.uniform(0.5, 1.5, t.shape).astype(t.dtype)
        else:
            state[key] = np.full(t.shape, 7, dtype=t.dtype)
    return state


def snapshot(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def assert_same_state(a: dict, b: dict, ordered: bool = True) -> None:
    assert list(a) == list(b) if ordered else sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        assert np.asarray(a[key]).dtype == np.asarray(b[key]).dtype, key


WRITERS = {
    "npz": (interop.save_npz, interop.load_npz),
    "safetensors": (interop.save_safetensors, interop.load_safetensors),
}


@pytest.fixture(params=["npz", pytest.param("safetensors", marks=needs_safetensors)])
def fmt(request: pytest.FixtureRequest) -> str:
    return request.param


def test_round_trip_keeps_names_order_dtypes_and_values(fmt, tmp_path, backend_name):
    save, load = WRITERS[fmt]
    model = small_net()
    model.load_state_dict(trained_state(model))
    path = tmp_path / f"net.{fmt}"
    save(model.state_dict(), path)
    assert detect_format(path) == fmt
    state = load(path)
    assert_same_state(state, snapshot(model), ordered=fmt == "npz")  # safetensors sorts names
    assert_same_state(interop.read_state_dict(path), state)  # the dispatch finds the reader
    fresh = small_net()
    fresh.load_state_dict(state)
    fresh.eval(), model.eval()
    x = minicnn.randn(2, 1, 8, 8)
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_writers_take_file_objects_and_arrays(fmt):
    save, load = WRITERS[fmt]
    state = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array(3, dtype=np.int64)}
    buffer = io.BytesIO()
    save(state, buffer)
    assert_same_state(load(buffer), state, ordered=fmt == "npz")


def test_save_replaces_a_file_whole(fmt, tmp_path):
    save, load = WRITERS[fmt]
    path = tmp_path / f"w.{fmt}"
    save({"a": np.zeros(3, np.float32)}, path)
    save({"b": np.ones(2, np.float32)}, path)
    assert list(load(path)) == ["b"]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_writers_refuse_what_is_not_a_state_dict_of_numbers(tmp_path):
    with pytest.raises(TypeError, match="state_dict: expected a mapping, got list"):
        interop.save_npz([1, 2], tmp_path / "x.npz")
    with pytest.raises(TypeError, match="state_dict: 'names' has dtype <U1; expected numbers"):
        interop.save_npz({"names": np.array(["a"])}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="state_dict: expected str keys, got 3"):
        interop.save_npz({3: np.zeros(1)}, tmp_path / "x.npz")


def _zip(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_a_state_dict_saved_by_minicnn_save_loads_as_weights(tmp_path, backend_name):
    source = small_net()
    source.load_state_dict(trained_state(source))
    minicnn.save(source.state_dict(), tmp_path / "net.pt")  # minicnn's own format: any name
    minicnn.save({"epoch": 3, "model": source.state_dict()}, tmp_path / "checkpoint.pt")
    for name in ("net.pt", "checkpoint.pt"):
        state = interop.read_state_dict(tmp_path / name)
        assert all(type(a) is np.ndarray for a in state.values())
        assert_same_state(state, snapshot(source))
        model = interop.load_weights(small_net(), tmp_path / name)
        assert_same_state(snapshot(model), snapshot(source))
        assert model[0].weight.backend == backend_name
    minicnn.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(WeightsFileError, match="list.pt: expected a state dict .* found a list"):
        interop.read_state_dict(tmp_path / "list.pt")
    data = (tmp_path / "net.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsFileError, match="cut.pt: truncated or damaged"):
        interop.read_state_dict(tmp_path / "cut.pt")


def test_an_empty_npz_is_an_empty_state_dict(tmp_path):
    np.savez(tmp_path / "empty.npz")
    assert detect_format(tmp_path / "empty.npz") == "npz"
    assert interop.read_state_dict(tmp_path / "empty.npz") == OrderedDict()


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        ("empty", b"", "the file is empty"),
        ("unknown", b"weights,1,2,3\n", "neither a PyTorch checkpoint .* nor an .npz"),
        ("pickle", pickle.dumps({"a": 1}), "a pickle of Python objects.* not read"),
    ],
    ids=["empty", "unknown", "pickle"],
)
def test_read_state_dict_names_the_file_and_what_it_is(kind, content, message, tmp_path):
    path = tmp_path / f"{kind}.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsFileError, match=rf"{path.name}: {message}"):
        interop.read_state_dict(path)


def test_a_zip_of_other_things_is_no_state_dict(tmp_path):
    path = tmp_path / "w.zip"
    _zip(path, {"readme.txt": b"hello"})
    with pytest.raises(WeightsFileError, match="a zip archive, but neither a PyTorch"):
        interop.read_state_dict(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at"):
        interop.read_state_dict(tmp_path / "nothing.npz")


def test_truncated_npz(tmp_path):
    path = tmp_path / "w.npz"
    interop.save_npz({"a": np.arange(1000, dtype=np.float32)}, path)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(WeightsFileError, match=r"w.npz: not a readable .npz archive"):
        interop.load_npz(path)


def test_npy_is_not_a_state_dict(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(WeightsFileError, match="an .npy file holds one array"):
        interop.load_npz(path)


def test_npz_of_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(WeightsFileError, match="not a readable .npz archive"):
        interop.load_npz(path)


@needs_safetensors
def test_truncated_safetensors(tmp_path):
    path = tmp_path / "w.safetensors"
    interop.save_safetensors({"a": np.arange(1000, dtype=np.float32)}, path)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(WeightsFileError, match="w.safetensors: not a readable safetensors file"):
        interop.load_safetensors(path)


def test_without_safetensors_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(
        ImportError, match=r"needs the safetensors package .*minicnn\[safetensors\]"
    ):
        interop.save_safetensors({"a": np.zeros(1)}, tmp_path / "w.safetensors")


def test_without_pytorch_a_pytorch_file_gets_the_command_that_converts_it(tmp_path, monkeypatch):
    path = tmp_path / "resnet18.pth"
    _zip(path, {"archive/data.pkl": b"\x80\x02}q\x00.", "archive/version": b"3\n"})
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails, as without it
    with pytest.raises(ImportError) as info:
        interop.read_state_dict(path)
    message = str(info.value)
    assert "resnet18.pth: reading a PyTorch file needs PyTorch" in message
    assert interop.CONVERT_COMMAND in message
    assert (
        "weights_only=True" in interop.CONVERT_COMMAND and "numpy.savez" in interop.CONVERT_COMMAND
    )


def test_load_weights_reads_the_file_into_the_model(tmp_path, backend_name):
    source = models.resnet18(num_classes=7)
    source.load_state_dict(trained_state(source))
    path = tmp_path / "r18.npz"
    interop.save_npz(source.state_dict(), path)
    model = models.resnet18(num_classes=7, weights=path)
    assert_same_state(snapshot(model), snapshot(source))
    assert model.layer1[0].conv1.weight.backend == backend_name


def test_load_weights_keeps_num_batches_tracked_a_file_lacks(tmp_path):
    model = small_net()
    state = trained_state(model)
    del state["1.num_batches_tracked"]  # as PyTorch wrote them before 0.4.1
    path = tmp_path / "old.npz"
    interop.save_npz(state, path)
    interop.load_weights(model, path)
    np.testing.assert_array_equal(model[1].running_mean.numpy(), state["1.running_mean"])
    assert model[1].num_batches_tracked.item() == 0


def test_googlenet_weights_with_aux_heads_load_into_one_without(tmp_path):
    source = models.googlenet(num_classes=5)  # aux heads: what torchvision's files hold
    path = tmp_path / "g.npz"
    interop.save_npz(source.state_dict(), path)
    plain = models.googlenet(num_classes=5, aux_logits=False, weights=path)
    assert plain.aux1 is None and not any(k.startswith("aux") for k in plain.state_dict())
    np.testing.assert_array_equal(plain.fc.weight.numpy(), source.fc.weight.numpy())
    with_aux = models.googlenet(num_classes=5, weights=path)
    np.testing.assert_array_equal(with_aux.aux2.fc2.weight.numpy(), source.aux2.fc2.weight.numpy())


def test_a_file_that_does_not_fit_lists_every_bad_key_and_changes_nothing(tmp_path):
    model = small_net()
    before = snapshot(model)
    state = trained_state(model)
    del state["0.bias"]  # missing
    state["head.weight"] = np.zeros((3, 3), np.float32)  # unexpected
    state["4.weight"] = np.zeros((10, 144), np.float32)  # mis-shaped
    state["4.bias"] = np.zeros(5, np.float32)  # mis-shaped
    path = tmp_path / "other.npz"
    interop.save_npz(state, path)
    with pytest.raises(ValueError) as info:
        interop.load_weights(model, path)
    message = str(info.value)
    assert message.startswith(f"weights: {path} does not fit Sequential:\n\t")
    for expected in [
        "missing key(s) in state_dict: '0.bias'",
        "unexpected key(s) in state_dict: 'head.weight'",
        "size mismatch for 4.weight: expected shape (3, 144)",
        "size mismatch for 4.bias: expected shape (3,)",
    ]:
        assert expected in message
    assert_same_state(snapshot(model), before)  # the valid entries were not copied either


def test_weights_of_another_architecture(tmp_path):
    path = tmp_path / "lenet.npz"
    interop.save_npz(models.lenet5().state_dict(), path)
    with pytest.raises(
        ValueError, match=r"(?s)weights: .*lenet.npz does not fit AlexNet:.*missing"
    ):
        models.alexnet(weights=path)


def test_weights_argument_errors(tmp_path):
    with pytest.raises(
        ValueError, match=r"weights: no file at '.*nope.pth'; ResNet has no shipped"
    ):
        models.resnet18(weights=tmp_path / "nope.pth")
    with pytest.raises(ValueError, match="weights: no file at 'imagenet'"):
        models.vgg11(weights="imagenet")
    with pytest.raises(TypeError, match="weights: expected a path to a weights file or None"):
        models.alexnet(weights=3)
    (tmp_path / "notes.pth").write_text("not weights")
    with pytest.raises(WeightsFileError, match="notes.pth: neither a PyTorch checkpoint"):
        models.resnet18(weights=tmp_path / "notes.pth")


def test_minicnn_save_and_load_speak_npz_and_safetensors(fmt, tmp_path, backend_name):
    # minicnn.save picks the format by the path's suffix; minicnn.load by the file's first
    # bytes, and gives Tensors on the current backend.
    model = small_net()
    model.load_state_dict(trained_state(model))
    path = tmp_path / f"net.{fmt}"
    minicnn.save(model.state_dict(), path)
    assert detect_format(path) == fmt
    state = minicnn.load(path)
    assert all(isinstance(t, minicnn.Tensor) and t.backend == backend_name for t in state.values())
    fresh = small_net()
    fresh.load_state_dict(state)
    assert_same_state(snapshot(fresh), snapshot(model))


def test_minicnn_load_names_a_damaged_foreign_file(tmp_path):
    path = tmp_path / "w.npz"
    minicnn.save({"a": np.arange(1000, dtype=np.float32)}, path)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(minicnn.serialization.SerializationError, match="w.npz: not a readable"):
        minicnn.load(path)
