"""v4: the implicit GEMM: im2col rows as shifted views of zero-padded phase planes.

What it teaches: an im2col row need not be copied. With the input zero-padded once into
planes (split into SH*SW phases for strided convolutions) and the output computed on a grid
as wide as a padded row, row (c, kh, kw) of the column matrix is the slice of plane (c, phase)
that starts kh*DH//SH rows and kw*DW//SW columns in; the GEMM reads it in place. The input is
copied once instead of KH*KW times, and any stride, padding and dilation fit the same code.

Why v5 beats it where it can: the product is still the axpy form of v3 (C through the L1
cache every four k), and the grid computes Wq - OW wasted columns per row (their reads wrap
into the next row): 6% at 32x32, 12% at 16x16, 25% at 8x8. The kernel in use keeps it for
small K (few input channels), where v5's horizontal sums cost more than they save, and for
dilated columns; its weight gradient uses the same planes in the dot form.
"""

import numpy as np
from minicnn.kernels.geometry import out_size as _out_size
from minicnn.kernels.numba_cpu.conv import _planes


def conv2d_forward(x, w, b, SH, SW, PH, PW, DH, DW, G):
    """x (N, C, H, W), w (OC, C//G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW)."""
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    OH, OW = _out_size(H, KH, SH, PH, DH), _out_size(W, KW, SW, PW, DW)
    bg = np.zeros(OC, x.dtype) if b is None else b.astype(x.dtype)
    y = np.empty((N, G, OC // G, OH, OW), x.dtype)
    wk = w.astype(x.dtype).reshape(G, OC // G, Cg, KH, KW)
    _planes(x.reshape(N, G, Cg, H, W), wk, bg.reshape(G, -1), SH, SW, PH, PW, DH, DW, OH, OW, y)
    return y.reshape(N, OC, OH, OW)
