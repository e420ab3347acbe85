"""Op benchmark: every op, forward and forward+backward, on the LeNet-5 and ResNet-20 layer
shapes, per backend, with PyTorch as the yardstick when it is importable.

    python -m benchmarks.ops [--backends numpy numba cupy] [--only conv] [--repeats 10]

Reports ms (median of repeats after warm-up), GFLOP/s and percent of the machine's sgemm rate
(measured in the same run) for convolutions and linear layers, the ratio to ``numpy`` and the
ratio to PyTorch (CPU for the host backends, CUDA for ``cupy``). Calls go through the public
API (``minicnn.nn.functional``), so autograd's bookkeeping is part of every number, as it is for
a user. Writes ``benchmarks/results/ops-<machine>.json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from minicnn.kernels.geometry import out_size

from benchmarks.common import machine_info, median_ms, sgemm_gflops, table, torch_fp32, write_json


@dataclass
class Case:
    """One op on one layer shape. ``call(F, t)`` runs it with F = minicnn's or torch's
    functional module and t the dict of inputs; ``grads`` names the inputs that get gradients."""

    name: str
    op: str
    shapes: dict[str, tuple[int, ...]]
    call: Callable[[Any, dict[str, Any]], Any]
    grads: tuple[str, ...] = ("x",)
    flops: float = 0.0  # forward FLOPs (multiply-adds count 2)
    ints: dict[str, tuple[int, tuple[int, ...]]] = field(
        default_factory=dict
    )  # name -> (high, shape)


def conv_case(name: str, N: int, C: int, H: int, OC: int, K: int, S: int = 1, P: int = 0) -> Case:
    OH = out_size(H, K, S, P, 1)
    return Case(
        name,
        "conv2d",
        {"x": (N, C, H, H), "w": (OC, C, K, K), "b": (OC,)},
        lambda F, t: F.conv2d(t["x"], t["w"], t["b"], stride=S, padding=P),
        grads=("x", "w", "b"),
        flops=2.0 * N * OC * OH * OH * C * K * K,
    )


def pool_case(name: str, kind: str, N: int, C: int, H: int, K: int, S: int) -> Case:
    fn = "max_pool2d" if kind == "max" else "avg_pool2d"
    return Case(name, fn, {"x": (N, C, H, H)}, lambda F, t: getattr(F, fn)(t["x"], K, S))


def bn_case(name: str, N: int, C: int, H: int) -> Case:
    return Case(
        name,
        "batch_norm",
        {"x": (N, C, H, H), "g": (C,), "b": (C,), "rm": (C,), "rv": (C,)},
        lambda F, t: F.batch_norm(t["x"], t["rm"], t["rv"], t["g"], t["b"], training=True),
        grads=("x", "g", "b"),
    )


def residual_case(name: str, N: int, C: int, H: int) -> Case:
    def call(F: Any, t: dict[str, Any]) -> Any:
        if hasattr(F, "residual_add"):
            return F.residual_add(t["x"], t["s"], relu=True)
        return F.relu(t["x"] + t["s"])  # torch: the unfused equivalent

    return Case(
        name, "residual_add", {"x": (N, C, H, H), "s": (N, C, H, H)}, call, grads=("x", "s")
    )


def linear_case(name: str, N: int, I: int, O: int) -> Case:
    return Case(
        name,
        "linear",
        {"x": (N, I), "w": (O, I), "b": (O,)},
        lambda F, t: F.linear(t["x"], t["w"], t["b"]),
        grads=("x", "w", "b"),
        flops=2.0 * N * I * O,
    )


CASES: list[Case] = [
    conv_case("lenet5.conv1", 64, 1, 32, 6, 5),
    pool_case("lenet5.pool1", "max", 64, 6, 28, 2, 2),
    conv_case("lenet5.conv2", 64, 6, 14, 16, 5),
    pool_case("lenet5.pool2", "avg", 64, 16, 10, 2, 2),
    linear_case("lenet5.fc1", 64, 400, 120),
    linear_case("lenet5.fc2", 64, 120, 84),
    linear_case("lenet5.fc3", 64, 84, 10),
    conv_case("resnet20.stem", 128, 3, 32, 16, 3, 1, 1),
    conv_case("resnet20.conv16", 128, 16, 32, 16, 3, 1, 1),
    conv_case("resnet20.conv16to32.s2", 128, 16, 32, 32, 3, 2, 1),
    conv_case("resnet20.conv32", 128, 32, 16, 32, 3, 1, 1),
    conv_case("resnet20.conv32to64.s2", 128, 32, 16, 64, 3, 2, 1),
    conv_case("resnet20.conv64", 128, 64, 8, 64, 3, 1, 1),
    conv_case("resnet20.proj1x1.s2", 128, 16, 32, 32, 1, 2, 0),
    bn_case("resnet20.bn16", 128, 16, 32),
    bn_case("resnet20.bn32", 128, 32, 16),
    bn_case("resnet20.bn64", 128, 64, 8),
    residual_case("resnet20.add16", 128, 16, 32),
    residual_case("resnet20.add64", 128, 64, 8),
    Case(
        "resnet20.gap",
        "adaptive_avg_pool2d",
        {"x": (128, 64, 8, 8)},
        lambda F, t: F.adaptive_avg_pool2d(t["x"], 1),
    ),
    linear_case("resnet20.fc", 128, 64, 10),
    Case(
        "resnet20.dropout", "dropout", {"x": (128, 64, 8, 8)}, lambda F, t: F.dropout(t["x"], 0.5)
    ),
    Case(
        "resnet20.loss",
        "cross_entropy",
        {"x": (128, 10)},
        lambda F, t: F.cross_entropy(t["x"], t["y"]),
        ints={"y": (10, (128,))},
    ),
]


def _host_inputs(case: Case) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {k: rng.standard_normal(s, dtype=np.float32) for k, s in case.shapes.items()}
    if "rv" in arrays:
        arrays["rv"] = np.abs(arrays["rv"]) + 1
    for k, (high, shape) in case.ints.items():
        arrays[k] = rng.integers(0, high, shape)
    return arrays


def minicnn_runner(case: Case, name: str) -> tuple[Callable, Callable]:
    import minicnn
    import minicnn.nn.functional as F

    host = _host_inputs(case)
    t = {k: minicnn.tensor(v, backend=name, requires_grad=k in case.grads) for k, v in host.items()}
    with minicnn.no_grad():
        y = case.call(F, t)
    gy = minicnn.tensor(
        np.random.default_rng(1).standard_normal(y.shape, dtype=np.float32), backend=name
    )

    def forward() -> None:
        with minicnn.no_grad():
            case.call(F, t)

    def forward_backward() -> None:
        for k in case.grads:
            t[k].grad = None
        out = case.call(F, t)
        out.backward(gy if out.ndim else None)

    return forward, forward_backward


def torch_runner(case: Case, device: str) -> tuple[Callable, Callable]:
    import torch
    import torch.nn.functional as TF

    torch_fp32(device)
    host = _host_inputs(case)
    t = {k: torch.tensor(v, device=device, requires_grad=k in case.grads) for k, v in host.items()}
    with torch.no_grad():
        y = case.call(TF, t)
    gy = torch.tensor(
        np.random.default_rng(1).standard_normal(tuple(y.shape), dtype=np.float32), device=device
    )

    def forward() -> None:
        with torch.no_grad():
            case.call(TF, t)

    def forward_backward() -> None:
        for k in case.grads:
            t[k].grad = None
        out = case.call(TF, t)
        out.backward(gy if out.ndim else None)

    return forward, forward_backward


def _torch_device_ok(gpu: bool) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available() if gpu else True


def run(backends: list[str], only: str | None, repeats: int, warmup: int) -> dict[str, Any]:
    import minicnn

    info = machine_info()
    gpu = "cupy" in backends
    cpu_backends = [b for b in backends if b != "cupy"]
    rates = {}
    if cpu_backends:
        rates["cpu"] = sgemm_gflops(gpu=False)
    if gpu:
        rates["gpu"] = sgemm_gflops(gpu=True)
    torch_cpu = bool(cpu_backends) and _torch_device_ok(False)
    torch_gpu = gpu and _torch_device_ok(True)
    if torch_cpu or torch_gpu:
        import torch

        if cpu_backends:
            torch.set_num_threads(os_threads())
    rows = []
    for case in CASES:
        if only and only not in case.name and only != case.op:
            continue
        ref: dict[str, float] = {}
        measured = []
        for name in backends:
            fwd, fb = minicnn_runner(case, name)
            g = "cupy" if name == "cupy" else None
            measured.append(
                (name, median_ms(fwd, repeats, warmup, g), median_ms(fb, repeats, warmup, g))
            )
        for lib, ok, dev in (("torch-cpu", torch_cpu, "cpu"), ("torch-cuda", torch_gpu, "cuda")):
            if ok:
                fwd, fb = torch_runner(case, dev)
                g = "torch" if dev == "cuda" else None
                measured.append(
                    (lib, median_ms(fwd, repeats, warmup, g), median_ms(fb, repeats, warmup, g))
                )
                ref[dev] = measured[-1][2]
        numpy_fb = next((fb for n, _, fb in measured if n == "numpy"), None)
        for name, f_ms, fb_ms in measured:
            on_gpu = name in ("cupy", "torch-cuda")
            rate = rates.get("gpu" if on_gpu else "cpu")
            fb_flops = 3 * case.flops
            gflops = fb_flops / (fb_ms * 1e-3) / 1e9 if case.flops else None
            torch_ref = ref.get("cuda" if on_gpu else "cpu")
            rows.append(
                {
                    "case": case.name,
                    "op": case.op,
                    "backend": name,
                    "forward_ms": f_ms,
                    "fwd_bwd_ms": fb_ms,
                    "gflops": gflops,
                    "pct_sgemm": 100 * gflops / rate if gflops and rate else None,
                    "vs_numpy": fb_ms / numpy_fb if numpy_fb else None,
                    "vs_torch": fb_ms / torch_ref
                    if torch_ref and not name.startswith("torch")
                    else None,
                }
            )
        print(
            f"  {case.name}: " + ", ".join(f"{n} {fb:.2f} ms" for n, _, fb in measured), flush=True
        )
    return {
        "machine": info,
        "sgemm_gflops": rates,
        "repeats": repeats,
        "warmup": warmup,
        "minicnn": minicnn.__version__,
        "rows": rows,
    }


def os_threads() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


COLUMNS = [
    ("case", "case", ""),
    ("backend", "backend", ""),
    ("forward_ms", "fwd ms", "{:.3f}"),
    ("fwd_bwd_ms", "fwd+bwd ms", "{:.3f}"),
    ("gflops", "GFLOP/s", "{:.1f}"),
    ("pct_sgemm", "% sgemm", "{:.0f}"),
    ("vs_numpy", "x numpy", "{:.2f}"),
    ("vs_torch", "x torch", "{:.2f}"),
]


def main(argv: list[str] | None = None) -> int:
    import minicnn

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backends", nargs="+", default=None, help="default: every available backend")
    p.add_argument("--only", default=None, help="run cases whose name contains this (or op name)")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument(
        "--out", default=None, help="JSON path (default benchmarks/results/ops-<tag>.json)"
    )
    p.add_argument("--tag", default=None, help="file-name tag (default: cpu or the GPU kind)")
    args = p.parse_args(argv)
    backends = args.backends or minicnn.available_backends()
    result = run(backends, args.only, args.repeats, args.warmup)
    print(table(result["rows"], COLUMNS))
    tag = args.tag or ("gpu" if "cupy" in backends else "cpu")
    path = write_json(f"ops-{tag}", result, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
