"""Checkpoints of a training run: written so that a crash never destroys the last good one.

A checkpoint is a :func:`minicnn.save` file (no pickle) holding weights and buffers, optimizer
and scheduler state, the data loader's position and generator, minicnn's generator state, the
epoch, the running sums of an unfinished epoch, the history and free-form metadata. Writing
one (:func:`save_checkpoint`):

1. writes ``last.ckpt.<random>.tmp`` in the run folder, flushes it and fsyncs it;
2. links the current ``last.ckpt`` as ``previous.ckpt`` (the one before stays until then);
3. renames the new file to ``last.ckpt`` and fsyncs the folder.

Killed at any moment, the folder holds a complete ``last.ckpt`` (old or new) and, from the
second checkpoint on, a complete ``previous.ckpt``. Each array carries a SHA-256, so a file
damaged later (a bad disk, a copy cut short) is named with what is wrong, and
:func:`load_latest` falls back to ``previous.ckpt``, saying so.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from minicnn import backend, random
from minicnn.files import atomic_write, fsync_dir
from minicnn.serialization import LEGACY_CHECKPOINT, SerializationError, load, save

CHECKPOINT = "last.ckpt"
PREVIOUS = "previous.ckpt"
CHECKPOINT_FORMAT = "minicnn-checkpoint-2"


class ResumeError(ValueError):
    """A checkpoint that loads but does not fit what is being resumed (another model,
    optimizer, schedule or data loader)."""


_KEYS = ("model", "optimizer", "scheduler", "loader", "rng", "epoch", "totals", "history", "meta")


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    loader: Any = None,
    epoch: int = 0,
    totals: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint of the objects given, keeping the one it replaces as
    ``previous.ckpt``; a summary for people goes beside it (``last.json``)."""
    path = Path(path)
    state = {
        "format": CHECKPOINT_FORMAT,
        "model": {k: backend.to_host(v.array) for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "loader": loader.state_dict() if loader is not None else None,
        "rng": random.get_rng_state(),
        "epoch": epoch,
        "totals": totals,
        "history": history or [],
        "meta": meta or {},
    }
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f".{path.name}.*.tmp"):  # left by a writer that was killed
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            save(state, f)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before any name points to it
        if path.exists():
            _keep_previous(path, path.with_name(PREVIOUS))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(folder)
    summary = {
        "format": CHECKPOINT_FORMAT,
        "epoch": epoch,
        "mid_epoch": totals is not None,
        "samples_done_in_epoch": totals["seen"] if totals else 0,
        "last_epoch_metrics": state["history"][-1] if state["history"] else None,
        "meta": state["meta"],
    }
    text = json.dumps(summary, indent=2, default=str) + "\n"
    atomic_write(path.with_suffix(".json"), lambda f: f.write(text.encode()))
    return path


def _keep_previous(path: Path, previous: Path) -> None:
    """Make ``previous`` the file now at ``path``, without ever leaving ``previous`` half made:
    a hard link (or a copy) under a temporary name, renamed over the old ``previous``."""
    tmp = previous.with_name(f".{previous.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(path, tmp)
    except OSError:  # a file system without hard links
        shutil.copyfile(path, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    os.replace(tmp, previous)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint (a file, or the run folder holding ``last.ckpt``).

    Raises FileNotFoundError when there is none, and
    :class:`~minicnn.serialization.SerializationError` (a ValueError) naming the file and what
    is wrong when it is damaged, truncated or not a minicnn checkpoint. Nothing in the file is
    executed.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: no file at {path}")
    state = load(path, map_location="numpy")
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise SerializationError(
            f"{path}: a minicnn file but not a training checkpoint (format {found!r}, expected "
            f"{CHECKPOINT_FORMAT!r})"
        )
    missing = [k for k in _KEYS if k not in state]
    if missing:
        raise SerializationError(f"{path}: checkpoint lacks {', '.join(missing)}")
    return state


def load_latest(folder: str | os.PathLike, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The newest loadable checkpoint in a run folder: ``last.ckpt``, or, if that one is
    damaged or missing, ``previous.ckpt`` (saying so through ``log``)."""
    folder = Path(folder)
    last, previous = folder / CHECKPOINT, folder / PREVIOUS
    try:
        return load_checkpoint(last)
    except (SerializationError, FileNotFoundError) as e:
        if not previous.is_file():
            raise
        problem = e
    try:
        state = load_checkpoint(previous)
    except SerializationError as e:
        raise SerializationError(f"no loadable checkpoint in {folder}: {problem}; {e}") from None
    log(
        f"warning: {problem}; resuming from the previous checkpoint {previous} instead "
        f"({describe(state)})"
    )
    return state


def describe(state: dict[str, Any]) -> str:
    """Where a checkpoint stands, in words: "after epoch 3" or "epoch 4, 640 samples done"."""
    if state.get("totals"):
        return f"epoch {state['epoch'] + 1}, {state['totals']['seen']} samples done"
    return f"after epoch {state['epoch']}"


def describe_folder(folder: Path | None) -> str:
    """The last checkpoint in ``folder`` and where it stands, for messages."""
    if folder is None or not (folder / CHECKPOINT).is_file():
        return "none (no checkpoint was written)"
    try:
        summary = json.loads((folder / CHECKPOINT).with_suffix(".json").read_text())
    except (OSError, ValueError):
        return str(folder / CHECKPOINT)
    if summary.get("mid_epoch"):
        where = f"epoch {summary['epoch'] + 1}, {summary.get('samples_done_in_epoch')} samples done"
    else:
        where = f"after epoch {summary['epoch']}"
    return f"{folder / CHECKPOINT} ({where})"


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays, dtypes and scalars and Python's built-in containers only: any
    other global (a function, a class of another module) is refused, so loading runs no code.
    Reads pickled checkpoints of older versions (here and in ``models.weights``)."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),  # arrays in pickle protocol 5
        ("numpy._core.numeric", "_frombuffer"),
        ("collections", "OrderedDict"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "complex"),
        ("builtins", "bytearray"),
        ("builtins", "slice"),
        ("builtins", "range"),
    }

    def find_class(self, module: str, name: str) -> Any:
        dtypes = module in ("numpy.dtypes",) and name.endswith("DType")
        if (module, name) not in self.ALLOWED and not dtypes:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: only NumPy arrays and plain values are allowed"
            )
        return super().find_class(module, name)


def convert_legacy_checkpoint(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Convert a pickled checkpoint of an older minicnn (format ``minicnn-checkpoint-1``) to
    the current format, once. The pickle is read with an unpickler that accepts NumPy arrays
    and built-in values only, so a file that holds anything else is refused."""
    src, dst = Path(src), Path(dst)
    with open(src, "rb") as fp:
        try:
            state = NumpyOnlyUnpickler(fp).load()
        except (pickle.UnpicklingError, EOFError, ValueError, AttributeError) as e:
            raise SerializationError(f"{src}: cannot convert ({e})") from None
    if not isinstance(state, dict) or state.get("format") != LEGACY_CHECKPOINT:
        raise SerializationError(f"{src}: not a '{LEGACY_CHECKPOINT}' checkpoint")
    state["format"] = CHECKPOINT_FORMAT
    save(state, dst)
    return dst
