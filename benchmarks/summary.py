"""CPU-versus-GPU summary: one table and one plot from the JSON records in results/.

    python -m benchmarks.summary [--cpu ops-cpu.json train-cpu.json] [--gpu ops-gpu.json ...]

For each ResNet-20 and LeNet-5 conv layer (forward+backward) and each training step, the
table lists ms per backend: numpy, numba, torch-cpu (from the CPU record) and cupy,
torch-cuda (from the GPU record), naming the machine of each. Writes ``summary.md`` and
``summary.png`` next to the records.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS

ORDER = ["numpy", "numba", "torch-cpu", "cupy", "torch-cuda"]


def _load(path: Path | None) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path and path.exists() else None


def _ms(records: list[dict[str, Any]], key: str, field: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for rec in records:
        for r in rec["rows"]:
            out.setdefault(r[key], {})[r["backend"]] = r[field]
    return out


def _machine(rec: dict[str, Any] | None) -> str:
    if not rec:
        return "(no record)"
    m = rec["machine"]
    gpu = f", {m['gpu']}" if m.get("gpu") else ""
    return f"{m['cpu']} ({m['cpu_count']} cores){gpu}, {m['date'][:10]}"


def build(cpu_ops: Path, gpu_ops: Path, cpu_train: Path, gpu_train: Path) -> str:
    recs = {
        k: _load(p)
        for k, p in {
            "cpu_ops": cpu_ops,
            "gpu_ops": gpu_ops,
            "cpu_train": cpu_train,
            "gpu_train": gpu_train,
        }.items()
    }
    ops = _ms([r for r in (recs["cpu_ops"], recs["gpu_ops"]) if r], "case", "fwd_bwd_ms")
    train = _ms([r for r in (recs["cpu_train"], recs["gpu_train"]) if r], "model", "step_ms")
    lines = [
        "# CPU versus GPU",
        "",
        f"- CPU record: {_machine(recs['cpu_ops'] or recs['cpu_train'])}",
        f"- GPU record: {_machine(recs['gpu_ops'] or recs['gpu_train'])}",
        "",
        "Milliseconds, median after warm-up, float32; conv rows are forward+backward.",
        "",
        "| case | " + " | ".join(ORDER) + " |",
        "|---|" + "---:|" * len(ORDER),
    ]
    rows = {k: v for k, v in ops.items() if ".conv" in k or ".stem" in k or ".proj" in k}
    rows.update({f"train step {k}": v for k, v in train.items()})
    for case, by in rows.items():
        lines.append(
            f"| {case} | " + " | ".join(f"{by[b]:.2f}" if b in by else "-" for b in ORDER) + " |"
        )
    _plot(rows, RESULTS / "summary.png")
    return "\n".join(lines) + "\n"


def _plot(rows: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    cases = list(rows)
    fig, ax = plt.subplots(figsize=(12, 0.45 * len(cases) + 1.5))
    h = 0.8 / len(ORDER)
    for i, b in enumerate(ORDER):
        vals = [rows[c].get(b, np.nan) for c in cases]
        ax.barh(np.arange(len(cases)) + i * h, vals, height=h, label=b)
    ax.set_yticks(np.arange(len(cases)) + 0.4, cases)
    ax.set_xscale("log")
    ax.set_xlabel("ms (log scale; lower is faster)")
    ax.invert_yaxis()
    ax.legend()
    ax.set_title("minicnn backends versus PyTorch: conv layers (fwd+bwd) and training steps")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cpu-ops", type=Path, default=RESULTS / "ops-cpu.json")
    p.add_argument("--gpu-ops", type=Path, default=RESULTS / "ops-gpu-h100.json")
    p.add_argument("--cpu-train", type=Path, default=RESULTS / "train-cpu.json")
    p.add_argument("--gpu-train", type=Path, default=RESULTS / "train-gpu-h100.json")
    args = p.parse_args(argv)
    text = build(args.cpu_ops, args.gpu_ops, args.cpu_train, args.gpu_train)
    (RESULTS / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
