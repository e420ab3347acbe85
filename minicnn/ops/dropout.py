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
from minicnn.ops._args import check_probability, check_tensor
from minicnn.tensor import Tensor


class Dropout(Function):
    """y = x * mask / (1 - p), mask of shape x.shape or (N, C, 1, 1) (broadcast)."""

    def forward(self, x: Any, mask_shape: tuple, p: float, seed: int) -> Any:
        mask = backend.kernel("dropout_mask")(mask_shape, p, seed)
        self.scale = mask.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
        return x * self.scale

    def backward(self, gy: Any) -> Any:
        return gy * self.scale


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout of single elements; the identity when not ``training`` or p == 0."""
    check_tensor("dropout", "input", input)
    check_probability("dropout", p)
    if not training or p == 0:
        return input
    return Dropout.apply(input, input.shape, float(p), random.draw_seed())


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout of whole channels of an (N, C, H, W) input."""
    check_tensor("dropout2d", "input", input, (4,), "(N, C, H, W)")
    check_probability("dropout2d", p)
    if not training or p == 0:
        return input
    return Dropout.apply(input, input.shape[:2] + (1, 1), float(p), random.draw_seed())
