"""Mutation testing with hand-written mutants: do the tests fail when the code is wrong?

    python -m benchmarks.mutation                      # every mutant that runs here
    python -m benchmarks.mutation --area numba --sample 4 --seed 1
    python -m benchmarks.mutation --kinds              # the kinds of bug that once slipped by
    python -m benchmarks.mutation --check              # every mutant still fits the code
    python -m benchmarks.mutation --restore            # put back files a killed run left
    python -m benchmarks.mutation --mutant NAME --tests tests/test_x.py -k new   # other tests

Each mutant is applied alone, its mapped tests run (pytest -x, one Numba thread, a fresh
NUMBA_CACHE_DIR for a kernel mutant), and the file is put back. The run writes
``reports/mutation/last-run.json`` and ``last-run.md``: per area the mutants, killed, survived,
equivalent (survivors argued equivalent in the catalogue), errors and time, with the command,
the machine and its load. Before the mutants, each distinct test selection runs once on the
unmutated code: a selection that fails there would make every kill meaningless.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .catalogue_kernels import CUDA, NUMBA, NUMPY_REF
from .catalogue_python import AUTOGRAD_OPS, CLI_AREA, DATA, OPTIMIZERS, TRAINING_AREA
from .mutant import AREAS, KINDS, Mutant
from .runner import ROOT, Outcome, Runner, restore_from_journal

ALL: list[Mutant] = [
    *NUMPY_REF, *NUMBA, *CUDA, *AUTOGRAD_OPS, *OPTIMIZERS, *DATA, *TRAINING_AREA, *CLI_AREA,
]  # fmt: skip


def select(args: argparse.Namespace) -> list[Mutant]:
    chosen = [m for m in ALL if not args.area or m.area in args.area]
    if args.kinds:
        chosen = [m for m in chosen if m.kind]
    if args.skip_kinds:
        chosen = [m for m in chosen if not m.kind]
    if args.mutant:
        chosen = [m for m in chosen if m.name in args.mutant]
    if args.sample:
        rng = random.Random(args.seed)
        by_area = {a: [m for m in chosen if m.area == a] for a in AREAS}
        keep = {
            m.name for ms in by_area.values() for m in rng.sample(ms, min(args.sample, len(ms)))
        }
        # The kinds that once slipped by are always in the sample.
        chosen = [m for m in chosen if m.name in keep or m.kind]
    # Areas taken in turn, so that a run stopped early has covered every area alike.
    queues = [[m for m in chosen if m.area == a] for a in AREAS]
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]


def summarise(outcomes: list[Outcome]) -> dict[str, dict]:
    table = {}
    for area in AREAS:
        rows = [o for o in outcomes if o.area == area]
        if not rows:
            continue
        ran = [o for o in rows if o.status in ("killed", "survived", "timeout")]
        killed = sum(o.status in ("killed", "timeout") for o in ran)
        equivalent = sum(o.status == "survived" and bool(o.equivalent) for o in ran)
        counted = len(ran) - equivalent
        table[area] = {
            "mutants": len(rows),
            "ran": len(ran),
            "killed": killed,
            "survived": sum(o.status == "survived" for o in ran) - equivalent,
            "equivalent": equivalent,
            "not_run": sum(o.status == "not-run" for o in rows),
            "errors": sum(o.status in ("error", "not-applicable") for o in rows),
            "killed_pct": round(100 * killed / counted, 1) if counted else None,
            "seconds": round(sum(o.seconds for o in rows), 1),
            "cpu_seconds": round(sum(o.cpu_seconds for o in rows), 1),
        }
    return table


def machine() -> dict:
    def version(name: str) -> str | None:
        try:
            return __import__(name).__version__
        except ImportError:
            return None

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "numba": version("numba"),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def write_report(out: Path, command: str, record: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "last-run.json").write_text(json.dumps(record, indent=2) + "\n")
    lines = [
        "# Mutation run",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {record['machine']['processor']}, {record['machine']['cpus']} CPUs, load "
        f"{record['machine']['load_average']} at the start, {record['load_after']} at the end; "
        f"Python {record['machine']['python']}, NumPy {record['machine']['numpy']}, Numba "
        f"{record['machine']['numba']}; commit {record['machine']['commit']}, "
        f"{record['machine']['date']}.",
        "",
        "| area | mutants | ran | killed | survived | equivalent | not run | errors | killed % "
        "| time (s) | CPU (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for area, r in record["areas"].items():
        pct = "-" if r["killed_pct"] is None else f"{r['killed_pct']}"
        lines.append(
            f"| {area} | {r['mutants']} | {r['ran']} | {r['killed']} | {r['survived']} | "
            f"{r['equivalent']} | {r['not_run']} | {r['errors']} | {pct} | {r['seconds']} | "
            f"{r['cpu_seconds']} |"
        )
    lines += ["", "| mutant | area | kind | outcome | time (s) |", "|---|---|---|---|---|"]
    for o in record["mutants"]:
        status = o["status"] + (
            " (equivalent)" if o["equivalent"] and o["status"] == "survived" else ""
        )
        lines.append(
            f"| {o['mutant']} | {o['area']} | {o['kind'] or ''} | {status} | {o['seconds']:.1f} |"
        )
    (out / "last-run.md").write_text("\n".join(lines) + "\n")


def merge(records: list[dict]) -> dict:
    """One record of several runs (each mutant's last outcome wins)."""
    outcomes = {o["mutant"]: Outcome(**o) for r in records for o in r["mutants"]}
    merged = {
        "command": " && ".join(r["command"] for r in records),
        # The last run's machine; the dates and commits of them all.
        "machine": {
            **records[-1]["machine"],
            "date": " to ".join(
                dict.fromkeys((records[0]["machine"]["date"], records[-1]["machine"]["date"]))
            ),
            "commit": ", ".join(dict.fromkeys(r["machine"]["commit"] for r in records)),
        },
        "load_after": records[-1]["load_after"],
        "baseline": [b for r in records for b in r["baseline"]],
    }
    order = {m.name: i for i, m in enumerate(ALL)}
    chosen = sorted(outcomes.values(), key=lambda o: order.get(o.mutant, len(order)))
    merged["areas"] = summarise(chosen)
    merged["kinds"] = {k: [o.status for o in chosen if o.kind == k] for k in KINDS}
    merged["mutants"] = [asdict(o) for o in chosen]
    return merged


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.mutation", description=__doc__.split("\n")[0]
    )
    p.add_argument("--area", nargs="*", choices=AREAS, help="only these areas")
    p.add_argument("--kinds", action="store_true", help="only the mutants of the listed kinds")
    p.add_argument("--skip-kinds", action="store_true", help="leave out the listed kinds")
    p.add_argument("--mutant", nargs="*", help="only these mutants, by name")
    p.add_argument("--tests", nargs=argparse.REMAINDER, help="run these pytest arguments instead")
    p.add_argument("--sample", type=int, default=0, help="at most N mutants per area (plus kinds)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample")
    p.add_argument("--gpu", action="store_true", help="run the CUDA mutants (needs a GPU)")
    p.add_argument("--no-baseline", action="store_true", help="skip the unmutated runs")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per test run")
    p.add_argument("--check", action="store_true", help="only check that every mutant applies")
    p.add_argument("--restore", action="store_true", help="only restore files a killed run left")
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "mutation")
    p.add_argument("--merge", nargs="+", type=Path, help="only merge these last-run.json files")
    args = p.parse_args(argv)
    if args.restore:
        print("restored:", ", ".join(restore_from_journal()) or "nothing to restore")
        return 0
    if args.check:
        bad = []
        for m in ALL:
            try:
                m.apply((ROOT / m.path).read_text())
            except ValueError as e:
                bad.append(str(e))
        print("\n".join(bad) or f"all {len(ALL)} mutants apply")
        return 1 if bad else 0
    if args.merge:
        merged = merge([json.loads(path.read_text()) for path in args.merge])
        write_report(args.out, merged["command"], merged)
        print(json.dumps(merged["areas"], indent=1))
        return 0
    chosen = select(args)
    if args.tests:
        chosen = [dataclasses.replace(m, tests=tuple(args.tests)) for m in chosen]
    runner = Runner(timeout=args.timeout)
    command = "python -m benchmarks.mutation " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    record = {"command": command.strip(), "machine": machine(), "baseline": []}
    runnable = [m for m in chosen if args.gpu or not m.gpu]
    if not args.no_baseline:
        for tests in dict.fromkeys(m.tests for m in runnable):
            ok, tail, wall, cpu = runner.baseline(tests)
            record["baseline"].append({"tests": tests, "passed": ok, "seconds": round(wall, 1),
                                       "cpu_seconds": round(cpu, 1)})  # fmt: skip
            print(f"baseline {' '.join(tests)}: {'passed' if ok else 'FAILED'} ({wall:.0f} s)")
            if not ok:
                print(tail)
                return 1
    outcomes = []
    for m in chosen:
        if m.gpu and not args.gpu:
            o = Outcome(m.name, m.area, "not-run", detail="needs a GPU", kind=m.kind)
        else:
            o = runner.run(m)
        outcomes.append(o)
        print(f"{o.status:>9}  {m.area:<13} {m.name} ({o.seconds:.0f} s)", flush=True)
        # Written after every mutant: a run stopped half way still reports what it did.
        record["load_after"] = [round(v, 2) for v in os.getloadavg()]
        record["areas"] = summarise(outcomes)
        record["kinds"] = {k: [o.status for o in outcomes if o.kind == k] for k in KINDS}
        record["mutants"] = [asdict(o) for o in outcomes]
        write_report(args.out, command.strip(), record)
    print(json.dumps(record.get("areas", {}), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
