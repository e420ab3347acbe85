"""Loss layers: ``CrossEntropyLoss`` and ``MSELoss``; ``loss = criterion(output, target)``."""

from __future__ import annotations

from typing import Any

from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(layer: str, reduction: Any) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{layer}: reduction must be one of {', '.join(map(repr, _REDUCTIONS))}, "
            f"got {reduction!r}"
        )
    return reduction


class CrossEntropyLoss(Module):
    """Softmax cross-entropy of logits (N, C[, d...]) against class indices (N[, d...]).

    ``weight`` (C,) rescales each class (kept as a buffer, so it moves with ``to()``);
    targets equal to ``ignore_index`` contribute nothing; ``label_smoothing`` in [0, 1] mixes
    the one-hot target with the uniform distribution. Returns a scalar, or the per-sample
    losses (N[, d...]) with ``reduction="none"``.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        if weight is not None and not isinstance(weight, Tensor):
            raise ValueError(f"CrossEntropyLoss: weight must be a Tensor or None, got {weight!r}")
        if (
            isinstance(label_smoothing, bool)
            or not isinstance(label_smoothing, (int, float))
            or not (0.0 <= label_smoothing <= 1.0)
        ):
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be a number in [0, 1], "
                f"got {label_smoothing!r}"
            )
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = _check_reduction("CrossEntropyLoss", reduction)
        self.label_smoothing = float(label_smoothing)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """Logits (N, C[, d...]) and targets (N[, d...]) -> loss."""
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class MSELoss(Module):
    """Mean (or summed, or per-element) squared error of two tensors of the same shape."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _check_reduction("MSELoss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Two tensors of one shape -> loss."""
        return F.mse_loss(input, target, reduction=self.reduction)


__all__ = ["CrossEntropyLoss", "MSELoss"]
