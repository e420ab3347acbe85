"""Evaluation: loss, accuracy and confusion matrix of a model over a data loader."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minicnn import backend
from minicnn.autograd import no_grad
from minicnn.ops.loss import cross_entropy
from minicnn.tensor import Tensor


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
