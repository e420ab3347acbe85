"""Whole-epoch benchmark: one training epoch end to end, minicnn against a PyTorch twin.

    python -m benchmarks.epoch [--models lenet5 resnet20] [--limit-batches N] [--repeats 1]
                               [--threads N] [--load K] [--torch-workers 1] [--out PATH]

An epoch is what ``python -m minicnn train`` does once per epoch: the data loader gathers
uint8 images, scales them to [0, 1], pads 28x28 to 32x32, augments (ResNet-20: random crop
with padding 4 and horizontal flip) and normalises; then the training steps (forward,
cross-entropy, backward, SGD with Nesterov momentum 0.9 and weight decay 5e-4), the running
loss and accuracy, evaluation on the test set (batches of 500), the scheduler's step and a
checkpoint. LeNet-5 trains on MNIST, ResNet-20 on Fashion-MNIST, both with batch 64 (the
default recipes of ``minicnn.cli_train``).

The PyTorch twin does the same work with its own tools: ``torch.utils.data.DataLoader`` with
``--torch-workers`` worker processes over a dataset that makes a whole batch per item (the
same vectorised gather and transforms), the twin models of ``benchmarks.torch_models``,
``torch.optim.SGD``, ``torch.save``. minicnn's loader prepares batches in a thread
(``prefetch=2``, the command line's default).

Each framework's epoch time is split into data (waiting for the next batch), forward (model
and loss), backward, optimizer (zero_grad and step), eval (the whole evaluation) and other
(reading back the loss and accuracy, the scheduler, the checkpoint: the rest of the epoch).
``--limit-batches N`` stops after N training batches and evaluates the same fraction of the
test set. The frameworks alternate, ``--repeats`` times each; the table gives the median.
``--load K`` runs K CPU-bound processes meanwhile (started and stopped here). The record goes
to ``runs/benchmarks/epoch-cpu.json`` unless ``--out`` names another file.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import benchmarks  # noqa: F401  (the environment benchmarks run in)
from benchmarks.common import (
    CompetingLoad,
    load_average,
    machine_info,
    record_path,
    table,
    write_json,
)

RECIPES = {
    "lenet5": {"dataset": "mnist", "augment": "none"},
    "resnet20": {"dataset": "fashion-mnist", "augment": "crop-flip"},
}
BATCH, EVAL_BATCH, LR, MOMENTUM, DECAY = 64, 500, 0.05, 0.9, 5e-4
PHASES = ("data", "forward", "backward", "optimizer", "eval", "other")


class _Clock:
    """Adds the time since the last mark to a phase."""

    def __init__(self) -> None:
        self.split = dict.fromkeys(PHASES, 0.0)
        self.last = time.perf_counter()

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.split[phase] += now - self.last
        self.last = now


class _Head:
    """The first ``n`` items of a loader, in order; closes the loader's iterator after."""

    def __init__(self, loader: Any, n: int) -> None:
        self.loader, self.n = loader, n

    def __iter__(self) -> Iterator:
        it = iter(self.loader)
        try:
            for _, item in zip(range(self.n), it):
                yield item
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()


def _data(model: str) -> tuple[Any, Any, tuple, tuple]:
    from minicnn.cli_data import _datasets

    return _datasets(RECIPES[model]["dataset"], None, False)


def _counts(train_size: int, test_size: int, limit: int | None) -> tuple[int, int]:
    """(training batches, evaluation batches) of one epoch, or of its first ``limit``."""
    train = -(-train_size // BATCH)
    test = -(-test_size // EVAL_BATCH)
    if limit is None or limit >= train:
        return train, test
    return limit, max(1, round(test * limit / train))


def minicnn_epoch(model_name: str, limit: int | None, folder: Path) -> dict[str, Any]:
    import minicnn
    from minicnn import models, optim
    from minicnn.checkpoint import save_checkpoint
    from minicnn.cli_data import _transforms
    from minicnn.data import DataLoader
    from minicnn.evaluation import evaluate
    from minicnn.optim.lr_scheduler import CosineAnnealingLR

    train_set, test_set, mean, std = _data(model_name)
    train_tf, test_tf = _transforms(train_set, mean, std, RECIPES[model_name]["augment"])
    minicnn.manual_seed(0)
    model = models.get_model(model_name, num_classes=10, in_channels=1)
    loader = DataLoader(train_set, BATCH, shuffle=True, seed=0, transform=train_tf, prefetch=2)
    test_loader = DataLoader(test_set, EVAL_BATCH, transform=test_tf, prefetch=2)
    n_train, n_test = _counts(len(train_set), len(test_set), limit)
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=DECAY, nesterov=True)
    scheduler = CosineAnnealingLR(opt, T_max=10)
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    clock = _Clock()
    start = clock.last
    for x, y in _Head(loader, n_train):
        clock.mark("data")
        opt.zero_grad()
        clock.mark("optimizer")
        out = model(x)
        loss = minicnn.cross_entropy(out, y)
        clock.mark("forward")
        loss.backward()
        clock.mark("backward")
        opt.step()
        clock.mark("optimizer")
        loss_sum += float(loss.item()) * len(y)
        correct += int((out.argmax(1) == y).sum().item())
        seen += len(y)
        clock.mark("other")
    result = evaluate(model, _Head(test_loader, n_test))
    clock.mark("eval")
    scheduler.step()
    save_checkpoint(folder / "last.ckpt", model=model, optimizer=opt, scheduler=scheduler,
                    loader=loader, epoch=1)  # fmt: skip
    clock.mark("other")
    return _summary(clock, start, seen, loss_sum, correct, result["accuracy"])


def torch_epoch(model_name: str, limit: int | None, folder: Path, workers: int) -> dict[str, Any]:
    import torch
    import torch.nn.functional as TF
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

    from benchmarks import torch_models

    train_set, test_set, mean, std = _data(model_name)
    augment = RECIPES[model_name]["augment"]
    torch.manual_seed(0)
    model = {"lenet5": torch_models.LeNet5, "resnet20": torch_models.ResNet20}[model_name](
        in_channels=1
    )
    train = _TorchBatches(train_set, mean, std, augment)
    test = _TorchBatches(test_set, mean, std, "none")
    g = torch.Generator().manual_seed(0)
    kw = {"batch_size": None, "num_workers": workers}
    loader = DataLoader(train, sampler=BatchSampler(RandomSampler(train, generator=g), BATCH,
                                                    drop_last=False), **kw)  # fmt: skip
    test_loader = DataLoader(test, sampler=BatchSampler(SequentialSampler(test), EVAL_BATCH,
                                                        drop_last=False), **kw)  # fmt: skip
    n_train, n_test = _counts(len(train_set), len(test_set), limit)
    opt = torch.optim.SGD(
        model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=DECAY, nesterov=True
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    clock = _Clock()
    start = clock.last
    for x, y in _Head(loader, n_train):
        clock.mark("data")
        opt.zero_grad(set_to_none=True)
        clock.mark("optimizer")
        out = model(x)
        loss = TF.cross_entropy(out, y)
        clock.mark("forward")
        loss.backward()
        clock.mark("backward")
        opt.step()
        clock.mark("optimizer")
        loss_sum += float(loss.item()) * len(y)
        correct += int((out.argmax(1) == y).sum().item())
        seen += len(y)
        clock.mark("other")
    model.eval()
    right = total = 0
    confusion = torch.zeros(10, 10, dtype=torch.int64)
    with torch.no_grad():
        for x, y in _Head(test_loader, n_test):
            logits = model(x)
            float(TF.cross_entropy(logits, y, reduction="sum").item())
            pred = logits.argmax(1)
            confusion += torch.bincount(y * 10 + pred, minlength=100).reshape(10, 10)
            right += int((pred == y).sum())
            total += len(y)
    model.train()
    clock.mark("eval")
    scheduler.step()
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": 1}  # fmt: skip
    torch.save(state, folder / "last.pt.tmp")
    (folder / "last.pt.tmp").replace(folder / "last.pt")
    clock.mark("other")
    return _summary(clock, start, seen, loss_sum, correct, right / max(total, 1))


class _TorchBatches:
    """A map-style dataset whose item is a whole batch (a list of indices, from a
    BatchSampler): the same vectorised work as minicnn's loader, on torch tensors."""

    def __init__(self, dataset: Any, mean: tuple, std: tuple, augment: str) -> None:
        import torch

        self.images = torch.from_numpy(np.ascontiguousarray(dataset.data))  # (N, 1, 28, 28)
        self.labels = torch.from_numpy(np.asarray(dataset.targets, dtype=np.int64))
        self.mean = torch.tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1)
        self.pad = (32 - self.images.shape[-1]) // 2
        self.augment = augment

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: list[int]) -> tuple[Any, Any]:
        import torch
        import torch.nn.functional as TF

        index = torch.as_tensor(idx)
        x = self.images[index].float().div_(255)  # (B, 1, 28, 28)
        if self.pad:
            x = TF.pad(x, (self.pad,) * 4)  # (B, 1, 32, 32)
        if self.augment.startswith("crop"):
            B = x.shape[0]
            windows = TF.pad(x, (4,) * 4).unfold(2, 32, 1).unfold(3, 32, 1)  # (B, 1, 9, 9, 32, 32)
            top, left = torch.randint(0, 9, (B,)), torch.randint(0, 9, (B,))
            x = windows[torch.arange(B), :, top, left]  # (B, 1, 32, 32)
        if "flip" in self.augment:
            flip = torch.rand(x.shape[0]) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        x = (x - self.mean) / self.std
        return x.contiguous(), self.labels[index]


def _summary(clock: _Clock, start: float, seen: int, loss_sum: float, correct: int,
             test_accuracy: float) -> dict[str, Any]:  # fmt: skip
    seconds = clock.last - start
    return {
        "seconds": seconds,
        "images": seen,
        "images_per_s": seen / seconds,
        "train_loss": loss_sum / max(seen, 1),
        "train_accuracy": correct / max(seen, 1),
        "test_accuracy": test_accuracy,
        "split_s": clock.split,
    }


def _warm_up(model_name: str, torch_ok: bool, workers: int) -> None:
    """A few batches of each framework first: compiled kernels load, allocators fill."""
    with tempfile.TemporaryDirectory() as tmp:
        minicnn_epoch(model_name, 3, Path(tmp))
        if torch_ok:
            torch_epoch(model_name, 3, Path(tmp), workers)


def run(models: list[str], limit: int | None, repeats: int, threads: int | None, load: int,
        workers: int) -> dict[str, Any]:  # fmt: skip
    import minicnn

    try:
        import torch

        torch_ok = True
    except ImportError:
        torch_ok = False
        print("PyTorch is not installed: minicnn alone, no PyTorch column (pip install torch)")
    minicnn.set_backend("numba" if minicnn.unavailable_reason("numba") is None else "numpy")
    if threads is not None:
        minicnn.set_num_threads(threads)
        if torch_ok:
            torch.set_num_threads(threads)
    loads = [load_average()]
    rows = []
    with CompetingLoad(load):
        for name in models:
            _warm_up(name, torch_ok, workers)
            runs: dict[str, list[dict[str, Any]]] = {"minicnn": [], "torch": []}
            for _ in range(repeats):
                with tempfile.TemporaryDirectory() as tmp:
                    runs["minicnn"].append(minicnn_epoch(name, limit, Path(tmp)))
                    if torch_ok:
                        runs["torch"].append(torch_epoch(name, limit, Path(tmp), workers))
                loads.append(load_average())
            for framework, results in runs.items():
                if not results:
                    continue
                rows.append(_row(name, framework, results, runs["torch"]))
                print(f"  {name} {framework}: {rows[-1]['seconds']:.1f} s", flush=True)
    return {
        "machine": machine_info(),
        "load_average": loads,
        "competing_processes": load,
        "backend": minicnn.get_backend(),
        "threads": {
            "minicnn": minicnn.get_num_threads(),
            "torch": torch.get_num_threads() if torch_ok else None,
        },  # fmt: skip
        "torch_workers": workers,
        "limit_batches": limit,
        "repeats": repeats,
        "torch_available": torch_ok,
        "rows": rows,
    }


def _row(name: str, framework: str, results: list[dict], torch_results: list[dict]) -> dict:
    """The median run of one framework (by epoch time), with the ratio to PyTorch's median."""
    ordered = sorted(results, key=lambda r: r["seconds"])
    mid = ordered[(len(ordered) - 1) // 2]
    torch_s = statistics.median(r["seconds"] for r in torch_results) if torch_results else None
    return {
        "model": name,
        "framework": framework,
        "seconds": mid["seconds"],
        "images_per_s": mid["images_per_s"],
        "vs_torch": mid["seconds"] / torch_s if torch_s and framework != "torch" else None,
        **{f"{p}_s": mid["split_s"][p] for p in PHASES},
        "test_accuracy": mid["test_accuracy"],
        "all_seconds": [r["seconds"] for r in results],
        "runs": results,
    }


COLUMNS = [
    ("model", "model", ""),
    ("framework", "framework", ""),
    ("seconds", "epoch s", "{:.1f}"),
    ("images_per_s", "images/s", "{:.0f}"),
    ("vs_torch", "x torch", "{:.2f}"),
    *[(f"{p}_s", p, "{:.1f}") for p in PHASES],
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", choices=sorted(RECIPES), default=sorted(RECIPES))
    p.add_argument("--limit-batches", dest="limit", type=int, default=None)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--threads", type=int, default=None, help="both frameworks (default: all)")
    p.add_argument("--load", type=int, default=0, help="competing CPU-bound processes")
    p.add_argument("--torch-workers", dest="workers", type=int, default=1)
    p.add_argument("--out", default=None, help="JSON path (default runs/benchmarks/epoch-cpu.json)")
    args = p.parse_args(argv)
    result = run(args.models, args.limit, args.repeats, args.threads, args.load, args.workers)
    print(table(result["rows"], COLUMNS))
    print(f"load average (1, 5, 15 min) before and after each repeat: {result['load_average']}")
    path = write_json("epoch-cpu", result, str(record_path("epoch-cpu", args.out)))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
