"""2-D convolution (cross-correlation, as every framework computes it) with stride, padding,
dilation and groups.

    y[n, o, i, j] = b[o] + sum_{c, kh, kw} w[o, c, kh, kw] * x[n, g*Cg + c, i*SH - PH + kh*DH,
                                                                       j*SW - PW + kw*DW]

where g = o // (OC/G) is output channel o's group and Cg = C/G its input channels; taps that land
in the padding read 0. The output size is derived in ``kernels/geometry.py``. The work happens
in three kernels of the active backend: ``conv2d_forward``, ``conv2d_backward_input`` (gx = the
transposed convolution of gy) and ``conv2d_backward_weight`` (gw = correlation of gy with x
over the batch); gb = sum of gy over N, OH, OW.
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops._args import (
    check_groups,
    check_like,
    check_out_size,
    check_tensor,
    contiguous,
    conv_padding,
    pair,
)
from minicnn.ops.shape import pad as _pad
from minicnn.tensor import Tensor


class Conv2d(Function):
    """x (N, C, H, W), w (OC, C/G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW)."""

    def forward(
        self, x: Any, w: Any, b: Any, stride: tuple, padding: tuple, dilation: tuple, groups: int
    ) -> Any:
        x, w, b = contiguous(x, w, b)
        self.x, self.w, self.has_bias = x, w, b is not None
        self.params = (*stride, *padding, *dilation, groups)  # SH, SW, PH, PW, DH, DW, G
        return backend.kernel("conv2d_forward")(x, w, b, *self.params)

    def backward(self, gy: Any) -> tuple[Any, Any, Any]:
        gy = contiguous(gy)
        x, w = self.x, self.w
        gx = gw = gb = None
        if self.needs_input_grad[0]:
            gx = backend.kernel("conv2d_backward_input")(
                gy, w, x.shape[2], x.shape[3], *self.params
            )
        if self.needs_input_grad[1]:
            gw = backend.kernel("conv2d_backward_weight")(
                gy, x, w.shape[2], w.shape[3], *self.params
            )
        if self.has_bias and self.needs_input_grad[2]:
            gb = gy.sum(axis=(0, 2, 3))  # (OC,)
        return gx, gw, gb


def _same_padding(K: int, D: int) -> tuple[int, int]:
    """(before, after) padding that keeps the size at stride 1; any odd extra goes after."""
    total = D * (K - 1)
    return total // 2, total - total // 2


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution of ``input`` (N, C, H, W) with ``weight`` (OC, C/groups, KH, KW).

    ``padding`` is an int, a pair, ``"valid"`` (no padding) or ``"same"`` (output size equals
    input size; stride must be 1; an odd total goes to the bottom/right, as PyTorch).
    Returns (N, OC, OH, OW).
    """
    check_tensor("conv2d", "input", input, (4,), "(N, C, H, W)")
    check_tensor("conv2d", "weight", weight, (4,), "(OC, C/groups, KH, KW)")
    check_like("conv2d", "weight", weight, input, "input", None)
    N, C, H, W = input.shape
    OC, Cg, KH, KW = weight.shape
    if 0 in (C, H, W, OC, KH, KW):
        raise ValueError(
            f"conv2d: input and weight: expected non-zero channels and sizes (the batch may be "
            f"empty), got input of shape {input.shape} and weight of shape {weight.shape}"
        )
    groups = check_groups("conv2d", groups, C, OC)
    if Cg * groups != C:
        raise ValueError(
            f"conv2d: weight: expected {C} // {groups} = {C // groups} input channels per group "
            f"(weight.shape[1]) for an input with {C} channels, got weight of shape {weight.shape}"
        )
    if bias is not None:
        check_like("conv2d", "bias", bias, input, "input", (OC,))
    SH, SW = pair("conv2d", "stride", stride)
    DH, DW = pair("conv2d", "dilation", dilation)
    padding = conv_padding("conv2d", padding, stride)
    if padding == "same":
        (top, bottom), (left, right) = _same_padding(KH, DH), _same_padding(KW, DW)
        if bottom != top or right != left:  # asymmetric: pad the extra row/column first
            input = _pad(input, (0, right - left, 0, bottom - top))
        padding = (top, left)
    PH, PW = padding
    check_out_size("conv2d", "height", input.shape[2], KH, SH, PH, DH)
    check_out_size("conv2d", "width", input.shape[3], KW, SW, PW, DW)
    return Conv2d.apply(input, weight, bias, (SH, SW), (PH, PW), (DH, DW), groups)
