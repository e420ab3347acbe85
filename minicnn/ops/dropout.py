"""Dropout: zero each element (or each whole channel, ``dropout2d``) with probability p during
training and scale the survivors by 1/(1-p), so the expected value is unchanged ("inverted"
dropout: evaluation is then the identity).

The keep-mask comes from the backend's ``dropout_mask`` kernel, a counter-based hash of
(seed, element index): one seed drawn from minicnn's generator per call gives the same mask on
every backend. Gradient: gx = gy * mask / (1 - p).
"""

from __future__ import annotations

from typing import Any

from minicnn import backend, random
from minicnn.autograd import Function
from minicnn.tensor import Tensor


class Dropout(Function):
    """y = x * mask / (1 - p), mask of shape x.shape or (N, C, 1, 1) (broadcast)."""

    def forward(self, x: Any, mask_shape: tuple, p: float, seed: int) -> Any:
        mask = backend.kernel("dropout_mask")(mask_shape, p, seed)
        self.scale = mask.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
        return x * self.scale

    def backward(self, gy: Any) -> Any:
        return gy * self.scale


def _check(op: str, input: Any, p: float) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"{op}: p: expected a probability in [0, 1), got {p!r}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout of single elements; the identity when not ``training`` or p == 0."""
    _check("dropout", input, p)
    if not training or p == 0:
        return input
    return Dropout.apply(input, input.shape, float(p), random.draw_seed())


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout of whole channels of an (N, C, H, W) input."""
    _check("dropout2d", input, p)
    if input.ndim != 4:
        raise ValueError(
            f"dropout2d: input: expected a 4-D tensor (N, C, H, W), got shape {input.shape}"
        )
    if not training or p == 0:
        return input
    return Dropout.apply(input, input.shape[:2] + (1, 1), float(p), random.draw_seed())
