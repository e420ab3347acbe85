"""Turn a training run folder into a committed reproduction record.

    python -m experiments.record runs/lenet5-mnist lenet5-mnist [--note "..."]

Copies ``curves.png`` to ``experiments/records/<name>/`` and writes ``record.json`` there: the
command, backend, seed, recipe, final and best test accuracy, seconds per epoch (median and
total), the machine and library versions. The run's per-epoch log, ``metrics.jsonl``, goes to
``experiments/logs/<name>/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from pathlib import Path

from benchmarks.common import machine_info
from experiments import LOGS, RECORDS


def build(run: Path, name: str, note: str | None) -> Path:
    meta = json.loads((run / "last.json").read_text())["meta"]
    epochs = [json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines() if s]
    out, log = RECORDS / name, LOGS / name
    out.mkdir(parents=True, exist_ok=True)
    log.mkdir(parents=True, exist_ok=True)
    shutil.copy(run / "metrics.jsonl", log / "metrics.jsonl")
    shutil.copy(run / "curves.png", out / "curves.png")
    seconds = [e["seconds"] for e in epochs]
    record = {
        "command": meta.get("command"),
        "model": meta.get("model"),
        "dataset": meta.get("recipe", {}).get("dataset"),
        "backend": meta.get("backend"),
        "seed": meta.get("seed"),
        "recipe": meta.get("recipe"),
        "epochs": len(epochs),
        "final_test_accuracy": epochs[-1].get("test_accuracy"),
        "best_test_accuracy": max(e.get("test_accuracy", 0) for e in epochs),
        "seconds_per_epoch_median": statistics.median(seconds),
        "seconds_total": sum(seconds),
        "train_samples": meta.get("train_samples"),
        "test_samples": meta.get("test_samples"),
        "machine": machine_info(),
        "note": note,
    }
    (out / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    return out / "record.json"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run", type=Path)
    p.add_argument("name")
    p.add_argument("--note", default=None)
    args = p.parse_args(argv)
    path = build(args.run, args.name, args.note)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
