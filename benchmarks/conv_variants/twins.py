"""What the readable conv2d costs: the Numba direct twins against the fast kernels they stand
beside, in every direction (forward, backward-input, backward-weight).

For each layer shape both run on the same float32 inputs; they must agree (to 1e-3 of the
output's magnitude) before either is timed. ``ratio`` is twin time / fast time, measured in the
same run with Numba's default thread count.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np

from benchmarks.common import median_ms

DIRECTIONS = {
    "fwd": "conv2d_forward",
    "bwd_input": "conv2d_backward_input",
    "bwd_weight": "conv2d_backward_weight",
}


def run(shapes: list[tuple], repeats: int, warmup: int, only: str | None) -> list[dict[str, Any]]:
    """One row per layer shape (name, N, C, H, OC, K, stride, padding): ms of each direction's
    twin and fast kernel, and their ratio."""
    from minicnn.kernels import numba_cpu

    rows = []
    rng = np.random.default_rng(0)
    for case, N, C, H, OC, K, S, P in shapes:
        if only and only not in case:
            continue
        x = rng.standard_normal((N, C, H, H), dtype=np.float32)
        w = rng.standard_normal((OC, C, K, K), dtype=np.float32)
        b = rng.standard_normal(OC, dtype=np.float32)
        geometry = (S, S, P, P, 1, 1, 1)
        y = numba_cpu.conv2d_forward(x, w, b, *geometry)
        gy = rng.standard_normal(y.shape, dtype=np.float32)
        args = {
            "fwd": (x, w, b, *geometry),
            "bwd_input": (gy, w, H, H, *geometry),
            "bwd_weight": (gy, x, K, K, *geometry),
        }
        row: dict[str, Any] = {"case": case}
        for short, name in DIRECTIONS.items():
            fast, twin = numba_cpu.KERNELS[name], numba_cpu.DIRECT[f"{name}_direct"]
            want, got = fast(*args[short]), twin(*args[short])
            scale = float(np.abs(want).max())
            if not np.allclose(got, want, rtol=1e-3, atol=1e-3 * scale):
                raise AssertionError(f"{name}_direct disagrees with {name} on {case}")
            for kind, fn in (("fast", fast), ("direct", twin)):
                time.sleep(0.3)  # let OpenBLAS's spinning threads go to sleep (see __main__)
                call = functools.partial(fn, *args[short])
                row[f"{short}_{kind}"] = median_ms(call, repeats, warmup)
            row[f"{short}_ratio"] = row[f"{short}_direct"] / row[f"{short}_fast"]
        rows.append(row)
        print(f"  {case}: " + ", ".join(f"{s} {row[f'{s}_ratio']:.0f}x" for s in DIRECTIONS))
    return rows


def columns() -> list[tuple[str, str, str]]:
    """The table's columns: per direction, fast ms, twin ms and the ratio."""
    cols = [("case", "case", "")]
    for short in DIRECTIONS:
        cols += [
            (f"{short}_fast", f"{short} fast ms", "{:.2f}"),
            (f"{short}_direct", f"{short} direct ms", "{:.1f}"),
            (f"{short}_ratio", "ratio", "{:.0f}x"),
        ]
    return cols
