"""``minicnn.save`` and ``minicnn.load``: nested Python values and tensors in a file that cannot
run code when it is read.

A file is a zip archive (members stored, not compressed) holding::

    minicnn.json     {"format": "minicnn.save", "version": 1, "tree": ..., "sha256": {...}}
    arrays/0.npy     one NumPy .npy file per array or tensor in the tree
    arrays/1.npy     ...

``tree`` describes the saved object in JSON. ``None``, bools, ints (any size), floats (NaN and
inf included) and strings are written as themselves; everything else is an object with one
tag, so nothing in a file is ever mistaken for something else::

    {"list": [...]}, {"tuple": [...]}, {"dict": {"key": ...}} (string keys, order kept),
    {"items": [[key, value], ...]} (other keys: ints, tuples, ...), {"odict": ...} (OrderedDict),
    {"array": "arrays/0.npy"}, {"scalar": "arrays/1.npy"} (a NumPy scalar),
    {"tensor": "arrays/2.npy", "requires_grad": false}, {"parameter": ..., "requires_grad": true}

``sha256`` maps each member to the SHA-256 of its bytes, so a damaged array is found and named
(the zip's own CRC-32 guards minicnn.json itself). Reading never unpickles: arrays are read with
``allow_pickle=False`` after their header is checked against the member's size, and only
boolean and numeric dtypes are accepted. Files are written to a temporary file in the same
folder, flushed to disk (fsync) and then renamed over the target, so a crash while saving
leaves the old file whole.

:func:`load` recognises a file by its first bytes (and its members, for zips) in one place,
:func:`detect_format`; :data:`READERS` maps each recognised format to its reader. Besides its
own files it reads state dicts from other frameworks' files (:mod:`minicnn.interop`): PyTorch
checkpoints (through PyTorch, where installed), safetensors files and NumPy ``.npz`` archives;
:func:`save` writes a state dict as ``.safetensors`` or ``.npz`` when the path ends so.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from minicnn import backend
from minicnn.files import (
    HEADER,
    PathOrFile,
    atomic_write,
    describe,
    detect_format,
    opened,
)

FORMAT = "minicnn.save"
VERSION = 1
LEGACY_CHECKPOINT = "minicnn-checkpoint-1"
_SAFE_KINDS = "biufc"  # bool, signed and unsigned ints, floats, complex: no objects, no structs
_MAX_DEPTH = 200


class SerializationError(ValueError):
    """A file that :func:`load` cannot read: damaged, truncated, foreign or hand-crafted."""


def save(obj: Any, f: PathOrFile) -> None:
    """Save ``obj`` to ``f`` (a path or a binary file object), as ``torch.save`` does.

    ``obj`` may nest dicts, OrderedDicts, lists and tuples of Tensors (Parameters included),
    NumPy or CuPy arrays and scalars, Python numbers, strings, bools and None. Tensors are saved
    from the host, with their dtype, shape and ``requires_grad``. A path is written atomically.
    A path ending in ``.safetensors`` or ``.npz`` gets that format instead, for a state dict
    (names mapped to tensors or arrays) that other frameworks read.
    """
    suffix = Path(f).suffix if isinstance(f, (str, os.PathLike)) else ""
    if suffix in (".safetensors", ".npz"):
        from minicnn import interop

        write = interop.save_safetensors if suffix == ".safetensors" else interop.save_npz
        return write(obj, f)  # type: ignore[arg-type]
    arrays: list[np.ndarray] = []
    tree = _encode(obj, arrays, "obj", 0)
    members = {f"arrays/{i}.npy": _npy_bytes(a) for i, a in enumerate(arrays)}
    header = {
        "format": FORMAT,
        "version": VERSION,
        "tree": tree,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    if hasattr(f, "write"):
        _write_zip(f, header_bytes, members)  # type: ignore[arg-type]
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"f: expected a path or a binary file object, got {type(f).__name__}")
    path = Path(f)  # type: ignore[arg-type]
    atomic_write(path, lambda out: _write_zip(out, header_bytes, members))


def load(f: PathOrFile, weights_only: bool = True, map_location: str | None = None) -> Any:
    """Read what :func:`save` wrote, as ``torch.load`` does.

    Tensors come back as minicnn Tensors on ``map_location`` (a backend name; ``"cpu"`` means
    the current backend if it runs on the host, else ``"numpy"``; ``"cuda"`` means ``"cupy"``;
    None: the current backend); NumPy arrays come back as NumPy arrays. Nothing in the file is
    ever executed, whatever ``weights_only`` says; it is accepted for PyTorch's signature.
    Raises :class:`SerializationError` (a ValueError) naming the file and what is wrong with it.
    """
    if not isinstance(weights_only, bool):
        raise TypeError(f"weights_only: expected a bool, got {weights_only!r}")
    if not (hasattr(f, "read") or isinstance(f, (str, os.PathLike))):
        raise TypeError(f"f: expected a path or a binary file object, got {type(f).__name__}")
    target = _map_location(map_location)
    name = describe(f)
    kind = detect_format(f)
    reader = READERS.get(kind)
    if reader is None:
        raise SerializationError(_unsupported(name, kind))
    return reader(f, target)


def _unsupported(name: str, kind: str) -> str:
    if kind == "pickle":
        return (
            f"{name}: a pickle file (e.g. a '{LEGACY_CHECKPOINT}' checkpoint of an older minicnn); "
            "minicnn does not unpickle files, which could run any code. Retrain, or, for a file "
            "you trust, convert it once with minicnn.checkpoint.convert_legacy_checkpoint()."
        )
    if kind == "empty":
        return f"{name}: the file is empty (a write that never finished?)"
    return (
        f"{name}: not a minicnn file (saved by minicnn.save: a zip holding {HEADER}); "
        f"found a file of kind {kind!r}"
    )


def _map_location(map_location: Any) -> str:
    if map_location is None:
        return backend.get_backend()
    if map_location == "cpu":
        current = backend.get_backend()
        return current if current != "cupy" else "numpy"
    if map_location == "cuda":
        map_location = "cupy"
    if map_location not in backend.BACKENDS:
        raise ValueError(
            f"map_location: expected None, 'cpu', 'cuda' or a backend "
            f"({', '.join(map(repr, backend.BACKENDS))}), got {map_location!r}"
        )
    return backend._require(map_location)


def _write_zip(out: IO[bytes], header: bytes, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(HEADER, header)
        for name, data in members.items():
            z.writestr(name, data)


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _encode(obj: Any, arrays: list[np.ndarray], where: str, depth: int) -> Any:
    """The JSON tree of ``obj``; arrays are appended to ``arrays`` and named by index."""
    from minicnn.nn.parameter import Parameter
    from minicnn.tensor import Tensor

    if depth > _MAX_DEPTH:
        raise ValueError(f"{where}: nested more than {_MAX_DEPTH} levels deep")

    def member(a: Any) -> str:
        host = np.asarray(backend.to_host(a))
        if host.dtype.kind not in _SAFE_KINDS:
            raise TypeError(
                f"{where}: cannot save an array of dtype {host.dtype} (bool and numeric only)"
            )
        arrays.append(host)
        return f"arrays/{len(arrays) - 1}.npy"

    if isinstance(obj, np.generic):  # before float: np.float64 is a float too
        return {"scalar": member(np.asarray(obj))}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj  # json writes NaN and Infinity (and ints of any size) and reads them back
    if isinstance(obj, Tensor):
        kind = "parameter" if isinstance(obj, Parameter) else "tensor"
        return {kind: member(obj.array), "requires_grad": bool(obj.requires_grad)}
    if backend.is_array(obj):
        return {"array": member(obj)}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
        if isinstance(obj, tuple) and type(obj) is not tuple:  # a NamedTuple: a plain tuple
            return {"tuple": items}
        return {"list" if isinstance(obj, list) else "tuple": items}
    if isinstance(obj, dict):
        tag = "odict" if isinstance(obj, OrderedDict) else "dict"
        if all(isinstance(k, str) for k in obj):
            body: Any = {
                k: _encode(v, arrays, f"{where}[{k!r}]", depth + 1) for k, v in obj.items()
            }
            return {tag: body}
        pairs = [
            [
                _encode(k, arrays, f"{where} key", depth + 1),
                _encode(v, arrays, f"{where}[{k!r}]", depth + 1),
            ]
            for k, v in obj.items()
        ]
        return {"items" if tag == "dict" else "oitems": pairs}
    raise TypeError(
        f"{where}: cannot save a {type(obj).__name__}; minicnn.save holds dicts, lists, tuples, "
        "Tensors, NumPy arrays, numbers, strings, bools and None"
    )


def _read_minicnn(f: PathOrFile, target: str) -> Any:
    name = describe(f)
    with opened(f) as fp:
        try:
            z = zipfile.ZipFile(fp)
        except zipfile.BadZipFile:
            raise SerializationError(
                f"{name}: truncated or damaged: its zip directory, written last, is missing or "
                "broken (was the write cut short?)"
            ) from None
        with z:
            header = _read_header(z, name)
            digests = header["sha256"]
            cache: dict[str, np.ndarray] = {}

            def array(member: Any) -> np.ndarray:
                if not isinstance(member, str) or member not in digests:
                    raise SerializationError(f"{name}: the tree names an unknown member {member!r}")
                if member not in cache:
                    cache[member] = _read_array(z, member, digests[member], name)
                return cache[member]

            try:
                return _decode(header["tree"], array, target, name, 0)
            except SerializationError:
                raise
            except (KeyError, TypeError, ValueError, IndexError) as e:
                raise SerializationError(f"{name}: malformed tree in {HEADER} ({e})") from None


def _read_header(z: zipfile.ZipFile, name: str) -> dict:
    try:
        raw = z.read(HEADER)
    except KeyError:
        raise SerializationError(f"{name}: not a minicnn file (no {HEADER} inside)") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise SerializationError(f"{name}: damaged {HEADER} ({e})") from None
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise SerializationError(f"{name}: {HEADER} is not valid JSON ({e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SerializationError(f"{name}: {HEADER} does not say format {FORMAT!r}")
    if header.get("version") != VERSION:
        raise SerializationError(
            f"{name}: format version {header.get('version')!r}; this minicnn reads version "
            f"{VERSION} (a newer minicnn wrote it?)"
        )
    digests = header.get("sha256")
    if not isinstance(digests, dict) or "tree" not in header:
        raise SerializationError(f"{name}: {HEADER} lacks 'tree' or 'sha256'")
    return header


def _read_array(z: zipfile.ZipFile, member: str, digest: Any, name: str) -> np.ndarray:
    try:
        info = z.getinfo(member)
    except KeyError:
        raise SerializationError(f"{name}: member {member} is missing") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise SerializationError(f"{name}: member {member} is compressed (minicnn stores members)")
    try:
        data = z.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise SerializationError(f"{name}: member {member} is damaged ({e})") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise SerializationError(f"{name}: member {member} is damaged (SHA-256 mismatch)")
    return _parse_npy(data, f"{name}: member {member}")


def _parse_npy(data: bytes, where: str) -> np.ndarray:
    """An array from .npy bytes, never unpickling and never trusting the header's size."""
    fp = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(fp)
        read_header = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }[version]
        shape, fortran, dtype = read_header(fp)
    except (ValueError, KeyError, EOFError) as e:
        raise SerializationError(f"{where}: not a valid .npy array ({e})") from None
    if dtype.hasobject or dtype.kind not in _SAFE_KINDS or dtype.fields is not None:
        raise SerializationError(f"{where}: dtype {dtype} refused (bool and numeric only)")
    count = math.prod(shape)
    if len(data) - fp.tell() != count * dtype.itemsize:
        raise SerializationError(
            f"{where}: shape {shape} of {dtype} needs {count * dtype.itemsize} bytes, the "
            f"member holds {len(data) - fp.tell()}"
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=fp.tell())
    return flat.reshape(shape, order="F" if fortran else "C").copy()


def _decode(
    node: Any, array: Callable[[Any], np.ndarray], target: str, name: str, depth: int
) -> Any:
    from minicnn.nn.parameter import Parameter
    from minicnn.tensor import Tensor

    if depth > _MAX_DEPTH:
        raise SerializationError(f"{name}: the tree is nested more than {_MAX_DEPTH} levels")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not isinstance(node, dict) or not node:
        raise SerializationError(f"{name}: malformed tree node {str(node)[:80]!r}")

    def sub(n: Any) -> Any:
        return _decode(n, array, target, name, depth + 1)

    tag = next(iter(node))
    body = node[tag]
    if tag == "list":
        return [sub(v) for v in body]
    if tag == "tuple":
        return tuple(sub(v) for v in body)
    if tag in ("dict", "odict"):
        if not isinstance(body, dict):
            raise SerializationError(f"{name}: malformed {tag} node")
        out = {k: sub(v) for k, v in body.items()}
        return OrderedDict(out) if tag == "odict" else out
    if tag in ("items", "oitems"):
        pairs = [(_hashable(sub(k), name), sub(v)) for k, v in body]
        return OrderedDict(pairs) if tag == "oitems" else dict(pairs)
    if tag == "array":
        return array(body)
    if tag == "scalar":
        return array(body)[()]
    if tag in ("tensor", "parameter"):
        data = backend.move(array(body), "numpy", target)
        requires_grad = node.get("requires_grad", False) is True
        if tag == "parameter":
            return Parameter(Tensor._from_op(data, target, None), requires_grad=requires_grad)
        t = Tensor._from_op(data, target, None)
        return t.requires_grad_(requires_grad) if requires_grad else t
    raise SerializationError(f"{name}: unknown tree node {tag!r}")


def _hashable(key: Any, name: str) -> Any:
    try:
        hash(key)
    except TypeError:
        raise SerializationError(f"{name}: a dict key of type {type(key).__name__}") from None
    return key


def _read_foreign(kind: str) -> Callable[[PathOrFile, str], Any]:
    """A reader of another framework's state dict file (:mod:`minicnn.interop`): an OrderedDict
    of names to Tensors on the target backend."""

    def read(f: PathOrFile, target: str) -> Any:
        from minicnn import interop
        from minicnn.tensor import Tensor

        try:
            state = interop.READERS[kind](f)
        except interop.WeightsFileError as e:
            raise SerializationError(str(e)) from None
        return OrderedDict(
            (k, Tensor._from_op(backend.move(a, "numpy", target), target, None))
            for k, a in state.items()
        )

    return read


READERS: dict[str, Callable[[PathOrFile, str], Any]] = {
    "minicnn": _read_minicnn,
    "torch": _read_foreign("torch"),
    "torch-legacy": _read_foreign("torch-legacy"),
    "safetensors": _read_foreign("safetensors"),
    "npz": _read_foreign("npz"),
}
