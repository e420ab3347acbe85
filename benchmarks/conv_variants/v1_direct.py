"""v1: the definition as loops, one `prange` iteration per (sample, output channel) plane.

    y[n, o, oh, ow] = b[o] + sum over c, kh, kw of
                      w[o, c, kh, kw] * x[n, g*Cg + c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW]

What it teaches: the whole convolution in ten lines, with the bounds test that stands for zero
padding; every later variant must agree with it. Why it loses (20-80x slower than v5): the
innermost loop runs over the KW = 3 taps of one kernel row, too short for LLVM to vectorise,
and every multiply-add needs a bounds test and a scattered load; the arithmetic units sit idle
while the loop counters and address computations run.
"""

import numpy as np
from minicnn.kernels.geometry import out_size
from numba import njit, prange


@njit(cache=True, parallel=True)
def _kernel(x, w, b, SH, SW, PH, PW, DH, DW, G, y):
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    OH, OW = y.shape[2], y.shape[3]
    for no in prange(N * OC):
        n, o = no // OC, no % OC
        c0 = o // (OC // G) * Cg  # first input channel of o's group
        for oh in range(OH):
            for ow in range(OW):
                acc = b[o]
                for c in range(Cg):
                    for kh in range(KH):
                        h = oh * SH - PH + kh * DH
                        if h < 0 or h >= H:
                            continue
                        for kw in range(KW):
                            v = ow * SW - PW + kw * DW
                            if 0 <= v < W:
                                acc += w[o, c, kh, kw] * x[n, c0 + c, h, v]
                y[n, o, oh, ow] = acc


def conv2d_forward(x, w, b, SH, SW, PH, PW, DH, DW, G):
    """x (N, C, H, W), w (OC, C//G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW)."""
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    b = np.zeros(OC, x.dtype) if b is None else b.astype(x.dtype)
    y = np.empty((N, OC, OH, OW), x.dtype)
    _kernel(np.ascontiguousarray(x), w.astype(x.dtype), b, SH, SW, PH, PW, DH, DW, G, y)
    return y
