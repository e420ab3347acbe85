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

- first epoch: ``python -m minicnn train lenet5 --epochs 1`` as a new user runs it, with
  ``XDG_CACHE_HOME`` and ``NUMBA_CACHE_DIR`` pointing at empty folders (cold), then again with
  the cache it filled (warm): the wall time to the end of the first training step, Numba's
  compile time before it (CPU seconds, from Numba's compile events), and the whole run; the
  compile share is compile time over the cold run's wall time. ``--epoch-batches N`` stops
  the runs after N steps (the whole epoch by default).

Prints a table and writes ``runs/benchmarks/jit-cpu.json`` (or ``--out``).
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

from benchmarks.common import load_average, machine_info, record_path, table, write_json

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


# Runs in the child process: the command line's train, with Numba's compile events counted
# (top-level compiles only: a kernel's time includes the helpers it compiles).
TRAIN = """
import json, os, resource, sys, time
t0 = time.perf_counter()
from numba.core import event

compiles = []
class Compiles(event.Listener):
    depth = 0
    def on_start(self, ev):
        self.depth += 1
        if self.depth == 1:
            self.t = time.process_time()
    def on_end(self, ev):
        self.depth -= 1
        if self.depth == 0:
            fn = getattr(ev.data["dispatcher"], "py_func", None)
            name = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}" if fn else "?"
            compiles.append((name, time.process_time() - self.t, time.perf_counter() - t0))
event.register("numba:compile", Compiles())

import minicnn.training as T
stop = int(os.environ.get("JIT_STOP_AFTER", "0"))
seen = {"steps": 0}
step = T.train_step
def counted(*args, **kwargs):
    out = step(*args, **kwargs)
    seen["steps"] += 1
    if seen["steps"] == 1:
        seen["first_step_s"] = time.perf_counter() - t0
        seen["compile_before_s"] = sum(c[1] for c in compiles)
        seen["compiled_before"] = [c[0] for c in compiles]
    if stop and seen["steps"] >= stop:
        raise KeyboardInterrupt
    return out
T.train_step = counted
import minicnn.cli as cli
try:
    cli.main(sys.argv[1:])
except KeyboardInterrupt:
    pass
cpu = resource.getrusage(resource.RUSAGE_SELF)
seen.update(total_s=time.perf_counter() - t0, cpu_s=cpu.ru_utime + cpu.ru_stime,
            compile_s=sum(c[1] for c in compiles),
            compiles={name: round(sum(c[1] for c in compiles if c[0] == name), 2)
                      for name, _, _ in compiles},
            signatures={name: sum(c[0] == name for c in compiles) for name, _, _ in compiles})
print(json.dumps(seen))
"""


def train_run(cache_home: str, out_dir: str, steps: int) -> dict[str, Any]:
    """One ``train lenet5 --epochs 1`` in a fresh interpreter whose caches live in
    ``cache_home``; returns the child's JSON."""
    env = {k: v for k, v in os.environ.items() if k not in ("MINICNN_BACKEND",)}
    env.update(XDG_CACHE_HOME=cache_home, NUMBA_CACHE_DIR=os.path.join(cache_home, "numba"),
               JIT_STOP_AFTER=str(steps))  # fmt: skip
    args = ["train", "lenet5", "--epochs", "1", "--no-progress", "--out", out_dir]
    done = subprocess.run(
        [sys.executable, "-c", TRAIN, *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"train failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_epoch(steps: int) -> dict[str, Any]:
    """The cold and the warm run of ``train lenet5 --epochs 1`` (see the module docstring)."""
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as out:
        cold = train_run(home, os.path.join(out, "cold"), steps)
        warm = train_run(home, os.path.join(out, "warm"), steps)
    return {"cold": cold, "warm": warm, "compile_share": cold["compile_s"] / cold["total_s"]}


def _child(code: str, cache: str) -> tuple[dict[str, Any], float]:
    """Run ``code`` in a new interpreter with NUMBA_CACHE_DIR=cache; its JSON and wall time."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def run(epoch_steps: int | None, kernels: bool = True) -> dict[str, Any]:
    loads = [load_average()]
    epoch = first_epoch(epoch_steps or 0) if epoch_steps is not None else None
    rows = _kernel_rows() if kernels else []
    if epoch is not None:
        cold, warm = epoch["cold"], epoch["warm"]
        rows += [
            {"what": "train lenet5 --epochs 1: first step ends (wall)",
             "cold_s": cold["first_step_s"], "warm_s": warm["first_step_s"]},
            {"what": "  compiling before it (CPU)",
             "cold_s": cold["compile_before_s"], "warm_s": warm["compile_before_s"]},
            {"what": "  whole run (wall)", "cold_s": cold["total_s"], "warm_s": warm["total_s"]},
            {"what": "  whole run (CPU)", "cold_s": cold["cpu_s"], "warm_s": warm["cpu_s"]},
            {"what": "  compiling in all (CPU)", "cold_s": cold["compile_s"],
             "warm_s": warm["compile_s"]},
        ]  # fmt: skip
    loads.append(load_average())
    return {"machine": machine_info(), "load_average": loads, "python": sys.executable,
            "first_epoch": epoch, "rows": rows}  # fmt: skip


def _kernel_rows() -> list[dict[str, Any]]:
    """The first conv2d and every kernel, cold and warm (see the module docstring)."""
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
    return rows


COLUMNS = [("what", "", ""), ("cold_s", "cold s", "{:.2f}"), ("warm_s", "warm s", "{:.2f}")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=None, help="JSON path (default runs/benchmarks/jit-cpu.json)")
    p.add_argument("--no-epoch", dest="epoch", action="store_false",
                   help="skip the train lenet5 --epochs 1 runs")  # fmt: skip
    p.add_argument("--epoch-only", dest="kernels", action="store_false",
                   help="only the train lenet5 --epochs 1 runs")  # fmt: skip
    p.add_argument(
        "--epoch-batches",
        dest="steps",
        type=int,
        default=0,
        help="stop those runs after this many steps (default: the whole epoch)",
    )
    args = p.parse_args(argv)
    result = run(args.steps if args.epoch else None, args.kernels)
    print(table(result["rows"], COLUMNS))
    print("cold: empty NUMBA_CACHE_DIR (compiled); warm: a new process, the cache filled")
    if result["first_epoch"]:
        cold = result["first_epoch"]["cold"]
        print(f"train lenet5: {cold['compile_s']:.1f} s compiling of {cold['total_s']:.1f} s "
              f"({100 * result['first_epoch']['compile_share']:.0f}%); compiled before the "
              f"first step: {', '.join(cold['compiled_before'])}")  # fmt: skip
    print(f"load average (1, 5, 15 min) before and after: {result['load_average']}")
    path = write_json("jit-cpu", result, str(record_path("jit-cpu", args.out)))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
