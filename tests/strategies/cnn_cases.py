"""The geometry of the CNN ops (conv, pooling, adaptive pooling, batch norm, transposed
conv), as the public functions receive it.

The strategies draw the geometry where sliding-window code breaks: strides larger than the
kernel, padding near half the kernel, dilation, non-square kernels and inputs, groups, ceil
mode. Each input is sized from the kernel's span plus a small random extra, and ``assume()``
throws away the draws whose kernel does not fit the padded input. Sizes stay small so that a
full-Jacobian gradcheck is cheap; :func:`fast_mode` says when it is not. ``min_batch=0`` lets
:func:`pool_cases` draw an empty batch, for the tests that hold every backend to PyTorch's
results on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from minicnn.kernels.geometry import out_size

# Above this many input elements (or output elements) a full Jacobian costs too many passes
# (one backward per output, two forwards per input); the checks then use gradcheck's random
# projections (fast_mode).
FULL_JACOBIAN_LIMIT = 60


def fast_mode(inputs: list[tuple[int, ...]], output: tuple[int, ...]) -> bool:
    """True when the ``inputs`` shapes together, or the ``output`` shape, are too large for a
    full Jacobian."""
    n = sum(math.prod(s) for s in inputs)
    return n > FULL_JACOBIAN_LIMIT or math.prod(output) > FULL_JACOBIAN_LIMIT


def _maybe_pair(draw: Any, a: int, b: int) -> Any:
    """``a`` as an int when both sides agree (sometimes), else the pair ``(a, b)``."""
    return a if a == b and draw(st.booleans()) else (a, b)


def windows_touch_input(O: int, S: int, P: int, K: int, D: int, L: int) -> bool:
    """True when every one of the O windows has at least one tap inside 0 .. L-1."""
    return all(any(0 <= o * S - P + k * D < L for k in range(K)) for o in range(O))


@dataclass(frozen=True)
class ConvCase:
    """One conv2d configuration, with the arguments exactly as conv2d receives them."""

    N: int
    C: int
    H: int
    W: int
    OC: int
    KH: int
    KW: int
    stride: Any
    padding: Any
    dilation: Any
    groups: int
    bias: bool

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.C, self.H, self.W)

    @property
    def w_shape(self) -> tuple[int, int, int, int]:
        return (self.OC, self.C // self.groups, self.KH, self.KW)

    @property
    def strides(self) -> tuple[int, int]:
        s = self.stride
        return (s, s) if isinstance(s, int) else tuple(s)

    @property
    def dilations(self) -> tuple[int, int]:
        d = self.dilation
        return (d, d) if isinstance(d, int) else tuple(d)

    @property
    def pads(self) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) zero padding, worked out here independently of conv2d."""
        p = self.padding
        if p == "valid":
            return (0, 0, 0, 0)
        if p == "same":  # total D(K-1) per axis; an odd extra row/column goes bottom/right
            DH, DW = self.dilations
            th, tw = DH * (self.KH - 1), DW * (self.KW - 1)
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        PH, PW = (p, p) if isinstance(p, int) else p
        return (PH, PH, PW, PW)

    @property
    def out_hw(self) -> tuple[int, int]:
        top, bottom, left, right = self.pads
        (SH, SW), (DH, DW) = self.strides, self.dilations
        # the padded input, with no further padding
        OH = out_size(self.H + top + bottom, self.KH, SH, 0, DH)
        OW = out_size(self.W + left + right, self.KW, SW, 0, DW)
        return OH, OW

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.OC, *self.out_hw)

    def kwargs(self) -> dict[str, Any]:
        return dict(
            stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups
        )


@st.composite
def conv_cases(draw: Any, max_elements: int = 60) -> ConvCase:
    """Stride 1-3, padding 0-2 / a pair / "same" / "valid", dilation 1-3, kernel 1-5 (not
    square), groups 1 / depthwise / another divisor, batch 1-3, with or without bias."""
    kind = draw(st.sampled_from(["one", "depthwise", "divisor"]))
    if kind == "one":
        G, C, OC = 1, draw(st.integers(1, 3)), draw(st.integers(1, 3))
    elif kind == "depthwise":
        C = draw(st.integers(2, 3))
        G, OC = C, C * draw(st.integers(1, 2))  # channel multiplier 1 or 2
    else:
        G, C, OC = 2, 4, draw(st.sampled_from([2, 4]))  # 2 input channels per group
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    DH, DW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding_kind = draw(st.sampled_from(["int", "pair", "same", "valid"]))
    if padding_kind == "same":
        SH = SW = 1  # "same" is defined for stride 1 only
        PH = PW = 0
        padding: Any = "same"
    else:
        SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        if padding_kind == "valid":
            PH = PW = 0
            padding = "valid"
        elif padding_kind == "int":
            PH = PW = draw(st.integers(0, 2))
            padding = PH
        else:
            PH, PW = draw(st.integers(0, 2)), draw(st.integers(0, 2))
            padding = (PH, PW)
    span_h, span_w = DH * (KH - 1) + 1, DW * (KW - 1) + 1
    if padding == "same":
        H, W = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    else:
        # one below the smallest size that fits, up to three above it
        H = max(1, span_h - 2 * PH) + draw(st.integers(-1, 3))
        W = max(1, span_w - 2 * PW) + draw(st.integers(-1, 3))
        assume(H >= 1 and W >= 1)
        assume(H + 2 * PH >= span_h and W + 2 * PW >= span_w)  # the kernel fits
    N = draw(st.integers(1, max(1, min(3, max_elements // (C * H * W)))))
    return ConvCase(
        N=N,
        C=C,
        H=H,
        W=W,
        OC=OC,
        KH=KH,
        KW=KW,
        stride=_maybe_pair(draw, SH, SW),
        padding=padding,
        dilation=_maybe_pair(draw, DH, DW),
        groups=G,
        bias=draw(st.booleans()),
    )


@dataclass(frozen=True)
class PoolCase:
    """One pooling configuration (dilation is 1 for average pooling)."""

    N: int
    C: int
    H: int
    W: int
    KH: int
    KW: int
    SH: int
    SW: int
    PH: int
    PW: int
    DH: int
    DW: int
    ceil_mode: bool

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.C, self.H, self.W)

    @property
    def out_hw(self) -> tuple[int, int]:
        return (
            out_size(self.H, self.KH, self.SH, self.PH, self.DH, self.ceil_mode),
            out_size(self.W, self.KW, self.SW, self.PW, self.DW, self.ceil_mode),
        )

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.C, *self.out_hw)

    def kwargs(self, dilation: bool = True) -> dict[str, Any]:
        kw: dict[str, Any] = dict(
            kernel_size=(self.KH, self.KW),
            stride=(self.SH, self.SW),
            padding=(self.PH, self.PW),
            ceil_mode=self.ceil_mode,
        )
        if dilation:
            kw["dilation"] = (self.DH, self.DW)
        return kw


@st.composite
def pool_cases(
    draw: Any, max_dilation: int = 2, max_elements: int = 60, min_batch: int = 1
) -> PoolCase:
    """Kernel 1-4, stride 1-3, padding 0 .. kernel//2, dilation 1 .. max_dilation, ceil mode
    on or off, batch ``min_batch``-2; every window keeps at least one tap on the input."""
    KH, KW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    SH, SW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    PH, PW = draw(st.integers(0, KH // 2)), draw(st.integers(0, KW // 2))
    DH, DW = draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation))
    span_h, span_w = DH * (KH - 1) + 1, DW * (KW - 1) + 1
    H = max(1, span_h - 2 * PH) + draw(st.integers(-1, 3))
    W = max(1, span_w - 2 * PW) + draw(st.integers(-1, 3))
    assume(H >= 1 and W >= 1)
    assume(H + 2 * PH >= span_h and W + 2 * PW >= span_w)  # the kernel fits
    ceil_mode = draw(st.booleans())
    OH = out_size(H, KH, SH, PH, DH, ceil_mode)
    OW = out_size(W, KW, SW, PW, DW, ceil_mode)
    # With dilation a window can fall wholly on padding (its max is -inf); leave those out.
    assume(windows_touch_input(OH, SH, PH, KH, DH, H))
    assume(windows_touch_input(OW, SW, PW, KW, DW, W))
    C = draw(st.integers(1, 2))
    N = draw(st.integers(min_batch, max(1, min(2, max_elements // (C * H * W)))))
    return PoolCase(N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, ceil_mode)


@st.composite
def adaptive_cases(draw: Any) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """An input shape (N, C, H, W) and an output size per axis smaller than, equal to or
    larger than the input's (so windows overlap, tile exactly, or repeat elements)."""
    H, W = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    OH = draw(st.sampled_from(sorted({max(1, H - 2), max(1, H - 1), H, H + 1, H + 3})))
    OW = draw(st.sampled_from(sorted({max(1, W - 2), max(1, W - 1), W, W + 1, W + 3})))
    C = draw(st.integers(1, 2))
    N = draw(st.integers(1, max(1, min(2, 40 // (C * H * W)))))
    return (N, C, H, W), (OH, OW)


@st.composite
def bn_shapes(draw: Any) -> tuple[int, ...]:
    """(N, C) with N >= 2, or (N, C, H, W) with at least two values per channel."""
    if draw(st.booleans()):
        return (draw(st.integers(2, 6)), draw(st.integers(1, 3)))
    C, H, W = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    N = draw(st.integers(1 if H * W > 1 else 2, 2))
    return (N, C, H, W)


@st.composite
def conv_transpose_cases(draw: Any) -> dict[str, Any]:
    """conv_transpose2d arguments: groups 1 or 2, kernel 1-3, stride 1-3, dilation 1-2,
    padding 0-2 (0 when it would leave no output), output_padding below max(stride, dilation)."""
    G = draw(st.sampled_from([1, 1, 2]))
    C, OC = G * draw(st.integers(1, 2)), G * draw(st.integers(1, 2))
    K = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    S = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    D = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    P = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    OP = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(S, D))
    H, W = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    OH = (H - 1) * S[0] - 2 * P[0] + D[0] * (K[0] - 1) + OP[0] + 1
    OW = (W - 1) * S[1] - 2 * P[1] + D[1] * (K[1] - 1) + OP[1] + 1
    if OH < 1 or OW < 1:
        P = (0, 0)
    return dict(N=draw(st.integers(1, 2)), C=C, OC=OC, K=K, S=S, P=P, OP=OP, D=D, G=G, H=H, W=W,
                bias=draw(st.booleans()))  # fmt: skip
