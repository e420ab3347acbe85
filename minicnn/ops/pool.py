"""Pooling: max and average over sliding windows, and adaptive pooling to a fixed output size.

Window (i, j) of a pooling with kernel K, stride S, padding P and dilation D covers input rows
i*S - P + k*D for k < K (columns likewise). Max pooling treats padding as -inf, so padding never
wins; its backward sends each output's gradient to the one input the forward chose (the first
maximum in window order, so ties send it to exactly one element). NaN propagates as in PyTorch:
a window holding NaN gives NaN, and chooses its last NaN. Average pooling divides by
the window size as PyTorch does (``count_include_pad``). Adaptive pooling chooses the windows
itself: output cell i covers rows [floor(i*H/OH), ceil((i+1)*H/OH)).
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops._args import (
    adaptive_output_size,
    check_out_size,
    check_tensor,
    contiguous,
    pool_window,
)
from minicnn.tensor import Tensor


class MaxPool2d(Function):
    """x (N, C, H, W) -> y (N, C, OH, OW); gx[n, c, h, w] = sum of gy where idx chose (h, w)."""

    def forward(self, x: Any, params: tuple, out: tuple) -> Any:
        x = contiguous(x)
        self.params, self.in_hw = params, x.shape[2:]  # KH, KW, SH, SW, PH, PW, DH, DW
        y, self.idx = backend.kernel("maxpool2d_forward")(x, *params, *out)
        return y

    def backward(self, gy: Any) -> Any:
        gy = contiguous(gy)
        return backend.kernel("maxpool2d_backward")(gy, self.idx, *self.in_hw, *self.params)


class AvgPool2d(Function):
    """x (N, C, H, W) -> y (N, C, OH, OW); gx spreads gy[i, j] / divisor over window (i, j)."""

    def forward(self, x: Any, params: tuple, out: tuple, count_include_pad: int) -> Any:
        x = contiguous(x)
        self.params, self.in_hw, self.cip = params, x.shape[2:], count_include_pad
        return backend.kernel("avgpool2d_forward")(x, *params, *out, count_include_pad)

    def backward(self, gy: Any) -> Any:
        gy = contiguous(gy)
        return backend.kernel("avgpool2d_backward")(gy, *self.in_hw, *self.params, self.cip)


class AdaptiveAvgPool2d(Function):
    """x (N, C, H, W) -> y (N, C, OH, OW), each cell the mean of its adaptive window."""

    def forward(self, x: Any, out: tuple) -> Any:
        x = contiguous(x)
        self.in_hw = x.shape[2:]
        return backend.kernel("adaptive_avgpool2d_forward")(x, *out)

    def backward(self, gy: Any) -> Any:
        gy = contiguous(gy)
        return backend.kernel("adaptive_avgpool2d_backward")(gy, *self.in_hw)


class AdaptiveMaxPool2d(Function):
    """x (N, C, H, W) -> y (N, C, OH, OW), each cell the max of its adaptive window."""

    def forward(self, x: Any, out: tuple) -> Any:
        x = contiguous(x)
        self.in_hw = x.shape[2:]
        y, self.idx = backend.kernel("adaptive_maxpool2d_forward")(x, *out)
        return y

    def backward(self, gy: Any) -> Any:
        gy = contiguous(gy)
        return backend.kernel("adaptive_maxpool2d_backward")(gy, self.idx, *self.in_hw)


def _batched(op: str, input: Tensor) -> tuple[Tensor, bool]:
    """Accept (N, C, H, W) or unbatched (C, H, W) as PyTorch does; only the batch may be
    empty."""
    check_tensor(op, "input", input, (3, 4), "(N, C, H, W) or (C, H, W)")
    if 0 in input.shape[-3:]:
        raise ValueError(
            f"{op}: input: expected non-zero channels, height and width (only the batch may be "
            f"empty), got shape {input.shape}"
        )
    return (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)


def _unbatch(y: Tensor, squeezed: bool) -> Tensor:
    return y.squeeze(0) if squeezed else y


def _window(
    op: str,
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> tuple[tuple, tuple]:
    KH, KW, SH, SW, PH, PW, DH, DW = pool_window(op, kernel_size, stride, padding, dilation)
    H, W = input.shape[2:]
    OH = check_out_size(op, "height", H, KH, SH, PH, DH, ceil_mode)
    OW = check_out_size(op, "width", W, KW, SW, PW, DW, ceil_mode)
    _every_window_touches_input(op, "height", H, KH, SH, PH, DH, OH)
    _every_window_touches_input(op, "width", W, KW, SW, PW, DW, OW)
    return (KH, KW, SH, SW, PH, PW, DH, DW), (OH, OW)


def _every_window_touches_input(
    op: str, axis: str, L: int, K: int, S: int, P: int, D: int, out: int
) -> None:
    """With dilation, a window that starts in the padding can jump over the whole input and
    hold nothing but padding; its max would be -inf. Only windows starting left of the input
    can do that (a later start is itself an input position), so check those."""
    for o in range(out):
        start = o * S - P
        if start >= 0:
            break
        if not any(0 <= start + k * D < L for k in range(K)):
            raise ValueError(
                f"{op}: padding/dilation: window {o} along {axis} covers only padding (taps at "
                f"{[start + k * D for k in range(K)]}, input positions 0..{L - 1}); reduce "
                f"padding ({P}) or dilation ({D})"
            )


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over each window; padding counts as -inf. With ``return_indices`` also returns the
    flat index h * W + w of each chosen input element (int64), as PyTorch."""
    x, squeezed = _batched("max_pool2d", input)
    params, out = _window("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    fn = MaxPool2d()
    y = _unbatch(fn(x, params, out), squeezed)
    if not return_indices:
        return y
    idx = Tensor._from_op(fn.idx[0] if squeezed else fn.idx, y.backend, None)
    return y, idx


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over each window; ``count_include_pad`` counts padded taps in the divisor."""
    x, squeezed = _batched("avg_pool2d", input)
    params, out = _window("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    params = params[:6]  # no dilation for average pooling
    return _unbatch(AvgPool2d.apply(x, params, out, int(bool(count_include_pad))), squeezed)


def _adaptive_size(op: str, x: Tensor, output_size: Any) -> tuple[int, int]:
    output_size = adaptive_output_size(op, output_size)
    if not isinstance(output_size, (tuple, list)):
        return int(output_size), int(output_size)
    OH, OW = (x.shape[2 + i] if s is None else int(s) for i, s in enumerate(output_size))
    return OH, OW


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average-pool to ``output_size`` (int or pair; None keeps that size). Global average
    pooling is ``adaptive_avg_pool2d(x, 1)``."""
    x, squeezed = _batched("adaptive_avg_pool2d", input)
    out = _adaptive_size("adaptive_avg_pool2d", x, output_size)
    return _unbatch(AdaptiveAvgPool2d.apply(x, out), squeezed)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max-pool to ``output_size`` (int or pair; None keeps that size)."""
    x, squeezed = _batched("adaptive_max_pool2d", input)
    out = _adaptive_size("adaptive_max_pool2d", x, output_size)
    fn = AdaptiveMaxPool2d()
    y = _unbatch(fn(x, out), squeezed)
    if not return_indices:
        return y
    return y, Tensor._from_op(fn.idx[0] if squeezed else fn.idx, y.backend, None)
