"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d``.

None has parameters; each stores its arguments and calls the matching ``F.*_pool2d``.
As in PyTorch, arguments are kept as given (an int stays an int) so ``repr`` shows them so.
"""

from __future__ import annotations

from typing import Any

from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.ops._args import adaptive_output_size, pool_window
from minicnn.tensor import Tensor

_IntOrPair = int | tuple[int, int]


class MaxPool2d(Module):
    """Maximum over each KH x KW window: (N, C, H, W) -> (N, C, OH, OW).

    OH = (H + 2 * PH - DH * (KH - 1) - 1) // SH + 1 (rounded up with ``ceil_mode``); ``stride``
    defaults to ``kernel_size``. With ``return_indices`` it also returns the argmax positions
    (N, C, OH, OW), flattened over H * W.
    """

    def __init__(
        self,
        kernel_size: _IntOrPair,
        stride: _IntOrPair | None = None,
        padding: _IntOrPair = 0,
        dilation: _IntOrPair = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        stride = kernel_size if stride is None else stride
        pool_window("MaxPool2d", kernel_size, stride, padding, dilation)  # as F.max_pool2d does
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)

    def forward(self, input: Tensor) -> Any:
        """(N, C, H, W) -> (N, C, OH, OW), or (output, indices) with ``return_indices``."""
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """Mean over each KH x KW window: (N, C, H, W) -> (N, C, OH, OW).

    OH = (H + 2 * PH - KH) // SH + 1 (rounded up with ``ceil_mode``); ``stride`` defaults to
    ``kernel_size``. ``count_include_pad`` decides whether zero padding counts in the divisor.
    """

    def __init__(
        self,
        kernel_size: _IntOrPair,
        stride: _IntOrPair | None = None,
        padding: _IntOrPair = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        stride = kernel_size if stride is None else stride
        pool_window("AvgPool2d", kernel_size, stride, padding)  # as F.avg_pool2d does
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, input: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, OH, OW)."""
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Mean over windows chosen so the output is ``output_size``: (N, C, H, W) -> (N, C, OH, OW).

    Output row i averages input rows floor(i * H / OH) to ceil((i + 1) * H / OH) - 1, so any
    input size maps to the same output size (``AdaptiveAvgPool2d(1)`` is global average pooling).
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        adaptive_output_size("AdaptiveAvgPool2d", output_size)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, OH, OW)."""
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Maximum over the adaptive windows of AdaptiveAvgPool2d: (N, C, H, W) -> (N, C, OH, OW)."""

    def __init__(
        self, output_size: int | tuple[int | None, int | None], return_indices: bool = False
    ) -> None:
        super().__init__()
        adaptive_output_size("AdaptiveMaxPool2d", output_size)
        self.output_size = output_size
        self.return_indices = bool(return_indices)

    def forward(self, input: Tensor) -> Any:
        """(N, C, H, W) -> (N, C, OH, OW), or (output, indices) with ``return_indices``."""
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


__all__ = ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "MaxPool2d"]
