"""Training and evaluation: ``fit``, ``evaluate``, checkpoints that resume exactly.

``fit`` runs epochs of forward, loss, backward and optimizer step, evaluates after each epoch,
and (with ``out``) writes after each epoch:

- ``out/last.ckpt``: everything needed to continue exactly: weights and buffers, optimizer and
  scheduler state, the data loader's position and generator, minicnn's generator state, and the
  history so far (a pickle of NumPy arrays and plain Python values, written atomically);
- ``out/last.json``: the same checkpoint's metadata, readable by people;
- ``out/metrics.jsonl``: one JSON line per epoch; ``out/curves.png``: loss and accuracy.

Resuming (``resume=True``) loads ``last.ckpt`` and continues from the batch where it stopped, so
an interrupted run ends with the same numbers as an uninterrupted one. Ctrl-C saves the state
at the last finished batch and exits; a NaN or infinite loss stops training with
:class:`TrainingDiverged`, leaving the last good checkpoint untouched.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minicnn import backend, random
from minicnn.autograd import no_grad
from minicnn.ops.loss import cross_entropy
from minicnn.tensor import Tensor

CHECKPOINT = "last.ckpt"


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class History:
    """Per-epoch metrics of a run (also written as metrics.jsonl)."""

    epochs: list[dict[str, Any]] = field(default_factory=list)

    def last(self, key: str) -> Any:
        return self.epochs[-1][key] if self.epochs else None


@dataclass
class _EpochTotals:
    """Running sums of the epoch in progress (saved with a mid-epoch checkpoint)."""

    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    batches: int = 0
    seconds: float = 0.0


def evaluate(
    model: Any,
    loader: Any,
    num_classes: int | None = None,
    loss_fn: Callable[..., Tensor] = cross_entropy,
) -> dict[str, Any]:
    """Mean loss, accuracy and confusion matrix (rows: true class, columns: predicted) of
    ``model`` over ``loader``, in eval mode and without recording the graph."""
    was_training = model.training
    model.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    confusion: np.ndarray | None = None
    try:
        with no_grad():
            for x, y in loader:
                logits = model(x)
                loss_sum += float(loss_fn(logits, y, reduction="sum").item())
                pred = backend.to_host(logits.argmax(1).array)
                true = backend.to_host(y.array)
                C = num_classes or logits.shape[1]
                if confusion is None:
                    confusion = np.zeros((C, C), dtype=np.int64)
                np.add.at(confusion, (true, pred), 1)
                correct += int((pred == true).sum())
                seen += len(true)
    finally:
        model.train(was_training)
    return {
        "loss": loss_sum / max(seen, 1),
        "accuracy": correct / max(seen, 1),
        "confusion": confusion,
        "samples": seen,
    }


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: a crash never leaves half a
    checkpoint under the real name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _host_state(state: dict[str, Any]) -> dict[str, Any]:
    return {k: backend.to_host(v.array) for k, v in state.items()}


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    loader: Any = None,
    epoch: int = 0,
    totals: _EpochTotals | None = None,
    history: History | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint (pickle) and its metadata (JSON beside it, same stem)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": "minicnn-checkpoint-1",
        "model": _host_state(model.state_dict()),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "loader": loader.state_dict() if loader is not None else None,
        "rng": random.get_rng_state(),
        "epoch": epoch,
        "totals": vars(totals) if totals is not None else None,
        "history": history.epochs if history is not None else [],
        "meta": meta or {},
    }
    _atomic_write(path, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    summary = {k: state[k] for k in ("format", "epoch", "meta")}
    summary["last_epoch_metrics"] = state["history"][-1] if state["history"] else None
    summary["mid_epoch"] = totals is not None
    _atomic_write(
        path.with_suffix(".json"), (json.dumps(summary, indent=2, default=str) + "\n").encode()
    )
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (only open files you trust:
    checkpoints are pickles)."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: no file at {path}")
    with open(path, "rb") as f:
        state = pickle.load(f)
    if not isinstance(state, dict) or state.get("format") != "minicnn-checkpoint-1":
        raise ValueError(f"checkpoint: {path} is not a minicnn checkpoint")
    return state


def _write_curves(history: History, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history.epochs]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(ep, [h["train_loss"] for h in history.epochs], "o-", label="train")
    a2.plot(ep, [100 * h["train_accuracy"] for h in history.epochs], "o-", label="train")
    if history.epochs and history.epochs[0].get("test_loss") is not None:
        a1.plot(ep, [h["test_loss"] for h in history.epochs], "s-", label="test")
        a2.plot(ep, [100 * h["test_accuracy"] for h in history.epochs], "s-", label="test")
    a1.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    a2.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for a in (a1, a2):
        a.grid(alpha=0.3)
        a.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fit(
    model: Any,
    train_loader: Any,
    optimizer: Any,
    epochs: int,
    *,
    test_loader: Any = None,
    scheduler: Any = None,
    scheduler_per_batch: bool = False,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    meta: dict[str, Any] | None = None,
    loss_fn: Callable[..., Tensor] = cross_entropy,
    log: Callable[[str], None] = print,
    stop_after_batches: int | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs; see the module docstring for what is written.

    ``loss_fn(model_output, targets)`` is the training loss (cross-entropy by default; a model
    with auxiliary heads brings its own, e.g. ``googlenet_loss``); evaluation always reports the
    cross-entropy of the logits. ``scheduler.step()`` runs after every epoch, or after every batch with
    ``scheduler_per_batch`` (OneCycleLR). ``stop_after_batches`` simulates an interruption after
    that many batches of this call (used to test that resuming is exact).
    """
    out_dir = Path(out) if out is not None else None
    history, start_epoch, totals = History(), 0, _EpochTotals()
    if resume:
        if out_dir is None:
            raise ValueError("resume: needs out, the folder holding last.ckpt")
        state = load_checkpoint(out_dir / CHECKPOINT)
        model.load_state_dict(state["model"])
        if optimizer is not None and state["optimizer"] is not None:
            optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.load_state_dict(state["scheduler"])
        train_loader.load_state_dict(state["loader"])
        random.set_rng_state(state["rng"])
        history = History(list(state["history"]))
        start_epoch = state["epoch"]
        if state["totals"] is not None:
            totals = _EpochTotals(**state["totals"])
        log(
            f"resumed from {out_dir / CHECKPOINT}: epoch {start_epoch + 1}, "
            f"{totals.seen} samples of it done"
        )
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    batches_run = 0

    def checkpoint(epoch: int, mid: _EpochTotals | None) -> None:
        if out_dir is not None:
            save_checkpoint(
                out_dir / CHECKPOINT,
                model=model,
                optimizer=optimizer,
                scheduler=scheduler,
                loader=train_loader,
                epoch=epoch,
                totals=mid,
                history=history,
                meta=meta,
            )

    for epoch in range(start_epoch, epochs):
        model.train()
        # An interruption right after an epoch's last batch leaves nothing of it to iterate.
        done = totals.batches >= len(train_loader)
        bar = _progress([] if done else train_loader, epoch, epochs, progress)
        t0 = time.perf_counter() - totals.seconds
        try:
            for x, y in bar:
                optimizer.zero_grad()
                out = model(x)
                loss = loss_fn(out, y)
                logits = getattr(out, "logits", out)  # models with auxiliary heads (GoogLeNet)
                value = float(loss.item())
                if not math.isfinite(value):
                    last = _describe_checkpoint(out_dir)
                    raise TrainingDiverged(
                        f"loss became {value} at epoch {epoch + 1}, sample {totals.seen}: training "
                        f"stopped; the last good checkpoint is {last}. Try a lower learning rate."
                    )
                loss.backward()
                optimizer.step()
                if scheduler is not None and scheduler_per_batch:
                    scheduler.step()
                n = len(y)
                pred = logits.argmax(1)
                totals.loss_sum += value * n
                totals.correct += int((pred == y).sum().item())
                totals.seen += n
                totals.batches += 1
                totals.seconds = time.perf_counter() - t0
                if progress:
                    bar.set_postfix(
                        loss=f"{totals.loss_sum / totals.seen:.4f}",
                        acc=f"{100 * totals.correct / totals.seen:.2f}%",
                        img_s=f"{totals.seen / max(totals.seconds, 1e-9):.0f}",
                    )
                batches_run += 1
                if stop_after_batches is not None and batches_run >= stop_after_batches:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            if progress:
                bar.close()
            checkpoint(epoch, totals)
            where = f"; saved to {out_dir / CHECKPOINT}, continue with resume" if out_dir else ""
            log(f"interrupted in epoch {epoch + 1} after {totals.seen} samples{where}")
            raise
        if progress:
            bar.close()
        if scheduler is not None and not scheduler_per_batch:
            scheduler.step()
        record = {
            "epoch": epoch + 1,
            "train_loss": totals.loss_sum / max(totals.seen, 1),
            "train_accuracy": totals.correct / max(totals.seen, 1),
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": totals.seconds,
            "images_per_s": totals.seen / max(totals.seconds, 1e-9),
        }
        if test_loader is not None:
            result = evaluate(model, test_loader)
            record["test_loss"], record["test_accuracy"] = result["loss"], result["accuracy"]
        history.epochs.append(record)
        totals = _EpochTotals()
        log(_epoch_line(record, epochs))
        if out_dir is not None:
            checkpoint(epoch + 1, None)
            with open(out_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            _write_curves(history, out_dir / "curves.png")
    return history


def _describe_checkpoint(out_dir: Path | None) -> str:
    """Where the last good checkpoint is (and its epoch), for error messages."""
    if out_dir is None or not (out_dir / CHECKPOINT).is_file():
        return "none (no checkpoint was written)"
    try:
        epoch = json.loads((out_dir / CHECKPOINT).with_suffix(".json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return str(out_dir / CHECKPOINT)
    return f"{out_dir / CHECKPOINT} (after epoch {epoch})"


def _epoch_line(r: dict[str, Any], epochs: int) -> str:
    test = (
        f", test loss {r['test_loss']:.4f}, test accuracy {100 * r['test_accuracy']:.2f}%"
        if "test_loss" in r
        else ""
    )
    return (
        f"epoch {r['epoch']}/{epochs}: train loss {r['train_loss']:.4f}, train accuracy "
        f"{100 * r['train_accuracy']:.2f}%{test} ({r['seconds']:.1f} s, "
        f"{r['images_per_s']:.0f} images/s)"
    )


def _progress(loader: Any, epoch: int, epochs: int, enabled: bool) -> Any:
    if not enabled:
        return loader
    from tqdm.auto import tqdm

    return tqdm(
        loader, desc=f"epoch {epoch + 1}/{epochs}", leave=False, unit="batch", dynamic_ncols=True
    )


def format_confusion(confusion: np.ndarray, classes: list[str] | None = None) -> str:
    """A confusion matrix as text: rows are true classes, columns predicted ones."""
    C = confusion.shape[0]
    names = classes or [str(i) for i in range(C)]
    w = max(max(len(str(int(v))) for v in confusion.ravel()), max(len(n) for n in names), 4)
    head = " " * (w + 2) + " ".join(n[:w].rjust(w) for n in names)
    rows = [
        f"{names[i][:w].rjust(w)}  " + " ".join(str(int(v)).rjust(w) for v in confusion[i])
        for i in range(C)
    ]
    return "\n".join(["true \\ predicted", head, *rows])
