"""ConvTranspose2d: a transposed convolution layer (learnt upsampling), holding its weight
(C, OC/groups, KH, KW) and bias (OC,)."""

from __future__ import annotations

import math
from typing import Any

from minicnn.creation import zeros
from minicnn.nn import functional as F
from minicnn.nn import init
from minicnn.nn.module import Module
from minicnn.nn.parameter import Parameter
from minicnn.ops._args import check_int, pair
from minicnn.tensor import Tensor


class ConvTranspose2d(Module):
    """y = conv_transpose2d(x, weight) + bias: (N, C, H, W) -> (N, OC, OH, OW), with
    OH = (H - 1) * SH - 2 * PH + DH * (KH - 1) + output_padding + 1.

    It maps back the shapes a Conv2d with the same arguments maps forward, and its weight has
    that Conv2d's layout with the channel roles exchanged. Initialised as PyTorch does, with
    fan_in = weight.shape[1] * KH * KW = OC/groups * KH * KW.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        name = "ConvTranspose2d"
        self.in_channels = check_int(name, "in_channels", in_channels)
        self.out_channels = check_int(name, "out_channels", out_channels)
        self.groups = check_int(name, "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups={groups}"
            )
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: padding_mode: only 'zeros' is supported, got {padding_mode!r}"
            )
        self.kernel_size = pair(name, "kernel_size", kernel_size)
        self.stride = pair(name, "stride", stride)
        self.padding = pair(name, "padding", padding, minimum=0)
        self.output_padding = pair(name, "output_padding", output_padding, minimum=0)
        self.dilation = pair(name, "dilation", dilation)
        if not isinstance(bias, bool):
            raise ValueError(f"{name}: bias must be a bool, got {bias!r}")
        KH, KW = self.kernel_size
        self.weight = Parameter(zeros(in_channels, out_channels // groups, KH, KW))
        self.bias = Parameter(zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw weight and bias from PyTorch's default distribution."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """(N, C, H, W) -> (N, OC, OH, OW)."""
        if output_size is not None:
            raise NotImplementedError(
                "ConvTranspose2d: output_size is not supported; set output_padding instead"
            )
        return F.conv_transpose2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        s += f", stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


__all__ = ["ConvTranspose2d"]
