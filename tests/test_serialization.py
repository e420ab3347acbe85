"""minicnn.save / minicnn.load: round trips, and every kind of bad file refused by name."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.checkpoint import convert_legacy_checkpoint, load_checkpoint
from minicnn.files import TORCH_LEGACY_MAGIC
from minicnn.serialization import HEADER, SerializationError, detect_format
from tests.conftest import to_numpy


def nested() -> dict:
    """Every kind of value the format holds, nested the way optimizer states are."""
    return {
        "numbers": [0, -3, 2**100, 1.5, float("nan"), float("inf"), -float("inf")],
        "plain": (None, True, False, "text", ""),
        "int keys": {0: {"momentum_buffer": np.arange(6, dtype=np.float32).reshape(2, 3)}},
        "tuple keys": {(1, "a"): 2, 3.5: "x", None: 0, False: 1},
        "ordered": OrderedDict([("b", 1), ("a", np.float64(2.5))]),
        "arrays": [
            np.arange(12, dtype=np.int64).reshape(3, 4).T,  # Fortran order
            np.zeros((0, 3), np.float32),
            np.array(7, np.uint8),
            np.array([True, False]),
            np.array([1 + 2j], np.complex64),
        ],
        "scalars": [np.float32(0.25), np.int64(-9), np.bool_(True)],
        "tensor": minicnn.tensor([[1.0, 2.0]], dtype="float64"),
        "grad tensor": minicnn.tensor([3.0], requires_grad=True),
        "parameter": nn.Parameter(minicnn.tensor([1.0, 2.0, 3.0])),
    }


def assert_same(a, b, where="obj"):
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, minicnn.Tensor):
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad, where
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=where)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def test_round_trip_keeps_every_type_and_value(tmp_path, backend_name):
    obj = nested()
    minicnn.save(obj, tmp_path / "f.mc")
    back = minicnn.load(tmp_path / "f.mc")
    assert_same(back, obj)
    assert back["tensor"].backend == backend_name  # tensors land on the current backend
    assert isinstance(back["arrays"][0], np.ndarray)  # arrays stay arrays
    assert detect_format(tmp_path / "f.mc") == "minicnn"


def test_file_objects_and_map_location(tmp_path):
    buf = io.BytesIO()
    minicnn.save({"w": minicnn.ones(2)}, buf)
    buf.seek(0)
    assert minicnn.load(buf, map_location="numpy")["w"].backend == "numpy"
    assert minicnn.load(buf, map_location="cpu")["w"].backend in ("numpy", "numba")
    with pytest.raises(ValueError, match="map_location: expected None, 'cpu', 'cuda' or a backend"):
        minicnn.load(buf, map_location="tpu")
    with pytest.raises(TypeError, match="weights_only: expected a bool"):
        minicnn.load(buf, weights_only="yes")


def test_model_state_dict_round_trip_loads_into_a_model(tmp_path):
    source, target = minicnn.models.lenet5(), minicnn.models.lenet5()
    minicnn.save(source.state_dict(), tmp_path / "w.mc")
    target.load_state_dict(minicnn.load(tmp_path / "w.mc"))
    for (k, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=k)


@pytest.mark.parametrize(
    "value, match",
    [
        (lambda x: x, "obj\\['f'\\]: cannot save a function"),
        (np.array(["a"]), "dtype <U1"),
        (np.array([object()]), "dtype object"),
        ({1, 2}, "cannot save a set"),
    ],
)
def test_unsupported_values_are_refused_with_their_place(tmp_path, value, match):
    with pytest.raises(TypeError, match=match):
        minicnn.save({"f": value}, tmp_path / "x.mc")
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


def write_zip(path, header: dict | bytes, members: dict[str, bytes] | None = None):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(HEADER, header if isinstance(header, bytes) else json.dumps(header))
        for name, data in (members or {}).items():
            z.writestr(name, data)


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=True)
    return buf.getvalue()


def crafted(tree, members: dict[str, bytes]) -> dict:
    digests = {k: hashlib.sha256(v).hexdigest() for k, v in members.items()}
    return {"format": "minicnn.save", "version": 1, "tree": tree, "sha256": digests}


def test_hand_crafted_files_are_refused(tmp_path):
    """Consistent checksums do not make a file trusted: each part is checked for what it is."""
    cases = {
        "object array": (
            {"array": "arrays/0.npy"},
            {"arrays/0.npy": npy(np.array([{"x": 1}], dtype=object))},
            "dtype object refused",
        ),
        "lying shape": (
            {"array": "arrays/0.npy"},
            {"arrays/0.npy": npy(np.zeros(4))[:-16]},
            r"shape \(4,\) of float64 needs 32 bytes, the member holds 16",
        ),
        "unknown node": ({"pickle": "x"}, {}, "unknown tree node 'pickle'"),
        "unknown member": ({"array": "../../etc/passwd"}, {}, "names an unknown member"),
        "bare object": ({"a": 1, "b": 2}, {}, "unknown tree node 'a'"),
        "list key": ({"items": [[{"list": [1]}, 2]]}, {}, "a dict key of type list"),
        "not npy": ({"array": "arrays/0.npy"}, {"arrays/0.npy": b"hello"}, "not a valid .npy"),
    }
    for label, (tree, members, match) in cases.items():
        path = tmp_path / f"{label}.mc"
        write_zip(path, crafted(tree, members), members)
        with pytest.raises(SerializationError, match=match):
            minicnn.load(path)
    deep = {"list": [1]}
    for _ in range(300):
        deep = {"list": [deep]}
    write_zip(tmp_path / "deep.mc", crafted(deep, {}))
    with pytest.raises(SerializationError, match="nested more than"):
        minicnn.load(tmp_path / "deep.mc")


def test_header_problems_are_named(tmp_path):
    write_zip(tmp_path / "a.mc", b"{not json")
    with pytest.raises(SerializationError, match=r"a.mc: minicnn.json is not valid JSON"):
        minicnn.load(tmp_path / "a.mc")
    write_zip(tmp_path / "b.mc", {"format": "other", "version": 1})
    with pytest.raises(SerializationError, match="does not say format 'minicnn.save'"):
        minicnn.load(tmp_path / "b.mc")
    write_zip(tmp_path / "c.mc", {"format": "minicnn.save", "version": 99, "tree": None})
    with pytest.raises(SerializationError, match="format version 99"):
        minicnn.load(tmp_path / "c.mc")


def test_damage_is_found_and_named(tmp_path):
    path = tmp_path / "f.mc"
    minicnn.save({"w": np.arange(1000, dtype=np.float64)}, path)
    data = path.read_bytes()
    at = data.index(np.float64(500).tobytes())
    # Change one byte of the array's data and rewrite the zip (new CRC-32s): SHA-256 sees it.
    with zipfile.ZipFile(path) as z:
        members = {n: bytearray(z.read(n)) for n in z.namelist()}
    members["arrays/0.npy"][-1] ^= 0xFF
    with zipfile.ZipFile(tmp_path / "g.mc", "w") as z:
        for n, v in members.items():
            z.writestr(n, bytes(v))
    with pytest.raises(SerializationError, match=r"g.mc: member arrays/0.npy is damaged \(SHA"):
        minicnn.load(tmp_path / "g.mc")
    # A flipped byte that the zip's CRC-32 sees.
    flipped = bytearray(data)
    flipped[at] ^= 0xFF
    (tmp_path / "h.mc").write_bytes(bytes(flipped))
    with pytest.raises(SerializationError, match=r"h.mc: member arrays/0.npy is damaged"):
        minicnn.load(tmp_path / "h.mc")
    for cut in (len(data) // 2, len(data) - 10, 40):
        (tmp_path / "t.mc").write_bytes(data[:cut])
        with pytest.raises(SerializationError, match=r"t.mc: truncated or damaged"):
            minicnn.load(tmp_path / "t.mc")
    (tmp_path / "e.mc").write_bytes(b"")
    with pytest.raises(SerializationError, match="e.mc: the file is empty"):
        minicnn.load(tmp_path / "e.mc")


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_foreign_files_are_refused_without_running_them(tmp_path, capsys):
    (tmp_path / "evil.pkl").write_bytes(
        pickle.dumps({"format": "minicnn-checkpoint-1", "x": Evil()})
    )
    with pytest.raises(SerializationError, match="a pickle file .*minicnn-checkpoint-1.*Retrain"):
        minicnn.load(tmp_path / "evil.pkl")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(SerializationError, match="not a minicnn file .* kind 'zip'"):
        minicnn.load(tmp_path / "other.zip")
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(1))
    assert detect_format(tmp_path / "model.pt") == "torch"
    with pytest.raises((SerializationError, ImportError), match="PyTorch"):
        minicnn.load(tmp_path / "model.pt")  # read through PyTorch where installed: not this
    (tmp_path / "text.txt").write_text("just text")
    with pytest.raises(SerializationError, match="kind 'unknown'"):
        minicnn.load(tmp_path / "text.txt")
    with pytest.raises(FileNotFoundError, match="no file at"):
        minicnn.load(tmp_path / "missing.mc")
    # The legacy converter refuses anything but arrays and plain values.
    with pytest.raises(SerializationError, match="refused to load builtins.print"):
        convert_legacy_checkpoint(tmp_path / "evil.pkl", tmp_path / "out.mc")
    assert "must never run" not in capsys.readouterr().out


def _zip(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_detect_format_tells_kinds_by_their_first_bytes_not_their_names(tmp_path):
    cases = {
        "minicnn": lambda p: minicnn.save({"w": minicnn.ones(2)}, p),
        "torch": lambda p: _zip(
            p, {"resnet18/data.pkl": b"\x80\x02}q\x00.", "resnet18/data/0": b""}
        ),
        "torch-legacy": lambda p: p.write_bytes(TORCH_LEGACY_MAGIC + b".\x80\x02"),
        "npz": lambda p: np.savez(p, a=np.zeros(2)),
        "zip": lambda p: _zip(p, {"readme.txt": b"hello"}),
        "pickle": lambda p: p.write_bytes(pickle.dumps({"a": 1})),
        "safetensors": lambda p: p.write_bytes((2).to_bytes(8, "little") + b"{}"),
        "empty": lambda p: p.write_bytes(b""),
        "unknown": lambda p: p.write_text("weights, but in a spreadsheet\n"),
    }
    for kind, make in cases.items():
        path = tmp_path / "weights.pth"  # the same misleading name for every kind
        make(path)
        if kind == "npz":
            path = tmp_path / "weights.pth.npz"  # numpy.savez appends .npz to a path
        assert detect_format(path) == kind, kind
        with open(path, "rb") as f:
            assert detect_format(f) == kind, kind
        assert detect_format(io.BytesIO(path.read_bytes())) == kind, kind
        path.unlink()
    with pytest.raises(FileNotFoundError, match="no file at"):
        detect_format(tmp_path / "missing.pth")
    with pytest.raises(TypeError, match="f: expected a path or a binary file object, got int"):
        detect_format(3)


def test_legacy_checkpoint_converts_once(tmp_path):
    legacy = {
        "format": "minicnn-checkpoint-1",
        "model": {"w": np.arange(3, dtype=np.float32)},
        "optimizer": {
            "state": {0: {"momentum_buffer": np.ones(3, np.float32)}},
            "param_groups": [],
        },
        "scheduler": None,
        "loader": {"generator": {"state": {"state": 2**100, "inc": 7}}},
        "rng": {"host": {}, "gpu_seed": 0},
        "epoch": 3,
        "totals": None,
        "history": [{"epoch": 1, "train_loss": 0.5}],
        "meta": {"model": "lenet5"},
    }
    (tmp_path / "old.ckpt").write_bytes(pickle.dumps(legacy, protocol=pickle.HIGHEST_PROTOCOL))
    convert_legacy_checkpoint(tmp_path / "old.ckpt", tmp_path / "new.ckpt")
    state = load_checkpoint(tmp_path / "new.ckpt")
    assert state["epoch"] == 3 and state["loader"]["generator"]["state"]["state"] == 2**100
    np.testing.assert_array_equal(state["optimizer"]["state"][0]["momentum_buffer"], np.ones(3))
