"""How long each ``minicnn.viz`` method takes on the shipped LeNet-5.

    python -m benchmarks.viz_speed [--backends numpy numba] [--repeats 5]

For each backend: one warm-up call (JIT compiles, kernel loads), then the median and the
minimum of ``--repeats`` timed calls (a fifth of them for the calls that take seconds; the
minimum is the better estimate on a machine shared with other work), of: the forward pass
alone (the baseline every method is measured against: ``x forward`` is the ratio of medians),
vanilla saliency of one input, SmoothGrad (25 samples),
integrated gradients (64 steps), Grad-CAM, occlusion (6x6 patch, stride 2), a class model
(200 steps, all ten classes in one batch, and one class alone), a max-filter image (100 steps)
and an inversion from conv2 (300 steps). Prints a table and writes
``benchmarks/results/viz-speed-cpu.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minicnn as mc
from benchmarks.common import machine_info, table, write_json
from minicnn import data, models, viz


def cases(model: Any, x: np.ndarray, label: int) -> dict[str, tuple[Callable[[], Any], int]]:
    """name -> (call, repeats divisor): long calls run fewer times."""
    t = mc.tensor(x)

    def forward() -> Any:
        with mc.no_grad():
            return model(t)

    return {
        "forward (baseline)": (forward, 1),
        "saliency": (lambda: viz.saliency(model, x, label), 1),
        "smoothgrad (25)": (lambda: viz.smoothgrad(model, x, label), 1),
        "integrated gradients (64)": (lambda: viz.integrated_gradients(model, x, label), 1),
        "grad-cam": (lambda: viz.grad_cam(model, x, label, "features.3"), 1),
        "occlusion (6x6, stride 2)": (lambda: viz.occlusion(model, x, label), 1),
        "class model, 1 class (200 steps)": (lambda: viz.class_model(model, label), 5),
        "class models, 10 classes (200 steps)": (
            lambda: viz.class_model(model, list(range(10))),
            5,
        ),
        "max filter (100 steps)": (lambda: viz.max_filter(model, "features.3", 0), 5),
        "inversion from conv2 (300 steps)": (lambda: viz.invert(model, x, "features.3"), 5),
    }


def timed(call: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """(median, minimum) wall time of ``call()`` in ms, after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--backends",
        nargs="+",
        default=[b for b in ("numpy", "numba") if b in mc.available_backends()],
    )
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    entry = models.get_weights("lenet5", "mnist")
    ds = data.MNISTSample(train=False)
    x, label = entry.preprocess(ds.data[:1]), int(ds.targets[0])
    rows = []
    for name in args.backends:
        with mc.use_backend(name):
            model = models.lenet5(weights="mnist").eval()
            base = None
            for what, (call, divisor) in cases(model, x, label).items():
                median, best = timed(call, max(1, args.repeats // divisor))
                base = base or median
                rows.append(
                    {"backend": name, "method": what, "ms": median, "min_ms": best,
                     "ratio": median / base}
                )  # fmt: skip
                print(f"{name:6s} {what:40s} {median:10.2f} ms (min {best:.2f})", flush=True)
    print()
    columns = [
        ("backend", "backend", ""),
        ("method", "method", ""),
        ("ms", "median ms", "{:.2f}"),
        ("min_ms", "min ms", "{:.2f}"),
        ("ratio", "x forward", "{:.0f}"),
    ]
    print(table(rows, columns))
    path = write_json(
        "viz-speed-cpu",
        {
            "model": "lenet5 (weights='mnist'), one input",
            "rows": rows,
            "load_average_1_5_15_min": os.getloadavg(),  # a busy machine inflates every row
            "numba_threads": os.environ.get("NUMBA_NUM_THREADS"),
            "machine": machine_info(),
        },
        args.out,
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
