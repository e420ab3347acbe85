"""v2: im2col in Numba (parallel over samples), then one np.matmul (OpenBLAS) per group.

What it teaches: the textbook lowering of a convolution to a matrix product, K = C/G*KH*KW:
cols (N, G, K, OH*OW) holds, in row (c, kh, kw), every input value that tap reads; then
y = w (G, OC/G, K) @ cols. Why it loses: the column matrix is KH*KW times the input (75 MB for
ResNet-20's 16-channel 32x32 layer at batch 128, 9 values written for each one read), so the
copy runs at memory speed and the product streams it back from memory, not from cache; and on
a 2-core machine OpenBLAS's threads, which spin for a while after each call, and Numba's
threads take each other's cores, which turns the next parallel region into a wait for the
scheduler. Measured 3-10x slower than v5.
"""

import numpy as np
from minicnn.kernels.geometry import out_size
from numba import njit, prange


@njit(cache=True, parallel=True)
def _im2col(x, KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW, cols):
    N, C, H, W = x.shape
    Cg = C // G
    for n in prange(N):
        for c in range(C):
            g, cg = c // Cg, c % Cg
            for kh in range(KH):
                for kw in range(KW):
                    row = cols[n, g, (cg * KH + kh) * KW + kw]  # (OH*OW,)
                    for oh in range(OH):
                        h = oh * SH - PH + kh * DH
                        for ow in range(OW):
                            v = ow * SW - PW + kw * DW
                            inside = 0 <= h < H and 0 <= v < W
                            row[oh * OW + ow] = x[n, c, h, v] if inside else 0


def conv2d_forward(x, w, b, SH, SW, PH, PW, DH, DW, G):
    """x (N, C, H, W), w (OC, C//G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW)."""
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    cols = np.empty((N, G, Cg * KH * KW, OH * OW), x.dtype)
    _im2col(np.ascontiguousarray(x), KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW, cols)
    y = np.matmul(w.astype(x.dtype).reshape(G, OC // G, -1), cols)  # (N, G, OC/G, OH*OW)
    y = y.reshape(N, OC, OH, OW)
    if b is not None:
        y += b.astype(x.dtype).reshape(1, OC, 1, 1)
    return y
