"""Weights in other frameworks' files: PyTorch checkpoints, safetensors files and NumPy archives.

Every reader returns a state dict on the host, an OrderedDict ``name -> NumPy array``, which
``Module.load_state_dict`` takes as it is; every writer takes a state dict of Tensors or arrays
(``model.state_dict()``). Since the zoo's parameter and buffer names are torchvision's, a state
dict saved by torchvision loads into the zoo model of the same name.

    PyTorch (.pt, .pth)   read with ``torch.load(weights_only=True)``, so a file cannot run code
                          while it is read; needs PyTorch (``pip install "minicnn[torch]"``)
    safetensors           read and written with the ``safetensors`` package's NumPy API
                          (``pip install "minicnn[safetensors]"``); no PyTorch needed
    NumPy .npz            read and written with NumPy alone (``allow_pickle=False``)

:func:`minicnn.serialization.detect_format` tells these files apart by their first bytes,
never by their names; :func:`read_state_dict` reads any of them, and a state dict saved by
``minicnn.save`` too; :func:`load_weights` is what the zoo's ``weights=`` argument calls.
Where PyTorch is missing, reading a PyTorch file raises an ImportError that shows the one
command (:data:`CONVERT_COMMAND`) which turns it into an .npz on a machine that has PyTorch.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from minicnn import backend, serialization
from minicnn.files import PathOrFile, atomic_write, opened
from minicnn.serialization import SerializationError, detect_format
from minicnn.tensor import Tensor

CONVERT_COMMAND = (
    'python -c "import sys, numpy, torch; '
    "sd = torch.load(sys.argv[1], map_location='cpu', weights_only=True); "
    'numpy.savez(sys.argv[2], **{k: v.numpy() for k, v in sd.items()})" '
    "resnet18-f37072fd.pth resnet18.npz"
)


class WeightsFileError(ValueError):
    """A weights file that cannot be read: damaged, truncated, of an unknown kind, or holding
    something other than a state dict."""


def read_state_dict(f: PathOrFile) -> OrderedDict[str, np.ndarray]:
    """The state dict in ``f`` (a PyTorch checkpoint, a safetensors file, an .npz archive or a
    ``minicnn.save`` file; told apart by :func:`~minicnn.serialization.detect_format`), as host
    NumPy arrays."""
    kind = detect_format(f)
    reader = READERS.get(kind)
    if reader is None:
        raise WeightsFileError(_unknown_kind(_name(f), kind))
    return reader(f)


def load_torch_file(f: PathOrFile) -> OrderedDict[str, np.ndarray]:
    """The state dict in a file written by ``torch.save`` (either format), as NumPy arrays.

    Read with ``torch.load(map_location="cpu", weights_only=True)``: only tensors and plain
    containers are accepted. A checkpoint that wraps its state dict (``{"state_dict": ...}``
    or ``{"model": ...}``) is unwrapped. Needs PyTorch; without it, an ImportError says how to
    convert the file to .npz elsewhere.
    """
    name = _name(f)
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"{name}: reading a PyTorch file needs PyTorch (pip install 'minicnn[torch]'). "
            "Or convert it once, on a machine that has PyTorch, to an .npz that minicnn reads "
            f"with NumPy alone:\n    {CONVERT_COMMAND}"
        ) from None
    try:
        with opened(f) as fp:
            obj = torch.load(fp, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:  # torch raises RuntimeError, EOFError, UnpicklingError, ...
        what = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if "weights_only" in str(e) or "Unsupported global" in str(e):
            what = (
                "it holds Python objects besides tensors (a pickled model?), which "
                "weights_only=True refuses; save model.state_dict() instead"
            )
        raise WeightsFileError(f"{name}: not a readable PyTorch checkpoint: {what}") from None
    state = _unwrap(obj, name, torch.Tensor)
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for key, t in state.items():
        t = t.detach().cpu()
        if t.dtype == torch.bfloat16:  # NumPy has no bfloat16; float32 holds it exactly
            t = t.float()
        out[key] = t.numpy()
    return out


def load_safetensors(f: PathOrFile) -> OrderedDict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file, as NumPy arrays in the order of their data in
    the file (the format keeps no other; its writer sorts them)."""
    name = _name(f)
    st = _safetensors(name)
    with opened(f) as fp:
        data = fp.read()
    try:
        arrays = st.load(data)
    except Exception as e:  # SafetensorError, or a TypeError for a dtype NumPy lacks
        raise WeightsFileError(f"{name}: not a readable safetensors file: {e}") from None
    # The header, which the package has just validated: a u64 length, then JSON that maps
    # each name to its dtype, shape and [begin, end) byte offsets.
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    order = sorted(arrays, key=lambda key: header[key]["data_offsets"][0])
    return OrderedDict((key, arrays[key]) for key in order)


def save_safetensors(
    state_dict: Mapping[str, Any], f: PathOrFile, metadata: dict[str, str] | None = None
) -> None:
    """Write ``state_dict`` (Tensors or arrays) to ``f`` as a safetensors file; a path is
    written atomically."""
    st = _safetensors(_name(f))
    arrays = _host_arrays(state_dict)
    data = st.save(arrays, metadata=metadata)
    _write(f, lambda out: out.write(data))


def load_npz(f: PathOrFile) -> OrderedDict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive (``numpy.savez``), in the archive's order; never
    unpickles."""
    name = _name(f)
    with opened(f) as fp:
        try:
            archive = np.load(fp, allow_pickle=False)
            if not isinstance(archive, Mapping):
                raise WeightsFileError(f"{name}: an .npy file holds one array, not a state dict")
            with archive:
                return OrderedDict((key, archive[key]) for key in archive.files)
        except WeightsFileError:
            raise
        except Exception as e:  # BadZipFile, a damaged .npy header, an object array, ...
            raise WeightsFileError(f"{name}: not a readable .npz archive: {e}") from None


def save_npz(state_dict: Mapping[str, Any], f: PathOrFile) -> None:
    """Write ``state_dict`` (Tensors or arrays) to ``f`` as an uncompressed ``.npz``; a path is
    written atomically."""
    arrays = _host_arrays(state_dict)
    _write(f, lambda out: np.savez(out, **arrays))


def load_minicnn_file(f: PathOrFile) -> OrderedDict[str, np.ndarray]:
    """The state dict in a file written by ``minicnn.save`` (``model.state_dict()``, or a
    checkpoint that holds it under ``"state_dict"``, ``"model"`` or ``"model_state_dict"``), as
    NumPy arrays."""
    name = _name(f)
    try:
        obj = serialization.load(f, map_location="numpy")
    except SerializationError as e:
        raise WeightsFileError(str(e)) from None
    state = _unwrap(obj, name, (Tensor, np.ndarray))
    return OrderedDict(
        (k, backend.to_host(v.array) if isinstance(v, Tensor) else v) for k, v in state.items()
    )


READERS: dict[str, Callable[[PathOrFile], OrderedDict[str, np.ndarray]]] = {
    "minicnn": load_minicnn_file,
    "torch": load_torch_file,
    "torch-legacy": load_torch_file,
    "safetensors": load_safetensors,
    "npz": load_npz,
}


def load_weights(model: Any, weights: Any, ignore: Iterable[str] = ()) -> Any:
    """Load the state dict in the file ``weights`` into ``model``, and return ``model``; with
    ``weights=None``, return ``model`` as it is.

    Keys under the prefixes ``ignore`` are dropped first. A BatchNorm's ``num_batches_tracked``
    that the file lacks (PyTorch wrote none before version 0.4.1) keeps the model's value, as
    PyTorch does. Every key is checked before anything is copied, so a file that does not fit
    leaves the model's weights as they were.
    """
    if weights is None:
        return model
    model_name = type(model).__name__
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            f"weights: expected a path to a weights file or None, got {type(weights).__name__}"
        )
    path = Path(weights)
    if not path.is_file():
        raise ValueError(
            f"weights: no file at {str(path)!r}; {model_name} has no shipped weights, so give "
            "the path of a .pth, .pt, .safetensors or .npz file (e.g. torchvision's)"
        )
    state = read_state_dict(path)
    prefixes = tuple(ignore)
    if prefixes:
        state = OrderedDict((k, v) for k, v in state.items() if not k.startswith(prefixes))
    for key, buffer in model.named_buffers():
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = backend.to_host(buffer.array).copy()
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        # The error lists every missing, unexpected and mis-shaped key, one per line after a
        # first line that would only repeat the model's name.
        details = str(e).split("\n", 1)[-1]
        raise ValueError(f"weights: {path} does not fit {model_name}:\n{details}") from None
    return model


def _unwrap(obj: Any, name: str, tensor_type: type | tuple[type, ...]) -> Mapping[str, Any]:
    """The mapping of names to tensors inside what ``torch.load`` returned."""
    if isinstance(obj, Mapping):
        if obj and all(isinstance(v, tensor_type) for v in obj.values()):
            return obj
        for key in ("state_dict", "model", "model_state_dict"):
            inner = obj.get(key)
            if isinstance(inner, Mapping) and all(
                isinstance(v, tensor_type) for v in inner.values()
            ):
                return inner
        kinds = {k: type(v).__name__ for k, v in list(obj.items())[:8]}
        raise WeightsFileError(
            f"{name}: expected a state dict (names mapped to tensors), found a dict of {kinds}"
        )
    raise WeightsFileError(
        f"{name}: expected a state dict (names mapped to tensors), found a {type(obj).__name__}"
    )


def _host_arrays(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict: expected a mapping, got {type(state_dict).__name__}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"state_dict: expected str keys, got {key!r}")
        data = value.array if isinstance(value, Tensor) else value
        data = backend.to_host(data) if backend.is_array(data) else np.asarray(data)
        if data.dtype.kind not in "biuf":
            raise TypeError(f"state_dict: {key!r} has dtype {data.dtype}; expected numbers")
        arrays[key] = np.array(data, order="C")  # ascontiguousarray would make 0-d 1-d
    return arrays


def _safetensors(name: str) -> Any:
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(
            f"{name}: reading or writing safetensors files needs the safetensors package "
            "(pip install 'minicnn[safetensors]')"
        ) from None
    return safetensors.numpy


def _unknown_kind(name: str, kind: str) -> str:
    if kind == "empty":
        return f"{name}: the file is empty"
    if kind == "zip":
        return f"{name}: a zip archive, but neither a PyTorch checkpoint nor an .npz of arrays"
    if kind == "pickle":
        return (
            f"{name}: a pickle of Python objects, not a PyTorch checkpoint; unpickling could "
            "run any code, so it is not read"
        )
    return (
        f"{name}: neither a PyTorch checkpoint (.pt, .pth), a safetensors file nor an .npz "
        "archive (judged by its first bytes, not its name)"
    )


def _name(f: Any) -> str:
    if isinstance(f, (str, os.PathLike)):
        return str(f)
    return getattr(f, "name", None) or f"<{type(f).__name__}>"


def _write(f: PathOrFile, write: Callable[[IO[bytes]], Any]) -> None:
    """``write`` into a file object, or into a path atomically (a crash never leaves half a
    file)."""
    if hasattr(f, "write"):
        write(f)  # type: ignore[arg-type]
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"f: expected a path or a binary file object, got {type(f).__name__}")
    atomic_write(Path(f), write)


__all__ = [
    "CONVERT_COMMAND",
    "READERS",
    "WeightsFileError",
    "load_minicnn_file",
    "load_npz",
    "load_safetensors",
    "load_torch_file",
    "load_weights",
    "read_state_dict",
    "save_npz",
    "save_safetensors",
]
