"""Summarise reproduction records that differ only in their seed.

    python -m experiments.seeds resnet20-fashion-mnist-seeds \\
        resnet20-fashion-mnist-b64 resnet20-fashion-mnist-b64-seed1 ... [--target 0.949]

Reads ``experiments/records/<record>/record.json`` for each record, refuses records whose model,
dataset, backend or recipe differ (a spread over seeds means nothing if something else changed
too), prints a table and writes ``experiments/records/<name>.json``: per-seed final and best test
accuracy, their mean, sample standard deviation, minimum and maximum, and how many seeds reach
``--target``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.common import write_json
from experiments import RECORDS

SAME = ("model", "dataset", "backend", "recipe", "epochs")
# Recipe fields added to training after some records were written, with the value that records
# without them were trained with.
RECIPE_DEFAULTS = {"label_smoothing": 0.0}


def load(names: list[str], results: Path = RECORDS) -> list[dict]:
    records = []
    for name in names:
        path = results / name / "record.json"
        if not path.is_file():
            raise FileNotFoundError(f"record {name!r}: expected {path}, which does not exist")
        record = {"record": name, **json.loads(path.read_text())}
        record["recipe"] = {**RECIPE_DEFAULTS, **(record.get("recipe") or {})}
        records.append(record)
    if len(records) < 2:
        raise ValueError(f"records: expected at least 2 to compare, got {len(records)}")
    first = records[0]
    for r in records[1:]:
        for key in SAME:
            if r.get(key) != first.get(key):
                raise ValueError(
                    f"record {r['record']!r}: {key} is {r.get(key)!r}, but {first['record']!r} "
                    f"has {first.get(key)!r}; only the seed may differ"
                )
    seeds = [r["seed"] for r in records]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"records: expected distinct seeds, got {seeds}")
    return records


def _stats(values: list[float]) -> dict:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values),
        "min": min(values),
        "max": max(values),
    }


def summarise(records: list[dict], target: float | None = None) -> dict:
    final = [r["final_test_accuracy"] for r in records]
    best = [r["best_test_accuracy"] for r in records]
    first = records[0]
    out = {
        "model": first["model"],
        "dataset": first["dataset"],
        "backend": first["backend"],
        "recipe": first["recipe"],
        "epochs": first["epochs"],
        "runs": [
            {
                "record": r["record"],
                "seed": r["seed"],
                "final_test_accuracy": r["final_test_accuracy"],
                "best_test_accuracy": r["best_test_accuracy"],
                "seconds_per_epoch_median": r.get("seconds_per_epoch_median"),
            }
            for r in records
        ],
        "final_test_accuracy": _stats(final),
        "best_test_accuracy": _stats(best),
        "target": target,
    }
    if target is not None:
        out["final_reaching_target"] = sum(a >= target for a in final)
    return out


def table(summary: dict) -> str:
    lines = ["| seed | final | best | s/epoch |", "|---:|---:|---:|---:|"]
    for r in summary["runs"]:
        spe = r["seconds_per_epoch_median"]
        lines.append(
            f"| {r['seed']} | {100 * r['final_test_accuracy']:.2f}% "
            f"| {100 * r['best_test_accuracy']:.2f}% | {'-' if spe is None else f'{spe:.0f}'} |"
        )
    f = summary["final_test_accuracy"]
    lines.append(
        f"\nfinal test accuracy over {len(summary['runs'])} seeds: mean {100 * f['mean']:.2f}%, "
        f"std {100 * f['std']:.2f} points, range {100 * f['min']:.2f}-{100 * f['max']:.2f}%"
    )
    if summary["target"] is not None:
        lines.append(
            f"seeds reaching {100 * summary['target']:.2f}%: "
            f"{summary['final_reaching_target']} of {len(summary['runs'])}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("name", help="output file name, written as experiments/records/<name>.json")
    p.add_argument("records", nargs="+", help="record folders under experiments/records/")
    p.add_argument("--target", type=float, default=None, help="accuracy to count seeds against")
    args = p.parse_args(argv)
    try:
        summary = summarise(load(args.records), args.target)
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    write_json(args.name, summary, str(RECORDS / f"{args.name}.json"))
    print(table(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
