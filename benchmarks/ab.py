"""Before/after: two checkouts of minicnn (and PyTorch) timed turn about, in one run.

    python -m benchmarks.ab --before ../old-checkout [--after .] [--rounds 40] [--threads 1]
                            [--backend numba]

A change "causes no regression" only if the same work, on the same machine, at the same
moment, takes no longer. Timing the old code today and the new code tomorrow, or one after
the other while another program starts or stops, measures the load as much as the code. So
each checkout runs in its own worker process (with the checkout's own ``.venv`` when it has
one), and the workers take turns: one call of each workload in each worker per round, the
order rotated every round. Each round gives a ratio after/before measured seconds apart; the
table reports the median ms of each and the median of those paired ratios, with PyTorch (CPU)
as a third worker when it is importable.

Workloads: a training step (forward, cross-entropy, backward, SGD with momentum) of LeNet-5 at
batch 64, ResNet-20 at batch 128, ResNet-20 on Fashion-MNIST's shapes (batch 64, one channel:
the shipped weights' recipe), and forward+backward of each distinct ResNet-20
convolution at batch 128 (``conv-<in>-<out>-<size>-s<stride>``). Writes
``benchmarks/results/ab-cpu.json`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, machine_info, table, write_json

CONVS = [(3, 16, 32, 1), (16, 16, 32, 1), (16, 32, 32, 2), (32, 32, 16, 1), (32, 64, 16, 2)]
WORKLOADS = ["lenet5", "resnet20", "resnet20-fmnist"] + [
    f"conv-{a}-{b}-{s}-s{t}" for a, b, s, t in CONVS
]

# Runs inside each worker: builds every workload once, then times one call per request.
WORKER = r"""
import json, sys, time
import numpy as np
FRAMEWORK = sys.argv[1]
rng = np.random.default_rng(0)

def batch_of(name):
    if name == "lenet5":
        return 64, (1, 32, 32)
    if name == "resnet20":
        return 128, (3, 32, 32)
    if name == "resnet20-fmnist":
        return 64, (1, 32, 32)
    _, cin, cout, size, stride = name.split("-")
    return 128, (int(cin), int(size), int(size))

def build_minicnn(name):
    import minicnn
    minicnn.set_backend(sys.argv[2])
    from minicnn import models
    import minicnn.nn.functional as F
    n, shape = batch_of(name)
    x = minicnn.tensor(rng.standard_normal((n, *shape), dtype=np.float32))
    if not name.startswith("conv"):
        minicnn.manual_seed(0)
        model = getattr(models, name[:8])(in_channels=shape[0])
        model.train()
        y = minicnn.tensor(rng.integers(0, 10, n))
        opt = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        def step():
            opt.zero_grad()
            minicnn.cross_entropy(model(x), y).backward()
            opt.step()
        return step
    _, cin, cout, size, stride = name.split("-")
    w = minicnn.tensor(rng.standard_normal((int(cout), int(cin), 3, 3), dtype=np.float32) * 0.1,
                       requires_grad=True)
    x.requires_grad = True
    def conv():
        x.grad = w.grad = None
        F.conv2d(x, w, stride=int(stride[1:]), padding=1).sum().backward()
    return conv

def build_torch(name):
    import torch
    torch.set_num_threads(int(sys.argv[3]))
    from benchmarks import torch_models
    n, shape = batch_of(name)
    x = torch.tensor(rng.standard_normal((n, *shape), dtype=np.float32))
    if not name.startswith("conv"):
        torch.manual_seed(0)
        model = {"lenet5": torch_models.LeNet5, "resnet20": torch_models.ResNet20}[name[:8]]
        model = model(in_channels=shape[0])
        model.train()
        y = torch.tensor(rng.integers(0, 10, n))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        def step():
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        return step
    _, cin, cout, size, stride = name.split("-")
    w = torch.tensor(rng.standard_normal((int(cout), int(cin), 3, 3), dtype=np.float32) * 0.1,
                     requires_grad=True)
    x.requires_grad_(True)
    def conv():
        x.grad = w.grad = None
        torch.nn.functional.conv2d(x, w, stride=int(stride[1:]), padding=1).sum().backward()
    return conv

build = build_torch if FRAMEWORK == "torch" else build_minicnn
calls = {}
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    name = line.strip()
    if name not in calls:
        calls[name] = build(name)
        for _ in range(3):  # warm-up: compiles, allocations, the thread chooser's first calls
            calls[name]()
    t0 = time.perf_counter()
    calls[name]()
    print(json.dumps({"ms": (time.perf_counter() - t0) * 1e3}), flush=True)
"""


class Worker:
    """One process timing one framework or checkout, a call at a time."""

    def __init__(
        self, label: str, checkout: Path, framework: str, threads: int, backend: str = "numba"
    ) -> None:
        venv = checkout / ".venv" / "bin" / "python"
        python = str(venv) if venv.exists() else sys.executable
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
        env["MINICNN_NUM_THREADS"] = str(threads)
        env["PYTHONPATH"] = os.pathsep.join([str(checkout), str(Path(__file__).parents[1])])
        self.label = label
        self.proc = subprocess.Popen(
            [python, "-c", WORKER, framework, backend, str(threads)],
            cwd=checkout,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()

    def _read(self) -> dict[str, Any]:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.label}: the worker stopped (see its error above)")
        return json.loads(line)

    def time(self, workload: str) -> float:
        self.proc.stdin.write(workload + "\n")
        self.proc.stdin.flush()
        return self._read()["ms"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def run(
    before: Path, after: Path, rounds: int, threads: int, workloads: list[str], backend: str
) -> dict:
    workers = [
        Worker("before", before, "minicnn", threads, backend),
        Worker("after", after, "minicnn", threads, backend),
    ]
    try:
        workers.append(Worker("pytorch", after, "torch", threads))
    except RuntimeError:
        print("PyTorch is not importable here: no PyTorch column")
    times: dict[str, dict[str, list[float]]] = {
        w: {v.label: [] for v in workers} for w in workloads
    }
    try:
        for r in range(rounds):
            for workload in workloads:
                order = workers[r % len(workers) :] + workers[: r % len(workers)]
                for w in order:
                    times[workload][w.label].append(w.time(workload))
    finally:
        for w in workers:
            w.close()
    rows = []
    for workload, by in times.items():
        row = {"workload": workload}
        for label, ts in by.items():
            row[f"{label}_ms"] = round(statistics.median(ts), 3)
        pairs = [a / b for a, b in zip(by["after"], by["before"])]
        row["after_over_before"] = round(statistics.median(pairs), 3)
        q = statistics.quantiles(pairs, n=4)
        row["after_over_before_iqr"] = [round(q[0], 3), round(q[2], 3)]
        if "pytorch" in by:
            for label in ("before", "after"):
                ratios = [a / b for a, b in zip(by[label], by["pytorch"])]
                row[f"{label}_over_pytorch"] = round(statistics.median(ratios), 3)
        rows.append(row)
    return {"rows": rows, "times_ms": times}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", type=Path, required=True, help="the older checkout")
    p.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--backend", default="numba", choices=["numpy", "numba"])
    p.add_argument("--workloads", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    p.add_argument("--out", type=Path, default=RESULTS / "ab-cpu.json")
    args = p.parse_args(argv)
    start = machine_info()
    result = run(
        args.before.resolve(),
        args.after.resolve(),
        args.rounds,
        args.threads,
        args.workloads,
        args.backend,
    )
    columns = [("workload", "workload", "")]
    columns += [(f"{k}_ms", f"{k} ms", "{:.1f}") for k in ("before", "after", "pytorch")]
    columns += [("after_over_before", "after/before", "{:.3f}")]
    columns += [(f"{k}_over_pytorch", f"{k}/PyTorch", "{:.2f}") for k in ("before", "after")]
    print(table(result["rows"], columns))
    commits = {}
    for label, path in (("before", args.before), ("after", args.after)):
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        commits[label] = out.stdout.strip() or None
    payload = {"benchmark": "ab", "backend": args.backend, "rounds": args.rounds}
    payload["threads"] = args.threads
    payload.update(commits=commits, machine_at_start=start, machine_at_end=machine_info())
    write_json("ab-cpu", {**payload, **result}, str(args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
