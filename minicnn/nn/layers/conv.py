"""Conv2d: a 2-D convolution layer holding its weight (OC, C/groups, KH, KW) and bias (OC,)."""

from __future__ import annotations

import math

from minicnn.creation import zeros
from minicnn.nn import functional as F
from minicnn.nn import init
from minicnn.nn.module import Module
from minicnn.nn.parameter import Parameter
from minicnn.ops._args import check_bool, check_groups, check_int, conv_padding, pair
from minicnn.tensor import Tensor


class Conv2d(Module):
    """y = conv2d(x, weight) + bias: (N, C, H, W) -> (N, OC, OH, OW).

    With K = dilation * (kernel - 1) + 1 the effective kernel extent,
    OH = (H + 2 * PH - KH_eff) // SH + 1 (and likewise OW). ``padding`` is an int, a pair, or
    ``"valid"`` (no padding) or ``"same"`` (OH = H; stride 1 only). With ``groups`` g, the
    channels are split into g independent convolutions of C/g inputs and OC/g outputs each.

    Initialised as PyTorch does: weight ~ kaiming_uniform_(a=sqrt(5)), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C/g * KH * KW, and bias from the same range.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        # The checks F.conv2d makes, by the same helpers, so a mistake reads the same here.
        self.in_channels = check_int("Conv2d", "in_channels", in_channels)
        self.out_channels = check_int("Conv2d", "out_channels", out_channels)
        self.groups = check_groups("Conv2d", groups, in_channels, out_channels)
        self.kernel_size = pair("Conv2d", "kernel_size", kernel_size)
        self.stride = pair("Conv2d", "stride", stride)
        self.dilation = pair("Conv2d", "dilation", dilation)
        checked = conv_padding("Conv2d", padding, stride)
        self.padding: tuple[int, int] | str = padding if isinstance(padding, str) else checked
        check_bool("Conv2d", "bias", bias)

        KH, KW = self.kernel_size
        self.weight = Parameter(zeros(out_channels, in_channels // groups, KH, KW))
        self.bias = Parameter(zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw weight and bias from PyTorch's default distribution."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, OC, OH, OW)."""
        return F.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        s += f", stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


__all__ = ["Conv2d"]
