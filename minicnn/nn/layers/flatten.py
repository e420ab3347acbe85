"""Flatten: merge a range of dimensions into one, e.g. conv features before a Linear layer."""

from __future__ import annotations

from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.ops._args import check_int
from minicnn.tensor import Tensor


class Flatten(Module):
    """Merge dims ``start_dim`` to ``end_dim``: (N, C, H, W) -> (N, C * H * W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = check_int("Flatten", "start_dim", start_dim, minimum=None)
        self.end_dim = check_int("Flatten", "end_dim", end_dim, minimum=None)

    def forward(self, input: Tensor) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


__all__ = ["Flatten"]
