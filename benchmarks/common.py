"""Shared benchmark machinery: timing, machine facts, tables and JSON.

Timing rule: warm up (JIT compiles, CUDA module loads, allocator pools), then take the median
of ``repeats`` timed runs. CPU runs use ``time.perf_counter``; GPU runs use CUDA events around
each run and synchronise, so asynchronous launches are not mistaken for finished work.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def median_ms(fn: Callable[[], Any], repeats: int, warmup: int, gpu: str | None = None) -> float:
    """Median wall time of ``fn()`` in ms. ``gpu`` is None, "cupy" or "torch" (CUDA events)."""
    for _ in range(warmup):
        fn()
    times = []
    if gpu == "cupy":
        import cupy

        for _ in range(repeats):
            start, end = cupy.cuda.Event(), cupy.cuda.Event()
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(cupy.cuda.get_elapsed_time(start, end))
    elif gpu == "torch":
        import torch

        for _ in range(repeats):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    else:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """Machine, library versions and date, for the JSON record."""
    info: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    for mod in ("numba", "cupy", "torch"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
            info[mod] = None
    try:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        info["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        info["cuda_driver"] = cupy.cuda.runtime.driverGetVersion()
        info["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
    except Exception:
        info["gpu"] = None
    return info


def sgemm_gflops(gpu: bool, n: int = 2048, repeats: int = 5) -> float:
    """The machine's measured float32 matrix-multiply rate: the practical ceiling for convs."""
    if gpu:
        import cupy as xp

        a = xp.random.standard_normal((n, n), dtype=xp.float32)
        ms = median_ms(lambda: a @ a, repeats, 2, gpu="cupy")
    else:
        a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
        ms = median_ms(lambda: a @ a, repeats, 1)
    return 2 * n**3 / (ms * 1e-3) / 1e9


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> str:
    """A plain-text table; ``columns`` are (key, header, format)."""
    cells = [[h for _, h, _ in columns]]
    for r in rows:
        cells.append(
            [
                "-" if r.get(k) is None else (fmt.format(r[k]) if fmt else str(r[k]))
                for k, _, fmt in columns
            ]
        )
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(name: str, payload: dict[str, Any], out: str | None = None) -> Path:
    path = Path(out) if out else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def torch_fp32(device: str) -> None:
    """Full float32 arithmetic in PyTorch (no TF32 tensor-core shortcuts), so it computes what
    minicnn computes; cuDNN may pick its fastest algorithm per shape (``benchmark``)."""
    import torch

    if device == "cuda":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = True


SCRATCH = RESULTS.parent.parent / "runs" / "benchmarks"


def record_path(name: str, out: str | None) -> Path:
    """Where a benchmark writes its JSON: ``out`` when given (a committed record is replaced
    only on request), else ``runs/benchmarks/<name>.json``, which git ignores."""
    return Path(out) if out else SCRATCH / f"{name}.json"


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none): a record says how
    busy the machine was, since numbers taken on a busy machine mean something else."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


_BUSY = (
    "import signal, sys\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\nwhile True: pass\n"
)


class CompetingLoad:
    """``with CompetingLoad(k):`` runs ``k`` CPU-bound processes (a Python busy loop each)
    for the duration of the block: another program holding cores, as on a laptop that is
    also doing something else. They are stopped when the block ends, whatever happens."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._procs: list[Any] = []

    def __enter__(self) -> CompetingLoad:
        import subprocess
        import sys

        for _ in range(self.processes):
            self._procs.append(subprocess.Popen([sys.executable, "-c", _BUSY]))
        if self.processes:
            time.sleep(0.5)  # let the scheduler see them
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self._procs:
            p.terminate()
        for p in self._procs:
            try:
                p.wait(timeout=5)
            except Exception:
                p.kill()
                p.wait()
        self._procs.clear()
