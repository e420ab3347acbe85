"""Where datasets live on disk: the ``root`` argument, else ``MINICNN_DATA``, else a cache dir.

Inside that directory each dataset has its own folder, named as its original distribution
names it: ``mnist/``, ``fashion-mnist/``, ``cifar-10-batches-py/`` (or ``cifar-10-batches-bin/``).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "MINICNN_DATA"


def default_data_dir() -> Path:
    """The per-user cache: ``$XDG_CACHE_HOME/minicnn``, or ``~/.cache/minicnn``."""
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "minicnn"


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The data directory: ``root`` if given, else ``$MINICNN_DATA``, else :func:`default_data_dir`."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return default_data_dir()


def where_from(root: str | os.PathLike | None) -> str:
    """Say how :func:`data_dir` chose its answer, for error messages."""
    if root is not None:
        return "the root argument"
    if os.environ.get(ENV_VAR, "").strip():
        return f"${ENV_VAR}"
    return f"the default cache directory (neither root nor ${ENV_VAR} was set)"
