"""Transposed 2-D convolution, the layer that upsamples in decoders and GANs.

A convolution maps x (N, C, H, W) to y (N, OC, OH, OW) linearly in x; its input gradient
``conv2d_backward_input`` maps a (N, OC, OH, OW) gradient back to (N, C, H, W) with the
transposed matrix. A transposed convolution *is* that map, applied as a forward pass, so it
runs on the convolution's own three kernels, with roles swapped::

    forward         y  = conv2d_backward_input(x, w)       (x plays the part of gy)
    input grad      gx = conv2d_forward(gy, w)             (the convolution itself)
    weight grad     gw = conv2d_backward_weight(x, gy)     (x as gy, gy as the input)

The weight has the convolution's layout with the roles of the channels exchanged:
(C, OC / groups, KH, KW), as PyTorch stores it. The output size inverts conv2d's,

    OH = (H - 1) * SH - 2 * PH + DH * (KH - 1) + output_padding + 1

where ``output_padding`` (< stride or < dilation) picks one of the several sizes that a
strided convolution maps to the same H.
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops._args import check_tensor, pair
from minicnn.tensor import Tensor


class ConvTranspose2d(Function):
    """x (N, C, H, W), w (C, OC/G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW)."""

    def forward(
        self, x: Any, w: Any, b: Any, stride: tuple, padding: tuple, dilation: tuple, groups: int,
        out_size: tuple[int, int], extra: tuple[int, int],
    ) -> Any:  # fmt: skip
        xp = backend.xp()
        self.hw = x.shape[2:]
        if extra != (0, 0):
            # output_padding >= stride (allowed when dilation is larger): a convolution of y
            # has extra[0] more rows than x; zero rows on x make the kernels' sizes agree.
            x = xp.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
        x, w = xp.ascontiguousarray(x), xp.ascontiguousarray(w)
        self.x, self.w, self.has_bias = x, w, b is not None
        self.params = (*stride, *padding, *dilation, groups)  # SH, SW, PH, PW, DH, DW, G
        y = backend.kernel("conv2d_backward_input")(x, w, *out_size, *self.params)
        return y + b.reshape(1, -1, 1, 1) if b is not None else y

    def backward(self, gy: Any) -> tuple[Any, Any, Any]:
        gy = backend.xp().ascontiguousarray(gy)
        x, w = self.x, self.w
        gx = gw = gb = None
        if self.needs_input_grad[0]:
            gx = backend.kernel("conv2d_forward")(gy, w, None, *self.params)  # (N, C, H, W)
            gx = gx[:, :, : self.hw[0], : self.hw[1]]  # without the zero rows of forward
        if self.needs_input_grad[1]:
            KH, KW = w.shape[2:]
            gw = backend.kernel("conv2d_backward_weight")(x, gy, KH, KW, *self.params)
        if self.has_bias and self.needs_input_grad[2]:
            gb = gy.sum(axis=(0, 2, 3))  # (OC,)
        return gx, gw, gb


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed convolution of ``input`` (N, C, H, W) with ``weight`` (C, OC/groups, KH, KW)
    -> (N, OC, OH, OW), as ``torch.nn.functional.conv_transpose2d`` (same argument order)."""
    check_tensor("conv_transpose2d", "input", input, (4,), "(N, C, H, W)")
    check_tensor("conv_transpose2d", "weight", weight, (4,), "(C, OC/groups, KH, KW)")
    N, C, H, W = input.shape
    Cw, OCg, KH, KW = weight.shape
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv_transpose2d: groups: expected a positive int, got {groups!r}")
    if Cw != C or C % groups:
        raise ValueError(
            f"conv_transpose2d: weight: expected {C} input channels (weight.shape[0]), "
            f"divisible by groups={groups}, for an input of shape {input.shape}; got weight of "
            f"shape {weight.shape}"
        )
    OC = OCg * groups
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (OC,)):
        got = bias.shape if isinstance(bias, Tensor) else type(bias).__name__
        raise ValueError(f"conv_transpose2d: bias: expected shape ({OC},), got {got}")
    SH, SW = pair("conv_transpose2d", "stride", stride, 1)
    PH, PW = pair("conv_transpose2d", "padding", padding, 0)
    DH, DW = pair("conv_transpose2d", "dilation", dilation, 1)
    OPH, OPW = pair("conv_transpose2d", "output_padding", output_padding, 0)
    if not (OPH < SH or OPH < DH) or not (OPW < SW or OPW < DW):
        raise ValueError(
            f"conv_transpose2d: output_padding: expected values smaller than stride or "
            f"dilation, got output_padding={output_padding!r}, stride={stride!r}, "
            f"dilation={dilation!r}"
        )
    OH = (H - 1) * SH - 2 * PH + DH * (KH - 1) + OPH + 1
    OW = (W - 1) * SW - 2 * PW + DW * (KW - 1) + OPW + 1
    if OH < 1 or OW < 1:
        raise ValueError(
            f"conv_transpose2d: padding: the output size ({OH}, {OW}) is not positive for an "
            f"input of shape {input.shape}, weight {weight.shape} and padding {padding!r}"
        )
    extra = (OPH // SH, OPW // SW)
    return ConvTranspose2d.apply(
        input, weight, bias, (SH, SW), (PH, PW), (DH, DW), groups, (OH, OW), extra
    )
