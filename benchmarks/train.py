"""Training-step benchmark: LeNet-5 at batch 64 and ResNet-20 at batch 128, per backend, with
PyTorch (eager) as the yardstick when it is importable.

    python -m benchmarks.train [--backends numpy numba cupy] [--repeats 10]

A step is forward, cross-entropy, backward and an SGD update with momentum 0.9 (each
framework's own optimizer). Reports the
median ms per step after warm-up and images per second, and the ratio to PyTorch (CPU for
the host backends, CUDA for ``cupy``). Writes ``benchmarks/results/train-<tag>.json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.common import machine_info, median_ms, table, torch_fp32, write_json

MODELS = {"lenet5": (64, (1, 32, 32)), "resnet20": (128, (3, 32, 32))}


def minicnn_step(arch: str, name: str) -> Callable[[], None]:
    import minicnn
    from minicnn import models

    batch, shape = MODELS[arch]
    rng = np.random.default_rng(0)
    with minicnn.use_backend(name):
        minicnn.manual_seed(0)
        model = getattr(models, arch)()
        x = minicnn.tensor(rng.standard_normal((batch, *shape), dtype=np.float32))
        y = minicnn.tensor(rng.integers(0, 10, batch))
    opt = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()

    def step() -> None:
        opt.zero_grad()
        loss = minicnn.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def torch_step(arch: str, device: str) -> Callable[[], None]:
    import torch

    from benchmarks import torch_models

    torch_fp32(device)
    batch, shape = MODELS[arch]
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    model = {"lenet5": torch_models.LeNet5, "resnet20": torch_models.ResNet20}[arch]().to(device)
    x = torch.tensor(rng.standard_normal((batch, *shape), dtype=np.float32), device=device)
    y = torch.tensor(rng.integers(0, 10, batch), device=device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def run(backends: list[str], repeats: int, warmup: int) -> dict[str, Any]:
    import minicnn

    rows = []
    for arch, (batch, _) in MODELS.items():
        measured = []
        for name in backends:
            g = "cupy" if name == "cupy" else None
            measured.append((name, median_ms(minicnn_step(arch, name), repeats, warmup, g)))
        try:
            import torch

            if any(b != "cupy" for b in backends):
                measured.append(("torch-cpu", median_ms(torch_step(arch, "cpu"), repeats, warmup)))
            if "cupy" in backends and torch.cuda.is_available():
                ms = median_ms(torch_step(arch, "cuda"), repeats, warmup, "torch")
                measured.append(("torch-cuda", ms))
        except ImportError:
            pass
        ref = dict(measured)
        for name, ms in measured:
            on_gpu = name in ("cupy", "torch-cuda")
            torch_ref = ref.get("torch-cuda" if on_gpu else "torch-cpu")
            rows.append(
                {
                    "model": arch,
                    "batch": batch,
                    "backend": name,
                    "step_ms": ms,
                    "images_per_s": batch / (ms * 1e-3),
                    "vs_numpy": ms / ref["numpy"] if "numpy" in ref else None,
                    "vs_torch": ms / torch_ref
                    if torch_ref and not name.startswith("torch")
                    else None,
                }
            )
        print(f"  {arch}: " + ", ".join(f"{n} {ms:.1f} ms" for n, ms in measured), flush=True)
    return {
        "machine": machine_info(),
        "repeats": repeats,
        "warmup": warmup,
        "minicnn": minicnn.__version__,
        "rows": rows,
    }


COLUMNS = [
    ("model", "model", ""),
    ("batch", "batch", ""),
    ("backend", "backend", ""),
    ("step_ms", "ms/step", "{:.1f}"),
    ("images_per_s", "images/s", "{:.0f}"),
    ("vs_numpy", "x numpy", "{:.2f}"),
    ("vs_torch", "x torch", "{:.2f}"),
]


def main(argv: list[str] | None = None) -> int:
    import minicnn

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backends", nargs="+", default=None, help="default: every available backend")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--out", default=None)
    p.add_argument("--tag", default=None, help="file-name tag (default: cpu or gpu)")
    args = p.parse_args(argv)
    backends = args.backends or minicnn.available_backends()
    result = run(backends, args.repeats, args.warmup)
    print(table(result["rows"], COLUMNS))
    path = write_json(
        f"train-{args.tag or ('gpu' if 'cupy' in backends else 'cpu')}", result, args.out
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
