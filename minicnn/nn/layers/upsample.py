"""Upsample: resize (N, C, H, W) images by nearest-neighbour or bilinear interpolation, and
the LocalResponseNorm layer of AlexNet."""

from __future__ import annotations

from typing import Any

from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.ops._args import check_int
from minicnn.tensor import Tensor


class Upsample(Module):
    """``F.interpolate`` as a layer: to ``size`` or by ``scale_factor``, with ``mode``
    ``"nearest"`` (default), ``"nearest-exact"`` or ``"bilinear"``."""

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: expected exactly one of size and scale_factor")
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, int) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, OH, OW)."""
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class LocalResponseNorm(Module):
    """Divide each activation by (k + alpha / size * sum of squares over ``size`` neighbouring
    channels) ** beta (AlexNet, 2012); (N, C, ...) -> the same shape."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = check_int("LocalResponseNorm", "size", size)
        self.alpha, self.beta, self.k = float(alpha), float(beta), float(k)

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


__all__ = ["LocalResponseNorm", "Upsample"]
