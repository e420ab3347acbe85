"""Build the weights that ship in ``minicnn/models/checkpoints/`` and their records.

    python scripts/build_weights.py convert lenet5-mnist runs/lenet5-mnist/last.ckpt
    python scripts/build_weights.py convert resnet20-fashion-mnist runs/resnet20/last.ckpt
    python scripts/build_weights.py train-0-4          # trains and converts lenet5-mnist-0-4
    python scripts/build_weights.py swa resnet20-fashion-mnist runs/resnet20/last.ckpt --out runs/swa

``convert`` reads a training checkpoint written by ``python -m minicnn train`` (a pickle, read
with an unpickler that rebuilds only arrays and plain values), loads its weights into the
registered architecture, measures the test accuracy on the full test set (``MINICNN_DATA``),
and writes ``minicnn/models/checkpoints/<name>.npz`` (float32) and
``experiments/records/weights/<name>.json``: the training command, seed, backend, recipe and
per-epoch history from the checkpoint, the measured accuracy, the file's SHA-256 and size, the
date and the machine. It then writes the new SHA-256 and accuracy into the registry in
``minicnn/models/weights.py`` (``--no-registry`` leaves it alone and prints them instead).

``train-0-4`` trains LeNet-5 on the MNIST training digits 0-4 through the Python API (``fit``),
five outputs, label = digit, and converts the result the same way.

``swa`` continues a finished run with stochastic weight averaging (``minicnn.optim.swa_utils``):
``--epochs`` more epochs of the run's own recipe (data, augmentation, SGD with Nesterov momentum
and weight decay) at the constant learning rate ``--lr``, one snapshot averaged per epoch, then
the batch-norm statistics measured again for the average (``update_bn``), and converts the
averaged weights. Each epoch's log line (snapshot and running-average test accuracy) goes to
``--out``/swa.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for benchmarks.common

import minicnn  # noqa: E402
from benchmarks.common import machine_info  # noqa: E402
from minicnn import data, models, optim  # noqa: E402
from minicnn.models import weights as W  # noqa: E402
from minicnn.training import evaluate, fit  # noqa: E402

CHECKPOINTS = ROOT / "minicnn" / "models" / "checkpoints"
RECORDS = ROOT / "experiments" / "records" / "weights"
REGISTRY_FILE = ROOT / "minicnn" / "models" / "weights.py"


def entry_of(key: str) -> W.Weights:
    for entries in W.REGISTRY.values():
        for w in entries.values():
            if w.key == key:
                return w
    raise SystemExit(f"name: expected one of {W.list_weights()}, got {key!r}")


def measure(model: Any, entry: W.Weights, backend: str) -> dict[str, Any]:
    """Test accuracy of ``model`` on ``entry``'s full test set."""
    test = entry.test_set_of()
    model.to(backend)
    with minicnn.use_backend(backend):
        result = evaluate(model, data.DataLoader(test, 500, transform=entry.transforms()))
    return {"accuracy": result["accuracy"], "loss": result["loss"], "samples": result["samples"]}


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def update_registry(entry: W.Weights, sha256: str, accuracy: float) -> None:
    """Rewrite the sha256 and accuracy lines that follow ``file="<key>.npz"`` in weights.py."""
    text = REGISTRY_FILE.read_text()
    pattern = re.compile(
        r'(file="' + re.escape(entry.file) + r'",\s*sha256=")[0-9a-f]{64}(",\s*accuracy=)[0-9.]+'
    )
    new, n = pattern.subn(rf"\g<1>{sha256}\g<2>{accuracy:.6f}", text)
    if n != 1:
        raise SystemExit(f"registry: found {n} entries for {entry.file} in {REGISTRY_FILE}")
    REGISTRY_FILE.write_text(new)


def write(
    entry: W.Weights,
    model: Any,
    training: dict[str, Any],
    backend: str,
    build_command: str,
    registry: bool,
) -> dict[str, Any]:
    """Measure, write the npz and the record, update the registry; return the record."""
    measured = measure(model, entry, backend)
    meta = {"arch": entry.arch, "name": entry.name, "model_kwargs": dict(entry.model_kwargs)}
    path = CHECKPOINTS / entry.file
    sha256 = W.save_npz(path, model.state_dict(), meta)
    record = {
        "name": entry.key,
        "load": f"minicnn.models.{entry.arch}(weights={entry.name!r})",
        "file": f"minicnn/models/checkpoints/{entry.file}",
        "sha256": sha256,
        "size_bytes": path.stat().st_size,
        "accuracy": measured["accuracy"],
        "test_loss": measured["loss"],
        "test_set": entry.test_set,
        "test_samples": measured["samples"],
        "model_kwargs": dict(entry.model_kwargs),
        "preprocessing": {"pad": entry.pad, "mean": entry.mean, "std": entry.std},
        "training": training,
        "build": {
            "command": build_command,
            "backend": backend,
            "numba_threads": os.environ.get("NUMBA_NUM_THREADS"),
            "git_commit": git_commit(),
        },
        "machine": machine_info(),
    }
    RECORDS.mkdir(parents=True, exist_ok=True)
    (RECORDS / f"{entry.key}.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(
        f"{entry.key}: {100 * measured['accuracy']:.2f}% on {entry.test_set}; "
        f"{path.stat().st_size / 1024:.0f} KiB; sha256 {sha256}"
    )
    if registry:
        update_registry(entry, sha256, measured["accuracy"])
        print(f"registry updated in {REGISTRY_FILE.relative_to(ROOT)}")
    else:
        print(f'registry: sha256="{sha256}", accuracy={measured["accuracy"]:.6f}')
    return record


def convert(args: argparse.Namespace) -> int:
    entry = entry_of(args.name)
    state = W.read_training_checkpoint(args.checkpoint)
    meta = state.get("meta") or {}
    model = getattr(models, entry.arch)(**entry.model_kwargs)
    model.load_state_dict(state["model"])
    history = state.get("history") or []
    training = {
        "command": meta.get("command"),
        "seed": meta.get("seed"),
        "backend": meta.get("backend"),
        "recipe": meta.get("recipe"),
        "epochs": state.get("epoch"),
        "train_samples": meta.get("train_samples"),
        "checkpoint": str(args.checkpoint),
        "final_test_accuracy_during_training": history[-1].get("test_accuracy")
        if history
        else None,
        "history": history,
    }
    write(entry, model, training, args.backend, " ".join(sys.argv), not args.no_registry)
    return 0


def train_0_4(args: argparse.Namespace) -> int:
    entry = entry_of("lenet5-mnist-0-4")
    minicnn.set_backend(args.backend)
    minicnn.manual_seed(args.seed)
    train = entry.subset(data.MNIST(train=True))
    test = entry.test_set_of()
    model = models.lenet5(**entry.model_kwargs)
    loader = data.DataLoader(
        train, args.batch_size, shuffle=True, seed=args.seed, transform=entry.transforms()
    )
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    t0 = time.perf_counter()
    history = fit(
        model,
        loader,
        opt,
        args.epochs,
        test_loader=data.DataLoader(test, 500, transform=entry.transforms()),
        scheduler=sched,
        progress=False,
    )
    seconds = time.perf_counter() - t0
    training = {
        "command": " ".join(["python", *sys.argv]),
        "seed": args.seed,
        "backend": args.backend,
        "recipe": {
            "dataset": "MNIST training digits 0-4",
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "optimizer": "SGD, Nesterov momentum 0.9, weight decay 5e-4",
            "lr": args.lr,
            "schedule": "cosine",
            "augment": "none",
        },
        "train_samples": len(train),
        "seconds": round(seconds, 1),
        "history": history.epochs,
    }
    write(entry, model, training, args.backend, training["command"], not args.no_registry)
    return 0


def swa(args: argparse.Namespace) -> int:
    from minicnn.cli_data import _datasets, _transforms
    from minicnn.nn.functional import cross_entropy
    from minicnn.optim.swa_utils import AveragedModel, update_bn
    from minicnn.training import train_step

    entry = entry_of(args.name)
    state = W.read_training_checkpoint(args.checkpoint)
    meta = state.get("meta") or {}
    recipe = meta["recipe"]
    minicnn.set_backend(args.backend)
    minicnn.manual_seed(args.seed)
    model = getattr(models, entry.arch)(**entry.model_kwargs)
    model.load_state_dict(state["model"])
    model.to(args.backend)
    train_set, test_set, mean, std = _datasets(recipe["dataset"], None, False)
    train_tf, _ = _transforms(train_set, mean, std, recipe["augment"])
    loader = data.DataLoader(
        train_set, recipe["batch_size"], shuffle=True, seed=args.seed, transform=train_tf
    )
    test_loader = data.DataLoader(entry.test_set_of(), 500, transform=entry.transforms())
    opt = optim.SGD(
        model.parameters(),
        lr=args.lr,
        momentum=recipe["momentum"],
        weight_decay=recipe["weight_decay"],
        nesterov=recipe["momentum"] > 0,
    )
    averaged = AveragedModel(model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "swa.jsonl"
    log.write_text("")
    swa_history, t0 = [], time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        for x, y in loader:
            train_step(model, x, y, cross_entropy, opt)
        averaged.update_parameters(model)
        snapshot = evaluate(model, test_loader)["accuracy"]
        line = {"epoch": epoch + 1, "snapshot_test_accuracy": snapshot}
        if epoch + 1 == args.epochs or args.eval_every and (epoch + 1) % args.eval_every == 0:
            update_bn(loader, averaged)
            line["average_test_accuracy"] = evaluate(averaged, test_loader)["accuracy"]
        line["seconds"] = round(time.perf_counter() - t0, 1)
        swa_history.append(line)
        with log.open("a") as f:
            f.write(json.dumps(line) + "\n")
        print(json.dumps(line), flush=True)
    training = {
        "command": meta.get("command"),
        "seed": meta.get("seed"),
        "backend": meta.get("backend"),
        "recipe": recipe,
        "epochs": state.get("epoch"),
        "train_samples": meta.get("train_samples"),
        "checkpoint": str(args.checkpoint),
        "history": state.get("history") or [],
        "swa": {
            "command": " ".join(["python", *sys.argv]),
            "seed": args.seed,
            "epochs": args.epochs,
            "lr": args.lr,
            "averaged_snapshots": int(averaged.n_averaged.item()),
            "note": "constant learning rate, one snapshot per epoch, batch-norm statistics "
            "measured again over the augmented training set (update_bn)",
            "seconds": round(time.perf_counter() - t0, 1),
            "history": swa_history,
        },
    }
    write(
        entry,
        averaged.module,
        training,
        args.backend,
        training["swa"]["command"],
        not args.no_registry,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="a training checkpoint -> npz + record")
    c.add_argument("name", help=f"one of {W.list_weights()}")
    c.add_argument("checkpoint", type=Path, help="last.ckpt, or the folder holding it")
    t = sub.add_parser("train-0-4", help="train LeNet-5 on digits 0-4, then convert")
    t.add_argument("--epochs", type=int, default=3)
    t.add_argument("--batch-size", dest="batch_size", type=int, default=64)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("swa", help="continue a run with weight averaging, then convert")
    s.add_argument("name", help=f"one of {W.list_weights()}")
    s.add_argument("checkpoint", type=Path, help="last.ckpt of the finished run")
    s.add_argument("--epochs", type=int, default=10)
    s.add_argument("--lr", type=float, default=0.01)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--eval-every",
        dest="eval_every",
        type=int,
        default=0,
        help="also measure the average every N epochs (costs a pass of update_bn)",
    )
    s.add_argument("--out", default="runs/swa", help="folder for swa.jsonl")
    for q in (c, t, s):
        q.add_argument("--backend", default="numba", choices=minicnn.BACKENDS)
        q.add_argument("--no-registry", action="store_true", help="print, do not edit weights.py")
    args = p.parse_args(argv)
    return {"convert": convert, "train-0-4": train_0_4, "swa": swa}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
