"""Training step under load: the numba backend's step with its default threads against one
thread, on a machine where another program holds a core.

    python -m benchmarks.under_load [--models lenet5 resnet20] [--rounds 3] [--steps 10]
                                    [--warmup 5] [--load 1] [--out PATH]

The step is benchmarks.train's (forward, cross-entropy, backward, SGD with momentum; LeNet-5
at batch 64, ResNet-20 at batch 128). Four settings are measured, interleaved in ``--rounds``
rounds of ``--steps`` timed steps each after ``--warmup`` untimed ones (which also let the
kernels settle their thread choice): default threads and one thread (``set_num_threads(1)``),
each with no competing process ("quiet") and with ``--load`` CPU-bound processes started and
stopped here ("loaded"). "quiet" means no process of this benchmark's own: the load average
in the record says what else ran. The claim to check: default threads loaded are no slower
than one thread loaded, and within 10% of one thread quiet.

Prints a table of median ms per step and writes ``runs/benchmarks/under-load-cpu.json``
(or ``--out``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from benchmarks.common import (
    CompetingLoad,
    load_average,
    machine_info,
    record_path,
    table,
    write_json,
)
from benchmarks.train import MODELS, minicnn_step


def _timed(step: Any, steps: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def run(models: list[str], rounds: int, steps: int, warmup: int, load: int) -> dict[str, Any]:
    import minicnn

    default = minicnn.get_num_threads()
    loads = [load_average()]
    rows = []
    for arch in models:
        step = minicnn_step(arch, "numba")
        times: dict[tuple[str, int], list[float]] = {}
        for _ in range(rounds):
            for state, k in (("quiet", 0), ("loaded", load)):
                with CompetingLoad(k):
                    for n in (default, 1):
                        minicnn.set_num_threads(n)  # forgets the kernels' thread timings
                        times.setdefault((state, n), []).extend(_timed(step, steps, warmup))
            loads.append(load_average())
        minicnn.set_num_threads(default)
        one_quiet = statistics.median(times[("quiet", 1)])
        for (state, n), ts in times.items():
            ms = statistics.median(ts)
            rows.append(
                {
                    "model": arch,
                    "batch": MODELS[arch][0],
                    "state": state,
                    "threads": n,
                    "step_ms": ms,
                    "vs_one_thread_same_state": ms / statistics.median(times[(state, 1)]),
                    "vs_one_thread_quiet": ms / one_quiet,
                    "all_ms": ts,
                }
            )
        print(f"  {arch}: " + ", ".join(f"{r['state']} {r['threads']}t {r['step_ms']:.1f} ms"
                                        for r in rows if r["model"] == arch), flush=True)  # fmt: skip
    return {
        "machine": machine_info(),
        "load_average": loads,
        "competing_processes": load,
        "default_threads": default,
        "rounds": rounds,
        "steps": steps,
        "warmup": warmup,
        "minicnn": minicnn.__version__,
        "rows": rows,
    }


COLUMNS = [
    ("model", "model", ""),
    ("state", "state", ""),
    ("threads", "threads", ""),
    ("step_ms", "ms/step", "{:.1f}"),
    ("vs_one_thread_same_state", "x 1 thread", "{:.2f}"),
    ("vs_one_thread_quiet", "x 1 thread quiet", "{:.2f}"),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["lenet5", "resnet20"])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--load", type=int, default=1, help="competing CPU-bound processes")
    p.add_argument("--out", default=None, help="JSON path (default runs/benchmarks/...)")
    args = p.parse_args(argv)
    result = run(args.models, args.rounds, args.steps, args.warmup, args.load)
    print(table(result["rows"], COLUMNS))
    print(f"load average (1, 5, 15 min) before and after each round: {result['load_average']}")
    path = write_json("under-load-cpu", result, str(record_path("under-load-cpu", args.out)))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
