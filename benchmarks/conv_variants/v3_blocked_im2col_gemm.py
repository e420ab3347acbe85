"""v3: im2col into a per-thread buffer, and a hand-written GEMM in the axpy form.

What it teaches: cache blocking. Each thread copies the columns of one sample (S samples for
small images) into a buffer of its own, (K, S*OH*OW) with K = C/G*KH*KW, that stays in its
cache (<= 0.6 MB for ResNet-20, where v2's whole-batch matrix is 75 MB), and multiplies it at
once by w[g] with `_gemm_acc`: C += A @ B, four rows of C and four values of k at a time, the
loop over the long column axis innermost, which LLVM vectorises with no fastmath (each column
is independent). No BLAS, so no second thread pool.

Why v4 and v5 beat it: the column buffer is still KH*KW copies of the input, written and read
once per sample; and in the axpy form every four multiply-adds per element of C cost a load
and a store of C, because Numba cannot keep a tile of C in registers across the k loop. It
runs at 40-60% of the core's AVX-512 peak. This was the kernel in use before v5.
"""

import numpy as np
from minicnn.kernels.geometry import out_size
from numba import get_num_threads, njit, prange


def _chunks(items):
    return max(1, min(items, get_num_threads()))


@njit(cache=True)
def _pad_into(xg, PH, PW, xpad):
    """Copy xg (Cg, H, W) into the interior of xpad (Cg, H + 2PH, W + 2PW); the zero border,
    set once by the caller, is left alone."""
    Cg, H, W = xg.shape
    for cg in range(Cg):
        for h in range(H):
            dst = xpad[cg, PH + h, PW : PW + W]
            src = xg[cg, h]
            for w in range(W):
                dst[w] = src[w]


@njit(cache=True)
def _im2col(xpad, KH, KW, SH, SW, DH, DW, OH, OW, cols, off):
    """Columns of a zero-padded group xpad (Cg, Hp, Wp) -> cols[:, off : off + OH*OW].

    Row (cg, kh, kw) of cols holds, for every output position (oh, ow), the value that tap
    reads: xpad[cg, oh*SH + kh*DH, ow*SW + kw*DW]. The padding makes every read in bounds.
    """
    Cg = xpad.shape[0]
    for cg in range(Cg):
        for kh in range(KH):
            for kw in range(KW):
                row = cols[(cg * KH + kh) * KW + kw]
                for oh in range(OH):
                    src = xpad[cg, oh * SH + kh * DH, kw * DW :]  # the tap's input row
                    dst = row[off + oh * OW : off + (oh + 1) * OW]
                    if SW == 1:  # unit stride on both sides: LLVM vectorises the copy
                        for ow in range(OW):
                            dst[ow] = src[ow]
                    else:
                        for ow in range(OW):
                            dst[ow] = src[ow * SW]


@njit(cache=True)
def _gemm_acc(A, B, C, P):
    """C[:, :P] += A (M, K) @ B[:, :P], four rows of C and four k at a time (see above)."""
    M, K = A.shape
    m = 0
    while m < M:
        if m + 4 <= M:  # a block of four rows
            c0, c1, c2, c3 = C[m], C[m + 1], C[m + 2], C[m + 3]
            k = 0
            while k + 4 <= K:
                b0, b1, b2, b3 = B[k], B[k + 1], B[k + 2], B[k + 3]
                a00, a01, a02, a03 = A[m, k], A[m, k + 1], A[m, k + 2], A[m, k + 3]
                a10, a11, a12, a13 = A[m + 1, k], A[m + 1, k + 1], A[m + 1, k + 2], A[m + 1, k + 3]
                a20, a21, a22, a23 = A[m + 2, k], A[m + 2, k + 1], A[m + 2, k + 2], A[m + 2, k + 3]
                a30, a31, a32, a33 = A[m + 3, k], A[m + 3, k + 1], A[m + 3, k + 2], A[m + 3, k + 3]
                for p in range(P):
                    x0, x1, x2, x3 = b0[p], b1[p], b2[p], b3[p]
                    c0[p] = c0[p] + a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3
                    c1[p] = c1[p] + a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3
                    c2[p] = c2[p] + a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3
                    c3[p] = c3[p] + a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3
                k += 4
            for kk in range(k, K):
                b0 = B[kk]
                a00, a10, a20, a30 = A[m, kk], A[m + 1, kk], A[m + 2, kk], A[m + 3, kk]
                for p in range(P):
                    c0[p] += a00 * b0[p]
                    c1[p] += a10 * b0[p]
                    c2[p] += a20 * b0[p]
                    c3[p] += a30 * b0[p]
            m += 4
        else:  # a leftover row, still four k at a time
            c0 = C[m]
            k = 0
            while k + 4 <= K:
                b0, b1, b2, b3 = B[k], B[k + 1], B[k + 2], B[k + 3]
                a00, a01, a02, a03 = A[m, k], A[m, k + 1], A[m, k + 2], A[m, k + 3]
                for p in range(P):
                    c0[p] = c0[p] + a00 * b0[p] + a01 * b1[p] + a02 * b2[p] + a03 * b3[p]
                k += 4
            for kk in range(k, K):
                b0 = B[kk]
                a00 = A[m, kk]
                for p in range(P):
                    c0[p] += a00 * b0[p]
            m += 1


@njit(cache=True)
def _chunk(t, T, items):
    """Items [lo, hi) of chunk t when `items` are split into T near-equal contiguous chunks."""
    return t * items // T, (t + 1) * items // T


@njit(cache=True, parallel=True)
def _forward_kernel(x, w, b, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, S, T, y):
    """x (N, G, Cg, H, W), w (G, OCg, K), b (G, OCg) -> y (N, G, OCg, OH*OW), in place;
    an item is S consecutive samples of one group."""
    N, G, Cg, H, W = x.shape
    OCg, K = w.shape[1], w.shape[2]
    P = OH * OW
    items = (N + S - 1) // S * G
    for t in prange(T):
        xpad = np.zeros((Cg, H + 2 * PH, W + 2 * PW), dtype=x.dtype)
        cols = np.empty((K, S * P), dtype=x.dtype)
        out = np.empty((OCg, S * P), dtype=x.dtype)
        lo, hi = _chunk(t, T, items)
        for item in range(lo, hi):
            g = item % G
            n0 = item // G * S
            n1 = min(N, n0 + S)
            for n in range(n0, n1):
                _pad_into(x[n, g], PH, PW, xpad)
                _im2col(xpad, KH, KW, SH, SW, DH, DW, OH, OW, cols, (n - n0) * P)
            for oc in range(OCg):
                out[oc, :] = b[g, oc]
            _gemm_acc(w[g], cols, out, (n1 - n0) * P)
            for n in range(n0, n1):
                for oc in range(OCg):
                    dst = y[n, g, oc]
                    src = out[oc, (n - n0) * P :]
                    for p in range(P):
                        dst[p] = src[p]


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
    """Convolution x (N, C, H, W), w (OC, C//G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW)."""
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    wg = np.ascontiguousarray(w, dtype=x.dtype).reshape(G, OC // G, Cg * KH * KW)
    bg = np.zeros(OC, x.dtype) if b is None else np.ascontiguousarray(b, dtype=x.dtype)
    # samples per item: enough for 256 GEMM columns, while leaving each thread 2+ items
    S = max(1, min(256 // (OH * OW), N * G // (2 * get_num_threads())))
    y = np.empty((N, OC, OH, OW), dtype=x.dtype)
    _forward_kernel(
        x.reshape(N, G, Cg, H, W), wg, bg.reshape(G, OC // G),
        int(KH), int(KW), int(SH), int(SW), int(PH), int(PW), int(DH), int(DW), OH, OW,
        S, _chunks(-(-N // S) * G), y.reshape(N, G, OC // G, OH * OW),
    )  # fmt: skip
    return y
