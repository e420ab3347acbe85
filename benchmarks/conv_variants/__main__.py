"""Validate, then time, every numbered conv2d forward variant on the ResNet-20 and LeNet-5
layer shapes; then the Numba direct twins against the fast kernels in every direction.

    python -m benchmarks.conv_variants [--repeats 10] [--only resnet20] [--part twins]

Each variant is first run on small inputs of every benchmark geometry and two odd ones
(groups, dilation, uneven sizes), float32 and float64, and compared with
``minicnn.kernels.numpy_ref.conv2d_forward``; a variant that disagrees or raises is reported
and not timed. Times are the median of ``--repeats`` runs after warm-up (so JIT compilation is
excluded), with Numba's default thread count. Before each timing the runner sleeps 0.3 s:
after an np.matmul call OpenBLAS's worker threads spin for about 2**28 cycles (~70 ms) before
they sleep, and a Numba kernel timed while one spins shares its cores with it (v2 would
otherwise slow down whichever variant runs after it). The twins table (``twins.py``) gives,
per direction, the fast kernel's ms, the direct twin's ms (median of ``--twin-repeats``) and
their ratio. Writes ``benchmarks/results/conv-variants-cpu.json`` (``conv-twins-cpu.json`` for
``--part twins``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from typing import Any

import numpy as np
from minicnn.kernels.geometry import out_size

from benchmarks.common import machine_info, median_ms, sgemm_gflops, table, write_json
from benchmarks.conv_variants import VARIANTS, twins

# name, N, C, H (= W), OC, K, stride, padding: the conv rows of benchmarks/ops.py
SHAPES = [
    ("lenet5.conv1", 64, 1, 32, 6, 5, 1, 0),
    ("lenet5.conv2", 64, 6, 14, 16, 5, 1, 0),
    ("resnet20.stem", 128, 3, 32, 16, 3, 1, 1),
    ("resnet20.conv16", 128, 16, 32, 16, 3, 1, 1),
    ("resnet20.conv16to32.s2", 128, 16, 32, 32, 3, 2, 1),
    ("resnet20.conv32", 128, 32, 16, 32, 3, 1, 1),
    ("resnet20.conv32to64.s2", 128, 32, 16, 64, 3, 2, 1),
    ("resnet20.conv64", 128, 64, 8, 64, 3, 1, 1),
    ("resnet20.proj1x1.s2", 128, 16, 32, 32, 1, 2, 0),
]

# (N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G): odd cases the benchmark shapes miss
ODD = [(3, 6, 11, 9, 4, 3, 2, 2, 1, 1, 0, 2, 1, 2), (2, 8, 7, 10, 6, 2, 3, 1, 3, 2, 1, 1, 1, 2)]


def _check(fn: Any) -> str | None:
    """None if fn matches the reference on every check case, else what went wrong."""
    from minicnn.kernels import numpy_ref

    rng = np.random.default_rng(0)
    cases = [(4, C, H, H, OC, K, K, S, S, P, P, 1, 1, 1) for _, _, C, H, OC, K, S, P in SHAPES]
    for dtype, tol in ((np.float32, 1e-4), (np.float64, 1e-10)):
        for N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G in cases + ODD:
            x = rng.standard_normal((N, C, H, W)).astype(dtype)
            w = rng.standard_normal((OC, C // G, KH, KW)).astype(dtype)
            b = rng.standard_normal(OC).astype(dtype)
            geom = (SH, SW, PH, PW, DH, DW, G)
            try:
                got = fn(x, w, b, *geom)
            except Exception as e:  # a variant that cannot run a case fails it
                return f"{type(e).__name__} on {x.shape} {w.shape} {geom}: {e}"
            ref = numpy_ref.conv2d_forward(x, w, b, *geom)
            scale = max(1.0, float(np.abs(ref).max()))
            if got.shape != ref.shape or not np.allclose(got, ref, rtol=tol, atol=tol * scale):
                return f"wrong result on {x.shape} {w.shape} {geom} ({dtype.__name__})"
    return None


def run(repeats: int, warmup: int, only: str | None, part: str = "all") -> dict[str, Any]:
    rate = sgemm_gflops(gpu=False)
    failed: dict[str, str] = {}
    variants = {}
    for name in VARIANTS if part != "twins" else ():
        fn = importlib.import_module(f"benchmarks.conv_variants.{name}").conv2d_forward
        error = _check(fn)
        if error:
            failed[name] = error
            print(f"  {name}: FAILED validation, not timed: {error}", flush=True)
        else:
            variants[name] = fn
            print(f"  {name}: matches numpy_ref", flush=True)
    rows = []
    rng = np.random.default_rng(0)
    for case, N, C, H, OC, K, S, P in SHAPES:
        if (only and only not in case) or not variants:
            continue
        x = rng.standard_normal((N, C, H, H), dtype=np.float32)
        w = rng.standard_normal((OC, C, K, K), dtype=np.float32)
        b = rng.standard_normal(OC, dtype=np.float32)
        OH = out_size(H, K, S, P, 1)
        flops = 2.0 * N * OC * OH * OH * C * K * K
        row: dict[str, Any] = {"case": case}
        for name, fn in variants.items():
            time.sleep(0.3)  # let OpenBLAS's spinning threads (v2, sgemm) go to sleep
            args = (x, w, b, S, S, P, P, 1, 1, 1)
            ms = median_ms(lambda fn=fn, args=args: fn(*args), repeats, warmup)
            row[name] = ms
            row[f"{name}_gflops"] = flops / (ms * 1e-3) / 1e9
        best = min(variants, key=lambda v: row[v])
        row["best"] = best
        rows.append(row)
        print(f"  {case}: " + ", ".join(f"{v[:2]} {row[v]:.2f} ms" for v in variants), flush=True)
    return {
        "machine": machine_info(),
        "sgemm_gflops": rate,
        "repeats": repeats,
        "warmup": warmup,
        "failed": failed,
        "variants": list(variants),
        "rows": rows,
    }


def run_twins(repeats: int, warmup: int, only: str | None) -> dict[str, Any]:
    # the load average says how far other work on the machine may have skewed the times
    before = os.getloadavg()
    rows = twins.run(SHAPES, repeats, warmup, only)
    return {"twin_repeats": repeats, "twins": rows, "loadavg": [before, os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--only", default=None, help="run cases whose name contains this")
    p.add_argument("--out", default=None, help="JSON path (default results/conv-variants-cpu.json)")
    p.add_argument("--part", choices=["all", "variants", "twins"], default="all")
    p.add_argument("--twin-repeats", type=int, default=3, help="repeats of each direct twin")
    args = p.parse_args(argv)
    result = run(args.repeats, args.warmup, args.only, args.part)
    if args.part != "variants":
        result.update(run_twins(args.twin_repeats, 1, args.only))
        print(table(result["twins"], twins.columns()))
        print("numba direct twin vs fast kernel, float32; ratio = twin ms / fast ms")
    if args.part != "twins":
        columns = [("case", "case", "")]
        columns += [(v, f"{v[:2]} ms", "{:.2f}") for v in result["variants"]]
        columns.append(("best", "fastest", ""))
        print(table(result["rows"], columns))
        print(
            f"forward only, float32; sgemm (np.matmul, 2048^3) {result['sgemm_gflops']:.0f} GFLOP/s"
        )
    for name, error in result["failed"].items():
        print(f"{name}: not timed, failed validation: {error}")
    name = "conv-twins-cpu" if args.part == "twins" else "conv-variants-cpu"
    path = write_json(name, result, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
