"""Fetch dataset files over HTTP(S), check their MD5, and write them atomically.

A download goes to a temporary file in the destination directory; only once its MD5 matches the
published value is it renamed into place with ``os.replace`` (atomic on one file system). So a
file with a dataset's canonical name is always complete: an interrupted or corrupt download
leaves nothing behind.

Every network access goes through :func:`fetch`, so tests can replace it and never touch the
network. MD5s of files found on disk are computed once per process and file (keyed by path,
inode, size and modification time, so a file replaced under the same name is hashed again),
so constructing a dataset twice does not hash it twice.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20
_md5_cache: dict[tuple[str, int, int, int], str] = {}


class DatasetNotFoundError(FileNotFoundError):
    """Files a dataset needs are not on disk (and were not to be downloaded)."""


class ChecksumError(RuntimeError):
    """A file's MD5 differs from the published one."""


class DownloadError(RuntimeError):
    """No mirror could deliver a file."""


def fetch(url: str, out: BinaryIO, timeout: float = 60.0) -> None:
    """Copy the body of ``url`` into the open binary file ``out`` (the one network access)."""
    request = urllib.request.Request(url, headers={"User-Agent": "minicnn"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        shutil.copyfileobj(response, out, _CHUNK)


def _cache_key(path: str | os.PathLike) -> tuple[str, int, int, int]:
    # The inode tells a file renamed over this name (a new download, a copy put in place)
    # from the one hashed, even when size and time stamp agree: file time stamps advance in
    # steps of a few milliseconds.
    st = os.stat(path)
    return os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns


def md5sum(path: str | os.PathLike) -> str:
    """The MD5 of a file as 32 hex digits, cached per process by (path, inode, size, mtime)."""
    key = _cache_key(path)
    digest = _md5_cache.get(key)
    if digest is None:
        h = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(_CHUNK), b""):
                h.update(block)
        digest = _md5_cache[key] = h.hexdigest()
    return digest


def check_md5(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`ChecksumError` naming ``path`` if its MD5 is not ``expected``."""
    got = md5sum(path)
    if got != expected:
        raise ChecksumError(
            f"{path}: MD5 is {got}, expected {expected}; the file is corrupt, incomplete or "
            "not the published one. Delete it and download it again (download=True), or pass "
            "verify_md5=False if you know its content is right (a re-compressed copy)."
        )


def download_file(urls: Sequence[str], path: str | os.PathLike, md5: str) -> Path:
    """Download ``path`` from the first of ``urls`` that delivers bytes with MD5 ``md5``.

    Each attempt writes a temporary file next to ``path``; a wrong checksum or a network error
    removes it and the next URL is tried. Raises :class:`ChecksumError` when some URL delivered
    a wrong checksum, :class:`DownloadError` otherwise, listing every URL and what went wrong.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    checksum_failed = False
    for url in urls:
        print(f"minicnn: downloading {url} -> {path}", file=sys.stderr)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                fetch(url, out)
            got = md5sum(tmp)
            if got != md5:
                checksum_failed = True
                failures.append(f"{url}: MD5 of the download is {got}, expected {md5}")
                continue
            os.replace(tmp, path)
            _md5_cache[_cache_key(path)] = got  # the rename keeps size and mtime: no rehash
            return path
        except OSError as e:  # urllib's URLError and HTTPError are OSErrors
            failures.append(f"{url}: {e}")
        finally:
            if tmp.exists():
                tmp.unlink()
    error = ChecksumError if checksum_failed else DownloadError
    raise error(f"could not download {path.name} to {path.parent}:\n  " + "\n  ".join(failures))


def missing_files_error(
    dataset: str, directory: Path, missing: Sequence[str], root_dir: Path, where: str
) -> DatasetNotFoundError:
    """One error that names every missing file, the directory searched and how to fix it."""
    from minicnn.data.paths import ENV_VAR

    return DatasetNotFoundError(
        f"{dataset}: {len(missing)} file(s) missing from {directory}: {', '.join(missing)} "
        f"(data directory {root_dir}, chosen by {where}). To fix: pass download=True to fetch "
        f"them, put the files there, or point to a data directory that has them with "
        f"root=<dir> or the environment variable {ENV_VAR}=<dir>."
    )
