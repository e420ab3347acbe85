"""Loss layers: ``CrossEntropyLoss`` and ``MSELoss``; ``loss = criterion(output, target)``."""

from __future__ import annotations

from typing import Any

from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.ops._args import check_choice, check_number
from minicnn.ops.loss import REDUCTIONS
from minicnn.tensor import Tensor


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
            raise TypeError(
                f"CrossEntropyLoss: weight: expected a Tensor or None, got {type(weight).__name__}"
            )
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = check_choice("CrossEntropyLoss", "reduction", reduction, REDUCTIONS)
        self.label_smoothing = check_number(
            "CrossEntropyLoss", "label_smoothing", label_smoothing, 0, 1
        )

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
        self.reduction = check_choice("MSELoss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Two tensors of one shape -> loss."""
        return F.mse_loss(input, target, reduction=self.reduction)


__all__ = ["CrossEntropyLoss", "MSELoss"]
