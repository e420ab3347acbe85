"""2-D convolution by im2col + GEMM; the direct loops of the definition are in direct.py.

Output size: OH = floor((H + 2*PH - DH*(KH-1) - 1) / SH) + 1, derived in ``geometry.py``
(and the same for the width). Output row oh, kernel row kh reads input row
h = oh*SH - PH + kh*DH; rows outside 0 .. H-1 are padding and contribute zero.

Groups. The C input channels split into G groups of C//G, the OC output channels into G groups
of OC//G; output group g sees only input group g, so w has shape (OC, C//G, KH, KW).

im2col. For each kernel tap (kh, kw), the input values that tap touches for every output
position form one strided slice of the padded input, of shape (N, C, OH, OW). Stacking the
KH*KW slices gives the column matrix cols (N, C*KH*KW, OH*OW), and the convolution becomes one
matrix product per group: w (OC/G, C/G*KH*KW) @ cols (C/G*KH*KW, OH*OW). The Python loops run
over the KH*KW taps only, never over the batch or the image.
"""

import numpy as np

from ..geometry import out_size


def _tap(k: int, D: int, S: int, O: int) -> slice:
    """Rows (or columns) of the padded input that kernel tap k reads for outputs 0 .. O-1."""
    return slice(k * D, k * D + (O - 1) * S + 1, S)


def _im2col(
    x: np.ndarray, KH: int, KW: int, SH: int, SW: int, PH: int, PW: int, DH: int, DW: int
) -> np.ndarray:
    """Column tensor of x (N, C, H, W) -> cols (N, C, KH, KW, OH, OW)."""
    N, C, H, W = x.shape
    OH = out_size(H, KH, SH, PH, DH)
    OW = out_size(W, KW, SW, PW, DW)
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))  # (N, C, H + 2PH, W + 2PW)
    cols = np.empty((N, C, KH, KW, OH, OW), dtype=x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            cols[:, :, kh, kw] = xp[:, :, _tap(kh, DH, SH, OH), _tap(kw, DW, SW, OW)]
    return cols


def _col2im(
    cols: np.ndarray, H: int, W: int, SH: int, SW: int, PH: int, PW: int, DH: int, DW: int
) -> np.ndarray:
    """Adjoint of _im2col: cols (N, C, KH, KW, OH, OW) -> x-shaped sums (N, C, H, W).

    Each input element receives the sum of every column entry that copied it. Taps of one
    kernel position never overlap each other, so `+=` on a strided slice is exact.
    """
    N, C, KH, KW, OH, OW = cols.shape
    xp = np.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=cols.dtype)
    for kh in range(KH):
        for kw in range(KW):
            xp[:, :, _tap(kh, DH, SH, OH), _tap(kw, DW, SW, OW)] += cols[:, :, kh, kw]
    return xp[:, :, PH : PH + H, PW : PW + W].copy()  # crop the padding: (N, C, H, W)


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
    G: int,
) -> np.ndarray:
    """Convolution x (N, C, H, W), w (OC, C//G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW).

    y[n, o, oh, ow] = b[o] + sum over c in o's group, kh, kw of
    w[o, c - g*C//G, kh, kw] * x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW] (zero outside).
    """
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    cols = _im2col(x, KH, KW, SH, SW, PH, PW, DH, DW)  # (N, C, KH, KW, OH, OW)
    OH, OW = cols.shape[-2:]
    cols = cols.reshape(N, G, Cg * KH * KW, OH * OW)  # channels of group g are contiguous
    wg = w.reshape(G, OC // G, Cg * KH * KW)
    y = np.matmul(wg, cols)  # (G, OC/G, K) @ (N, G, K, L) -> (N, G, OC/G, L)
    y = y.reshape(N, OC, OH, OW)
    if b is not None:
        y += b.reshape(1, OC, 1, 1)
    return y


def conv2d_backward_input(
    gy: np.ndarray,
    w: np.ndarray,
    H: int,
    W: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
    G: int,
) -> np.ndarray:
    """Input gradient gy (N, OC, OH, OW), w (OC, C//G, KH, KW) -> gx (N, C, H, W).

    gx = col2im(w^T @ gy) per group: gx[n, c, h, w] is the sum over every (o, oh, ow, kh, kw)
    with h = oh*SH - PH + kh*DH and w = ow*SW - PW + kw*DW of w[o, c', kh, kw] * gy[n, o, oh, ow].
    """
    N, OC, OH, OW = gy.shape
    _, Cg, KH, KW = w.shape
    wg = w.reshape(G, OC // G, Cg * KH * KW)
    gyg = gy.reshape(N, G, OC // G, OH * OW)
    wg_t = wg.transpose(0, 2, 1)  # (G, K, OC/G)
    gcols = np.matmul(wg_t, gyg)  # (G, K, OC/G) @ (N, G, OC/G, L) -> (N, G, K, L)
    gcols = gcols.reshape(N, G * Cg, KH, KW, OH, OW)
    return _col2im(gcols, H, W, SH, SW, PH, PW, DH, DW)


def conv2d_backward_weight(
    gy: np.ndarray,
    x: np.ndarray,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
    G: int,
) -> np.ndarray:
    """Weight gradient gy (N, OC, OH, OW), x (N, C, H, W) -> gw (OC, C//G, KH, KW).

    gw = sum over n of gy[n] @ cols[n]^T per group: gw[o, c', kh, kw] is the sum over n, oh, ow
    of gy[n, o, oh, ow] * x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW].
    """
    N, OC, OH, OW = gy.shape
    C = x.shape[1]
    Cg = C // G
    cols = _im2col(x, KH, KW, SH, SW, PH, PW, DH, DW)  # (N, C, KH, KW, OH, OW)
    cols = cols.reshape(N, G, Cg * KH * KW, OH * OW)
    gyg = gy.reshape(N, G, OC // G, OH * OW)
    cols_t = cols.transpose(0, 1, 3, 2)  # (N, G, L, K)
    gw = np.matmul(gyg, cols_t)  # (N, G, OC/G, L) @ (N, G, L, K) -> (N, G, OC/G, K)
    return gw.sum(axis=0).reshape(OC, Cg, KH, KW)
