"""Layers that only move elements: ``ZeroPad2d``, ``ConstantPad2d`` and ``Unflatten``."""

from __future__ import annotations

from typing import Any

from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.ops._args import is_int
from minicnn.ops.extra.shape import unflatten
from minicnn.tensor import Tensor


def _padding4(layer: str, padding: Any) -> tuple[int, int, int, int]:
    """An int, or (left, right, top, bottom), as PyTorch's padding layers take it."""
    p = (
        (padding,) * 4
        if is_int(padding)
        else tuple(padding)
        if isinstance(padding, (tuple, list))
        else ()
    )
    if len(p) != 4 or not all(is_int(v) and v >= 0 for v in p):
        raise ValueError(
            f"{layer}: padding must be a non-negative int or (left, right, top, bottom), "
            f"got {padding!r}"
        )
    return p  # type: ignore[return-value]


class ConstantPad2d(Module):
    """Surround (N, C, H, W) or (C, H, W) images with ``value``: (.., H + top + bottom,
    W + left + right)."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__()
        self.padding = _padding4(type(self).__name__, padding)
        self.value = float(value)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(
                f"{type(self).__name__}: input: expected a 3-D or 4-D tensor, got {input.shape}"
            )
        return F.pad(input, self.padding, value=self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Surround images with zeros (``padding``: an int or (left, right, top, bottom))."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"padding={self.padding}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``: Unflatten(1, (16, 5, 5)) takes
    (N, 400) to (N, 16, 5, 5), undoing a Flatten."""

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        if not is_int(dim):
            raise ValueError(f"Unflatten: dim must be an int, got {dim!r}")
        if not isinstance(unflattened_size, (tuple, list)) or not all(
            is_int(s) for s in unflattened_size
        ):
            raise ValueError(
                f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}"
            )
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["ConstantPad2d", "Unflatten", "ZeroPad2d"]
