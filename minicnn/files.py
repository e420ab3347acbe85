"""Files that are never seen half written, and paths or file objects read alike."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

PathOrFile = str | os.PathLike | IO[bytes]

# The first member of a file written by minicnn.save (minicnn.serialization).
HEADER = "minicnn.json"
# torch.save's format before PyTorch 1.6 opens with this pickled magic number: protocol 2, then
# the long 0x1950a86a20f9469cfc6c.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk, then rename
    it to ``path``: readers see the old file or the new one, never a part of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class opened:
    """``with opened(f) as fp``: open a path for reading, or use (and rewind) a file object."""

    def __init__(self, f: PathOrFile) -> None:
        self.f = f
        self.fp: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if hasattr(self.f, "read"):
            self.f.seek(0)  # type: ignore[union-attr]
            return self.f  # type: ignore[return-value]
        path = Path(self.f)  # type: ignore[arg-type]
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}")
        self.fp = open(path, "rb")
        return self.fp

    def __exit__(self, *exc: object) -> None:
        if self.fp is not None:
            self.fp.close()


def describe(f: PathOrFile) -> str:
    return str(getattr(f, "name", f)) if hasattr(f, "read") else str(f)


def detect_format(f: PathOrFile) -> str:
    """What kind of file ``f`` (a path or a binary file object) is, from its first bytes, never
    its name: ``"minicnn"`` (a zip whose first member is minicnn.json), ``"torch"`` (a zip whose
    first member is a ``data.pkl``, as ``torch.save`` writes), ``"torch-legacy"`` (``torch.save``'s
    format before PyTorch 1.6, in which many of torchvision's ImageNet files are),
    ``"safetensors"``, ``"npz"`` (a zip of ``.npy`` files), ``"zip"`` (another zip),
    ``"pickle"`` (a pickle of something else), ``"empty"`` or ``"unknown"``. Raises
    FileNotFoundError for a missing path.

    This is the one place that tells kinds apart: :func:`minicnn.load` reads each kind with its
    entry in :data:`minicnn.serialization.READERS`, and :func:`minicnn.interop.read_state_dict` with its own.
    """
    if not (hasattr(f, "read") or isinstance(f, (str, os.PathLike))):
        raise TypeError(f"f: expected a path or a binary file object, got {type(f).__name__}")
    with opened(f) as fp:
        head = fp.read(64)
    if not head:
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        # A zip's first local header: the member's name starts at byte 30, its length at 26.
        length = int.from_bytes(head[26:28], "little")
        first = head[30 : 30 + length]
        if first == HEADER.encode() or (len(first) < length and HEADER.encode().startswith(first)):
            return "minicnn"  # (the second case: a file cut short inside the first name)
        if first == b"data.pkl" or first.endswith(b"/data.pkl"):
            return "torch"
        if first.endswith(b".npy"):
            return "npz"
        return "zip"
    if head.startswith(b"PK\x05\x06"):
        return "npz"  # a zip with no members: what numpy.savez writes for an empty state dict
    if head.startswith(TORCH_LEGACY_MAGIC):
        return "torch-legacy"
    if head[:1] == b"\x80":  # pickle protocol 2 and later
        return "pickle"
    if len(head) >= 9 and head[8:9] == b"{":  # an 8-byte header length, then JSON
        return "safetensors"
    return "unknown"
