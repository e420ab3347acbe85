"""JIT benchmark: what Numba's compilation costs, with an empty cache and with a filled one.

    python -m benchmarks.jit

Every measurement runs in a fresh Python process whose ``NUMBA_CACHE_DIR`` points at a
temporary folder, so nothing compiled by an earlier run (or by the checkout's ``__pycache__``)
is reused:

- first conv: ``import minicnn`` and the first ``conv2d`` on the ``numba`` backend (float32,
  a ResNet-20 layer at batch 8), cold (empty cache: the kernel is compiled) and warm (a new
  process after the cold one filled the cache: the kernel is loaded from it);
- every kernel: the first call of each kernel of the contract on small float32 inputs, along
  every code path the convolutions have, cold (its compile time) and warm (its cache load).

Prints a table and writes ``benchmarks/results/jit-cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from benchmarks.common import machine_info, table, write_json

# Runs in the child process: import, then one conv2d through the public API.
FIRST_CONV = """
import json, time
t0 = time.perf_counter()
import numpy as np
import minicnn
import minicnn.nn.functional as F
t1 = time.perf_counter()
rng = np.random.default_rng(0)
x = minicnn.tensor(rng.standard_normal((8, 16, 32, 32), dtype=np.float32), backend="numba")
w = minicnn.tensor(rng.standard_normal((16, 16, 3, 3), dtype=np.float32), backend="numba")
F.conv2d(x, w, padding=1)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_conv_s": t2 - t1}))
"""

# Runs in the child process: the first call of every kernel, timed one by one.
EVERY_KERNEL = """
import json, time
import numpy as np
from minicnn.kernels import KERNEL_NAMES
from minicnn.kernels import numba_cpu as K
f4 = np.float32
r = np.random.default_rng(0)
def a(*shape):
    return r.standard_normal(shape).astype(f4)
x, w, gy = a(2, 16, 8, 8), a(8, 16, 3, 3), a(2, 8, 8, 8)
x1, w1 = a(2, 1, 8, 8), a(4, 1, 3, 3)
calls = {
    # (path, thunk): one entry per code path of the kernel
    "conv2d_forward": [
        ("windows", lambda: K.conv2d_forward(x, w, None, 1, 1, 1, 1, 1, 1, 1)),
        ("planes", lambda: K.conv2d_forward(x1, w1, None, 1, 1, 1, 1, 1, 1, 1)),
    ],
    "conv2d_backward_input": [
        ("windows", lambda: K.conv2d_backward_input(gy, w, 8, 8, 1, 1, 1, 1, 1, 1, 1)),
        ("planes", lambda: K.conv2d_backward_input(a(2, 4, 4, 4), w1, 8, 8, 2, 2, 1, 1, 1, 1, 1)),
    ],
    "conv2d_backward_weight": [
        ("planes", lambda: K.conv2d_backward_weight(gy, x, 3, 3, 1, 1, 1, 1, 1, 1, 1)),
    ],
    "maxpool2d_forward": [("", lambda: K.maxpool2d_forward(x, 2, 2, 2, 2, 0, 0, 1, 1, 4, 4))],
    "maxpool2d_backward": [
        ("", lambda: K.maxpool2d_backward(
            a(2, 16, 4, 4), K.maxpool2d_forward(x, 2, 2, 2, 2, 0, 0, 1, 1, 4, 4)[1],
            8, 8, 2, 2, 2, 2, 0, 0, 1, 1))
    ],
    "avgpool2d_forward": [("", lambda: K.avgpool2d_forward(x, 2, 2, 2, 2, 0, 0, 4, 4, 1))],
    "avgpool2d_backward": [
        ("", lambda: K.avgpool2d_backward(a(2, 16, 4, 4), 8, 8, 2, 2, 2, 2, 0, 0, 1))
    ],
    "adaptive_avgpool2d_forward": [("", lambda: K.adaptive_avgpool2d_forward(x, 1, 1))],
    "adaptive_avgpool2d_backward": [("", lambda: K.adaptive_avgpool2d_backward(a(2, 16, 1, 1), 8, 8))],
    "adaptive_maxpool2d_forward": [("", lambda: K.adaptive_maxpool2d_forward(x, 2, 2))],
    "adaptive_maxpool2d_backward": [
        ("", lambda: K.adaptive_maxpool2d_backward(
            a(2, 16, 2, 2), K.adaptive_maxpool2d_forward(x, 2, 2)[1], 8, 8))
    ],
    "batchnorm_forward_train": [("", lambda: K.batchnorm_forward_train(x, a(16), a(16), 1e-5))],
    "batchnorm_forward_eval": [
        ("", lambda: K.batchnorm_forward_eval(x, a(16), np.abs(a(16)) + 1, a(16), a(16), 1e-5))
    ],
    "batchnorm_backward": [
        ("", lambda: K.batchnorm_backward(a(2, 16, 8, 8), x, a(16), a(16), np.abs(a(16))))
    ],
    "batchnorm_update_running": [
        ("", lambda: K.batchnorm_update_running(a(16), np.abs(a(16)), a(16), np.abs(a(16)) + 1,
                                                0.1, 1e-5, 128))
    ],
    "dropout_mask": [("", lambda: K.dropout_mask((2, 16, 8, 8), 0.5, 0))],
    "residual_add_forward": [("", lambda: K.residual_add_forward(x, x, 1))],
    "residual_add_backward": [("", lambda: K.residual_add_backward(x, x, 1))],
    "sgd_update_": [
        ("", lambda: K.KERNELS["sgd_update_"](a(64), a(64), a(64), 0.1, 0.9, 0.0, 0.0, False,
                                              False, False))
    ],
}
out = {}
for name in KERNEL_NAMES:
    if name not in calls:
        out[name] = None  # a kernel this benchmark has no sample call for
        continue
    for path, thunk in calls[name]:
        t = time.perf_counter()
        try:
            thunk()
        except Exception:  # a sample call that no longer fits the kernel: report, go on
            t = None
        key = name + (f" ({path})" if path else "")
        out[key] = None if t is None else time.perf_counter() - t
print(json.dumps(out))
"""


def _child(code: str, cache: str) -> tuple[dict[str, Any], float]:
    """Run ``code`` in a new interpreter with NUMBA_CACHE_DIR=cache; its JSON and wall time."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as every:
        cold_first, cold_first_wall = _child(FIRST_CONV, first)
        cold_all, cold_all_wall = _child(EVERY_KERNEL, every)
        warm_first, warm_first_wall = _child(FIRST_CONV, every)  # cache filled by cold_all
        warm_all, warm_all_wall = _child(EVERY_KERNEL, every)
    rows = [
        {
            "what": "import minicnn",
            "cold_s": cold_first["import_s"],
            "warm_s": warm_first["import_s"],
        },
        {
            "what": "first conv2d forward (numba)",
            "cold_s": cold_first["first_conv_s"],
            "warm_s": warm_first["first_conv_s"],
        },
        {
            "what": "import + first conv2d",
            "cold_s": cold_first["import_s"] + cold_first["first_conv_s"],
            "warm_s": warm_first["import_s"] + warm_first["first_conv_s"],
        },
        {"what": "  whole process (wall)", "cold_s": cold_first_wall, "warm_s": warm_first_wall},
    ]
    for name in cold_all:
        rows.append({"what": f"  {name}", "cold_s": cold_all[name], "warm_s": warm_all.get(name)})
    rows.append(
        {
            "what": "every kernel (sum of first calls)",
            "cold_s": sum(v for v in cold_all.values() if v),
            "warm_s": sum(v for v in warm_all.values() if v),
        }
    )
    rows.append(
        {"what": "  whole process (wall)", "cold_s": cold_all_wall, "warm_s": warm_all_wall}
    )
    return {"machine": machine_info(), "python": sys.executable, "rows": rows}


COLUMNS = [("what", "", ""), ("cold_s", "cold s", "{:.2f}"), ("warm_s", "warm s", "{:.2f}")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=None, help="JSON path (default results/jit-cpu.json)")
    args = p.parse_args(argv)
    result = run()
    print(table(result["rows"], COLUMNS))
    print("cold: empty NUMBA_CACHE_DIR (compiled); warm: a new process, the cache filled")
    path = write_json("jit-cpu", result, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
