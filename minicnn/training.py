"""Training: ``train_step`` and ``fit`` (``evaluate`` is in :mod:`minicnn.evaluation`).

:func:`train_step` is the whole of learning, five lines: zero the gradients, forward, loss,
backward, update. :func:`fit` repeats it over epochs and adds what a long run needs: the
running loss and accuracy, evaluation after each epoch, a progress bar, and (with ``out_dir``)
files written after each epoch:

- ``out_dir/last.ckpt``: everything needed to continue exactly (see :mod:`minicnn.checkpoint`),
  with ``previous.ckpt``, the one before, kept in case ``last.ckpt`` is damaged;
- ``out_dir/last.json``: where that checkpoint stands, readable by people;
- ``out_dir/metrics.jsonl``: one JSON line per epoch; ``out_dir/curves.png``: loss and accuracy.

Resuming (``resume=True``) continues from the last checkpoint, so an interrupted run ends with
the same numbers as an uninterrupted one, bit for bit. A batch counts as done once the
optimizer step that used it has finished. Ctrl-C (KeyboardInterrupt) before that point rolls
the run back to the end of the previous batch (the loader's position, minicnn's generator and
the buffers, such as BatchNorm's running statistics, that the forward pass changed), saves it,
and re-raises: the interrupted batch is replayed on resume. From the start of the optimizer
step until the batch is counted, and while a checkpoint is written, Ctrl-C waits for that
stretch to end (a second Ctrl-C there stops at once and saves nothing). A NaN or infinite loss
stops training with :class:`TrainingDiverged`, leaving the last good checkpoint untouched.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minicnn import random
from minicnn.checkpoint import (
    CHECKPOINT,
    ResumeError,
    describe_folder,
    load_checkpoint,
    load_latest,
    save_checkpoint,
)
from minicnn.evaluation import evaluate, format_confusion
from minicnn.files import atomic_write
from minicnn.ops.loss import cross_entropy
from minicnn.tensor import Tensor
from minicnn.training_control import (
    Buffers,
    CtrlC,
    ResumePoint,
    StepGuard,
    check_fit_args,
    check_step_args,
    progress_bar,
)

__all__ = [
    "History",
    "ResumeError",
    "TrainingDiverged",
    "evaluate",
    "fit",
    "format_confusion",
    "load_checkpoint",
    "save_checkpoint",
    "train_step",
]


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


def train_step(model: Any, x: Tensor, y: Tensor, loss_fn: Callable[..., Tensor], optimizer: Any):
    """One step of gradient descent on the batch ``(x, y)``; returns ``(loss, output)``.

    ``loss_fn(output, y)`` turns the model's output into a scalar; ``output`` is what the model
    returned, for accuracy and other metrics.
    """
    check_step_args(model, x, y, loss_fn, optimizer)
    optimizer.zero_grad()  # gradients of the last step would add up with this one's
    output = model(x)  # forward: (N, classes) logits
    loss = loss_fn(output, y)  # a 0-d Tensor
    loss.backward()  # every parameter's .grad = d loss / d parameter
    optimizer.step()  # parameters -= lr * (their .grad, with momentum, decay, ...)
    return loss, output


def fit(
    model: Any,
    train_loader: Any,
    optimizer: Any,
    epochs: int,
    *,
    test_loader: Any = None,
    scheduler: Any = None,
    scheduler_per_batch: bool = False,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    meta: dict[str, Any] | None = None,
    loss_fn: Callable[..., Tensor] = cross_entropy,
    log: Callable[[str], None] = print,
    stop_after_batches: int | None = None,
    title: str | None = None,
    out: str | os.PathLike | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs of :func:`train_step`; see the module docstring.

    ``loss_fn(model_output, targets)`` is the training loss (cross-entropy by default; a model
    with auxiliary heads brings its own, e.g. ``googlenet_loss``); training accuracy counts
    ``model_output.argmax(1)``; evaluation reports the cross-entropy of the logits.
    ``scheduler.step()`` runs after every epoch, or after every batch with
    ``scheduler_per_batch`` (OneCycleLR). ``title`` heads the curves. ``stop_after_batches``
    interrupts (KeyboardInterrupt) after that many batches of this call, as Ctrl-C would.
    ``out`` is the former name of ``out_dir``.
    """
    if out is not None:
        if out_dir is not None:
            raise TypeError("out: give out_dir only (out is its former name)")
        warnings.warn("fit(out=...) is deprecated; use out_dir=", DeprecationWarning, stacklevel=2)
        out_dir = out
    check_fit_args(
        model,
        train_loader,
        optimizer,
        epochs,
        scheduler,
        out_dir is not None,
        loss_fn=loss_fn,
        log=log,
        resume=resume,
        progress=progress,
        scheduler_per_batch=scheduler_per_batch,
        stop_after_batches=stop_after_batches,
    )
    folder = Path(out_dir) if out_dir is not None else None
    history, start_epoch, totals = History(), 0, _EpochTotals()
    if resume:
        if folder is None:
            raise ValueError("resume: needs out_dir, the folder holding last.ckpt")
        state = load_latest(folder, log)
        try:
            model.load_state_dict(state["model"])
            if optimizer is not None and state["optimizer"] is not None:
                optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None and state["scheduler"] is not None:
                scheduler.load_state_dict(state["scheduler"])
            train_loader.load_state_dict(state["loader"])
            random.set_rng_state(state["rng"])
        except (ValueError, RuntimeError, TypeError, KeyError) as e:
            raise ResumeError(f"the checkpoint in {folder} does not fit this run: {e}") from e
        history = History(list(state["history"]))
        start_epoch = state["epoch"]
        if state["totals"] is not None:
            totals = _EpochTotals(**state["totals"])
        log(f"resumed from {folder}: epoch {start_epoch + 1}, {totals.seen} samples of it done")
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    batches_run = 0
    buffers = Buffers(model)
    saved: ResumePoint | None = None  # the resume point last written to disk

    def checkpoint(point: ResumePoint) -> None:
        nonlocal saved
        if folder is None or point is saved:
            return
        with ctrl_c.held():  # a half-written checkpoint is never renamed into place anyway
            save_checkpoint(
                folder / CHECKPOINT,
                model=model,
                optimizer=optimizer,
                scheduler=scheduler,
                loader=train_loader,
                epoch=point.epoch,
                totals=vars(point.totals) if point.mid_epoch else None,
                history=history.epochs,
                meta=meta,
            )
        saved = point

    def resume_point(epoch: int, mid_epoch: bool) -> ResumePoint | None:
        if folder is None:  # nothing will be saved: no need to remember
            return None
        return ResumePoint.take(epoch, mid_epoch, totals, buffers, train_loader)

    with CtrlC() as ctrl_c:
        stepper = StepGuard(optimizer, ctrl_c)
        for epoch in range(start_epoch, epochs):
            model.train()
            point = resume_point(epoch, mid_epoch=totals.batches > 0)
            # A run interrupted after an epoch's last batch has nothing of it left to iterate.
            done = totals.batches >= len(train_loader)
            batches = iter(()) if done else iter(train_loader)
            bar = progress_bar(progress, len(train_loader), totals.batches, epoch, epochs)
            t0 = time.perf_counter() - totals.seconds
            try:
                for x, y in batches:
                    loss, output = train_step(model, x, y, loss_fn, stepper)
                    value = float(loss.item())
                    if not math.isfinite(value):
                        raise TrainingDiverged(
                            f"loss became {value} at epoch {epoch + 1}, sample {totals.seen}: "
                            f"training stopped; the last good checkpoint is "
                            f"{describe_folder(folder)}. Try a lower learning rate."
                        )
                    if scheduler is not None and scheduler_per_batch:
                        scheduler.step()
                    n = len(y)
                    totals.loss_sum += value * n
                    totals.correct += int((output.argmax(1) == y).sum().item())
                    totals.seen += n
                    totals.batches += 1
                    totals.seconds = time.perf_counter() - t0
                    point = resume_point(epoch, mid_epoch=True)
                    ctrl_c.release()  # the batch is done; a Ctrl-C held since step() acts now
                    bar.update(totals)
                    batches_run += 1
                    if stop_after_batches is not None and batches_run >= stop_after_batches:
                        raise KeyboardInterrupt
                if test_loader is not None:
                    result = evaluate(model, test_loader)
                with ctrl_c.held():
                    if scheduler is not None and not scheduler_per_batch:
                        scheduler.step()
                    record = _epoch_record(epoch, totals, optimizer)
                    if test_loader is not None:
                        record["test_loss"] = result["loss"]
                        record["test_accuracy"] = result["accuracy"]
                    history.epochs.append(record)
                    totals = _EpochTotals()
                    point = resume_point(epoch + 1, mid_epoch=False)
                    checkpoint(point)
                    _write_metrics(history, folder)
                log(_epoch_line(record, epochs))
                if folder is not None:
                    _write_curves(history, folder / "curves.png", title, log)
            except KeyboardInterrupt:
                _close(batches)
                _interrupted(ctrl_c, point, checkpoint, buffers, train_loader, epoch, folder, log)
                raise
            finally:
                bar.close()
                _close(batches)
    return history


def _close(batches: Any) -> None:
    """Close the epoch's iterator (this stops a prefetch thread) if it can be closed."""
    close = getattr(batches, "close", None)
    if close is not None:
        close()


def _interrupted(
    ctrl_c: CtrlC,
    point: ResumePoint | None,
    checkpoint: Callable[[ResumePoint], None],
    buffers: Buffers,
    loader: Any,
    epoch: int,
    folder: Path | None,
    log: Callable[[str], None],
) -> None:
    """Save the run as it stood at ``point`` (the end of the last finished batch), if the
    interruption came where that is possible, and say what was saved."""
    if ctrl_c.holding:
        ctrl_c.reset()
        log(
            f"interrupted in epoch {epoch + 1} during an optimizer step or a checkpoint write: "
            f"nothing saved; the last checkpoint is {describe_folder(folder)}"
        )
        return
    if point is None:
        log(f"interrupted in epoch {epoch + 1}")
        return
    point.restore(buffers, loader)
    checkpoint(point)
    log(
        f"interrupted in epoch {point.epoch + 1} after {point.totals.seen} samples; saved to "
        f"{folder / CHECKPOINT}, continue with resume"
        if point.mid_epoch
        else f"interrupted after epoch {point.epoch}; saved to {folder / CHECKPOINT}"
    )


def _epoch_record(epoch: int, totals: _EpochTotals, optimizer: Any) -> dict[str, Any]:
    return {
        "epoch": epoch + 1,
        "train_loss": totals.loss_sum / max(totals.seen, 1),
        "train_accuracy": totals.correct / max(totals.seen, 1),
        "lr": optimizer.param_groups[0]["lr"],
        "seconds": totals.seconds,
        "images_per_s": totals.seen / max(totals.seconds, 1e-9),
    }


def _write_metrics(history: History, folder: Path | None) -> None:
    """metrics.jsonl, one line per epoch, rewritten whole from the history: after a resume
    it holds each epoch once, wherever the run was interrupted."""
    if folder is None:
        return
    text = "".join(json.dumps(r) + "\n" for r in history.epochs)
    atomic_write(folder / "metrics.jsonl", lambda f: f.write(text.encode()))


_notified: set[str] = set()


def _write_curves(history: History, path: Path, title: str | None, log: Callable) -> None:
    try:
        import matplotlib
    except ImportError:
        if "matplotlib" not in _notified:
            _notified.add("matplotlib")
            log("notice: curves.png skipped: matplotlib is not installed (pip install matplotlib)")
        return
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
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
