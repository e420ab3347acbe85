"""Files that are never seen half written, and paths or file objects read alike."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

PathOrFile = str | os.PathLike | IO[bytes]


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
