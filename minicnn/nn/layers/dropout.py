"""Dropout layers: active in training mode, the identity in evaluation mode."""

from __future__ import annotations

from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.ops._args import check_probability
from minicnn.tensor import Tensor


class Dropout(Module):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p); any shape.

    The scaling keeps each element's expected value, so nothing changes at evaluation time.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = check_probability("Dropout", p)
        self.inplace = bool(inplace)  # see F.relu for what in place means here

    def forward(self, input: Tensor) -> Tensor:
        """Any shape -> the same shape."""
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Module):
    """Zero whole channels (N, C, H, W) with probability ``p``, scale the rest by 1 / (1 - p).

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    barely regularises a conv layer; dropping whole channels does.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = check_probability("Dropout2d", p)
        self.inplace = bool(inplace)  # see F.relu for what in place means here

    def forward(self, input: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        return F.dropout2d(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}"


__all__ = ["Dropout", "Dropout2d"]
