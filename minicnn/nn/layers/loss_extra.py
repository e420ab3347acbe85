"""More loss layers: ``NLLLoss``, ``L1Loss``, ``SmoothL1Loss``, ``BCELoss`` and
``BCEWithLogitsLoss``; ``loss = criterion(output, target)``."""

from __future__ import annotations

from typing import Any

from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.ops._args import check_choice
from minicnn.ops.loss import REDUCTIONS
from minicnn.tensor import Tensor


def _optional_tensor(layer: str, name: str, value: Any) -> Any:
    if value is not None and not isinstance(value, Tensor):
        raise ValueError(f"{layer}: {name} must be a Tensor or None, got {value!r}")
    return value


class NLLLoss(Module):
    """Negative log-likelihood of log-probabilities (N, C[, d...]) (a ``LogSoftmax`` output)
    at class indices (N[, d...]); ``weight`` (C,) rescales classes, ``ignore_index`` skips."""

    def __init__(
        self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.register_buffer("weight", _optional_tensor("NLLLoss", "weight", weight))
        self.ignore_index = ignore_index
        self.reduction = check_choice("NLLLoss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class L1Loss(Module):
    """Mean (or summed, or per-element) absolute difference of two tensors of one shape."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_choice("L1Loss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(Module):
    """Squared error below ``beta``, absolute error above (Fast R-CNN's box loss)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__()
        self.reduction = check_choice("SmoothL1Loss", "reduction", reduction, REDUCTIONS)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be a number >= 0, got {beta!r}")
        self.beta = float(beta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(Module):
    """Binary cross-entropy of probabilities in [0, 1] (a ``Sigmoid`` output) and targets."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.register_buffer("weight", _optional_tensor("BCELoss", "weight", weight))
        self.reduction = check_choice("BCELoss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(Module):
    """Sigmoid and binary cross-entropy in one stable op, from logits; ``pos_weight`` weighs
    the positive targets (one per class, along the last axis)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.register_buffer("weight", _optional_tensor("BCEWithLogitsLoss", "weight", weight))
        self.register_buffer(
            "pos_weight", _optional_tensor("BCEWithLogitsLoss", "pos_weight", pos_weight)
        )
        self.reduction = check_choice("BCEWithLogitsLoss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


__all__ = ["BCELoss", "BCEWithLogitsLoss", "L1Loss", "NLLLoss", "SmoothL1Loss"]
