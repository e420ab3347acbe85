"""The Numba CPU backend: the kernel contract as `@njit(cache=True, parallel=...)` loops.

Each family sits in its own module (conv, pool, norm, dropout, residual); its docstring says what
one `prange` iteration computes and why that algorithm was chosen (conv keeps its product loops
in gemm.py and its copies in pack.py); no NumPy call (np.zeros, np.ones) becomes a parallel
loop of its own (`parallel=PARALLEL`; jit.py says why; the direct twins keep `parallel=True`).
The public functions are plain Python:
they make inputs contiguous, allocate the outputs and call the compiled kernels, which write
those outputs in place. Every parallel loop runs over an axis whose output slots the
iteration owns, so no kernel needs atomics, and every kernel compiles once per dtype (float32
and float64 share the source; Numba specialises it).

Compiled code is cached on disk, so only the first run pays for compilation. Numba checks a
cached kernel against its own source file only: after an edit to a helper module it calls
(gemm.py, pack.py) it would keep running the old machine code. So this package keys the cache
on all of its sources: while the kernels below are defined (that is when numba fixes where a
function's cache lives), numba's cache folder is ``<root>/<hash of every .py file here>``, the
root being ``$XDG_CACHE_HOME/minicnn/numba`` (``~/.cache/minicnn/numba``), or
``$NUMBA_CACHE_DIR/minicnn`` when that is set: the user's choice of place wins. An edit anywhere
here names a new, empty folder, so everything compiles afresh; folders unused for 30 days are
removed.
"""

import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numba

from . import threads

_HERE = Path(__file__).resolve().parent
_PRUNE_AFTER_S = 30 * 24 * 3600

# What compiling costs, for the notice: `python -m minicnn train lenet5 --dataset mnist-sample
# --epochs 1` took 32 CPU seconds with an empty cache and 5 with a full one (2-core AMD EPYC
# virtual machine); compilation runs on one thread, so that is about its wall time when idle.
COLD_COMPILE_S = 30
_SOURCES = (_HERE, _HERE.parent / "numpy_ref")


def source_hash(*folders: Path) -> str:
    """A hash of every .py file in ``folders`` (names and contents): the key of the cache.

    By default this folder and ``numpy_ref``, whose window rules ``direct.py`` compiles as they
    are: an edit to either must reach every kernel that inlines them.
    """
    h = hashlib.sha256()
    for path in sorted(p for f in (folders or _SOURCES) for p in Path(f).glob("*.py")):
        data = path.read_bytes()
        h.update(f"{path.name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:16]


def _cache_roots() -> list[Path]:
    """Where the keyed folders may live, best first: NUMBA_CACHE_DIR if the user set it, else
    the user cache, else the temp folder (for a home that cannot be written)."""
    if numba.config.CACHE_DIR:
        return [Path(numba.config.CACHE_DIR) / "minicnn"]
    user_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    user = getattr(os, "getuid", lambda: "user")()
    return [
        Path(user_cache) / "minicnn" / "numba",
        Path(tempfile.gettempdir()) / f"minicnn-{user}" / "numba",
    ]


def _prune(root: Path, keep: str) -> None:
    """Remove the keyed folders of other sources that nothing has used for 30 days."""
    now = time.time()
    for path in root.iterdir():
        is_key = len(path.name) == 16 and all(ch in "0123456789abcdef" for ch in path.name)
        if not is_key or path.name == keep:
            continue
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > _PRUNE_AFTER_S:
                shutil.rmtree(path, ignore_errors=True)


def _keyed_cache_dir() -> str | None:
    """The folder for this source's compiled kernels, made and marked as used now; None when
    none can be written (numba then decides)."""
    key = source_hash()
    for root in _cache_roots():
        path = root / key
        try:
            path.mkdir(parents=True, exist_ok=True)
            os.utime(path)  # the mtime _prune reads
            tempfile.TemporaryFile(dir=path).close()
        except OSError:
            continue
        with contextlib.suppress(OSError):
            _prune(root, keep=key)
        return str(path)
    return None


@contextlib.contextmanager
def _numba_cache_dir(path: str | None) -> Iterator[None]:
    """Point numba's cache at ``path`` while kernels are defined, then restore the setting, so
    that the user's own cached functions stay where numba would put them."""
    previous = numba.config.CACHE_DIR
    if path is not None:
        numba.config.CACHE_DIR = path
    try:
        yield
    finally:
        numba.config.CACHE_DIR = previous


with _numba_cache_dir(_keyed_cache_dir()):
    from ..foreach import adam_foreach_loop, sgd_foreach_loop
    from .conv import conv2d_backward_input, conv2d_backward_weight, conv2d_forward

    # The direct twins of the heavy kernels (direct.py): plain prange loops, read them first.
    from .direct import (
        adaptive_avgpool2d_backward_direct,
        adaptive_avgpool2d_forward_direct,
        adaptive_maxpool2d_backward_direct,
        adaptive_maxpool2d_forward_direct,
        avgpool2d_backward_direct,
        avgpool2d_forward_direct,
        batchnorm_backward_direct,
        batchnorm_forward_eval_direct,
        batchnorm_forward_train_direct,
        conv2d_backward_input_direct,
        conv2d_backward_weight_direct,
        conv2d_forward_direct,
        maxpool2d_backward_direct,
        maxpool2d_forward_direct,
    )
    from .dropout import dropout_mask
    from .norm import (
        batchnorm_backward,
        batchnorm_forward_eval,
        batchnorm_forward_train,
        batchnorm_update_running,
    )
    from .optim import adam_update_, sgd_update_
    from .pool import (
        adaptive_avgpool2d_backward,
        adaptive_avgpool2d_forward,
        adaptive_maxpool2d_backward,
        adaptive_maxpool2d_forward,
        avgpool2d_backward,
        avgpool2d_forward,
        maxpool2d_backward,
        maxpool2d_forward,
    )
    from .residual import residual_add_backward, residual_add_forward

threads.launch()


def cache_path() -> str | None:
    """The folder numba reads and writes this package's compiled kernels in (None without JIT:
    under NUMBA_DISABLE_JIT there are no compiled kernels)."""
    prefix = __name__ + "."
    for name, module in list(sys.modules.items()):
        if not name.startswith(prefix) or module is None:
            continue
        for obj in vars(module).values():
            path = getattr(getattr(obj, "stats", None), "cache_path", None)
            if isinstance(path, str) and getattr(obj, "__module__", None) == name:
                return path
    return None


def compile_notice() -> str | None:
    """A line to show before the first kernel runs when the cache holds nothing yet (no numba
    index file in :func:`cache_path`), else None."""
    path = cache_path()
    if path is None or any(Path(path).glob("*.nbi")):
        return None
    return (
        f"compiling kernels for numba, once per install (about {COLD_COMPILE_S} s; "
        f"cached in {path})..."
    )


# Every call through the table runs on the number of threads that is fastest for it (see
# threads.py); the module's own names are the kernels as written.
KERNELS = {
    "conv2d_forward": conv2d_forward,
    "conv2d_backward_input": conv2d_backward_input,
    "conv2d_backward_weight": conv2d_backward_weight,
    "maxpool2d_forward": maxpool2d_forward,
    "maxpool2d_backward": maxpool2d_backward,
    "avgpool2d_forward": avgpool2d_forward,
    "avgpool2d_backward": avgpool2d_backward,
    "adaptive_avgpool2d_forward": adaptive_avgpool2d_forward,
    "adaptive_avgpool2d_backward": adaptive_avgpool2d_backward,
    "adaptive_maxpool2d_forward": adaptive_maxpool2d_forward,
    "adaptive_maxpool2d_backward": adaptive_maxpool2d_backward,
    "batchnorm_forward_train": batchnorm_forward_train,
    "batchnorm_forward_eval": batchnorm_forward_eval,
    "batchnorm_backward": batchnorm_backward,
    "batchnorm_update_running": batchnorm_update_running,
    "dropout_mask": dropout_mask,
    "sgd_update_": sgd_update_,
    "sgd_foreach_update_": sgd_foreach_loop(sgd_update_),
    "adam_update_": adam_update_,
    "adam_foreach_update_": adam_foreach_loop(adam_update_),
    "residual_add_forward": residual_add_forward,
    "residual_add_backward": residual_add_backward,
}
KERNELS = {name: threads.threaded(fn) for name, fn in KERNELS.items()}

__all__ = [*KERNELS, "KERNELS"]


DIRECT = {
    "conv2d_forward_direct": conv2d_forward_direct,
    "conv2d_backward_input_direct": conv2d_backward_input_direct,
    "conv2d_backward_weight_direct": conv2d_backward_weight_direct,
    "maxpool2d_forward_direct": maxpool2d_forward_direct,
    "maxpool2d_backward_direct": maxpool2d_backward_direct,
    "avgpool2d_forward_direct": avgpool2d_forward_direct,
    "avgpool2d_backward_direct": avgpool2d_backward_direct,
    "adaptive_avgpool2d_forward_direct": adaptive_avgpool2d_forward_direct,
    "adaptive_avgpool2d_backward_direct": adaptive_avgpool2d_backward_direct,
    "adaptive_maxpool2d_forward_direct": adaptive_maxpool2d_forward_direct,
    "adaptive_maxpool2d_backward_direct": adaptive_maxpool2d_backward_direct,
    "batchnorm_forward_train_direct": batchnorm_forward_train_direct,
    "batchnorm_forward_eval_direct": batchnorm_forward_eval_direct,
    "batchnorm_backward_direct": batchnorm_backward_direct,
}

__all__ += [*DIRECT, "DIRECT"]
