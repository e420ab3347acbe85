"""2-D convolution with Numba: im2col into a per-thread buffer and a hand-written GEMM.

Work split. Samples and groups form independent work items, cut into one contiguous chunk per
thread; `prange` runs over the chunks. Each chunk allocates its buffers once and reuses them,
so they stay in that core's cache (<= 0.6 MB for ResNet-20, where a whole-batch column matrix
would be 75 MB). An item owns its output slab (y[n, g], gx[n, g], or its chunk's partial sum
of gw), so no two threads write the same slot and nothing needs atomics.

What one item computes, with K = C/G*KH*KW and P = OH*OW:
- forward (S samples n of group g): cols (K, S*P) = im2col of the zero-padded x[n, g], side
  by side; out (OC/G, S*P) = b + w[g] @ cols, copied to y[n, g]. S > 1 only when P < 256, so
  that small images (8x8) still give the GEMM long rows.
- backward input, stride 1 with >= 8 channels per group: a forward convolution of gy with the
  flipped kernel (see conv2d_backward_input). Otherwise, per sample: gcols (K, P) =
  w[g]^T @ gy[n, g], and gx[n, g] gathers it back row by row (`_col2im_gather`).
- backward weight (sample n of group g): rows (P, K) = the window of each output, copied from
  a channels-last padded x[n, g] where one kernel row's taps are one contiguous run; then
  partial[chunk, g] += gy[n, g] (OC/G, P) @ rows. The wrapper sums the per-chunk partials.

GEMM. `_gemm_acc` (C += A @ B) takes 4 rows of C and 4 values of k at a time: for each column
p it loads B[k:k+4, p] and does c = c + a0*b0 + a1*b1 + a2*b2 + a3*b3 for four rows, so each
load and store of C carries four multiply-adds. That expression adds in the same order as one k
at a time, so no fastmath is needed; the loop over p is unit-stride with independent
iterations, which LLVM vectorises (a dot-product loop would be a reduction, which it may not
reorder without fastmath). Hence every GEMM here keeps its long contiguous axis innermost: cols
for the forward pass, rows for the weight gradient.

Copies use 1-D slices and plain `range` indices (`dst[i] = src[i]`): Numba then knows no index
is negative and emits vector loads and stores, 2-5x faster than indexing with a computed
offset (measured on the 16x16 transpose and the row copies).

Why not NumPy's BLAS. OpenBLAS is faster on one big GEMM in isolation (~150 GFLOP/s float32
on a 2-core AMD EPYC virtual machine, against 70-160 for `_gemm_acc` on one core), but its threads
spin after each call, as do Numba's OpenMP threads after a parallel region, and on 2 cores the
two pools take each other's cores: alternating a Numba im2col with np.matmul added 4-8 ms to
each call, and a whole-batch im2col + matmul variant took 33 ms for the first ResNet-20
layer's forward pass, against 3.7 ms here.

Measured on that machine (float32, 2 threads, best of 45 runs, ms), forward / backward input /
backward weight, with numpy_ref (im2col + np.matmul) in brackets:

    ResNet-20, batch 128, 3x3, pad 1
      16->16 32x32 s1   3.7 / 3.7 / 5.2   (19.1 / 25.6 / 16.4)
      16->32 32x32 s2   3.0 / 3.5 / 2.5   ( 5.5 /  7.6 /  5.7)
      32->32 16x16 s1   3.6 / 3.7 / 2.8   (11.3 / 15.4 / 11.3)
      32->64 16x16 s2   2.3 / 3.8 / 1.4   ( 3.4 /  4.8 /  3.8)
      64->64  8x8  s1   3.5 / 3.4 / 2.3   ( 6.4 /  9.8 / 10.6)
    LeNet-5, batch 64, 5x5, no pad
      1->6   32x32      0.18 / 0.51 / 0.77 (0.57 / 0.85 / 0.73)
      6->16  14x14      0.31 / 0.67 / 0.33 (0.75 / 1.34 / 0.80)
"""

import numpy as np
from numba import get_num_threads, njit, prange


def _out_size(L: int, K: int, S: int, P: int, D: int) -> int:
    """Output length along one axis: (L + 2P - D(K-1) - 1) // S + 1."""
    return (L + 2 * P - D * (K - 1) - 1) // S + 1


@njit(cache=True)
def _valid_range(O, off, S, L):
    """Outputs o in [lo, hi) whose tap position o*S + off lies inside 0 .. L-1."""
    lo = min(O, max(0, -(off // S)))  # ceil(-off / S)
    hi = max(lo, min(O, -((off - L) // S)))  # ceil((L - off) / S)
    return lo, hi


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
def _transpose(a, out):
    """out (P, K) = a (K, P)^T, through 16 x 16 tiles so both sides stay in cache."""
    K, P = a.shape
    for k0 in range(0, K, 16):
        k1 = min(K, k0 + 16)
        for p0 in range(0, P, 16):
            p1 = min(P, p0 + 16)
            tile = a[k0:k1, p0:p1]
            for j in range(p1 - p0):
                src = tile[:, j]
                dst = out[p0 + j, k0:k1]
                for k in range(k1 - k0):
                    dst[k] = src[k]


@njit(cache=True)
def _im2row(xt, KH, KW, SH, SW, DH, DW, OH, OW, rows):
    """Windows of a zero-padded channels-last group xt (Hp, Wp, Cg) -> rows (OH*OW, K).

    Row p = (oh, ow) lists the window of that output with columns ordered (kh, kw, cg). With
    channels last, the KW taps of one kernel row are KW*Cg consecutive values when DW = 1.
    """
    Hp, Wp, Cg = xt.shape
    flat = xt.reshape(Hp, Wp * Cg)  # row ih: every column's channels, one after another
    for oh in range(OH):
        for ow in range(OW):
            dst = rows[oh * OW + ow]  # (KH*KW*Cg,)
            for kh in range(KH):
                src = flat[oh * SH + kh * DH]
                runs, run = (1, KW * Cg) if DW == 1 else (KW, Cg)
                for r in range(runs):
                    s = src[(ow * SW + r * DW) * Cg :]
                    d = dst[kh * KW * Cg + r * run :]
                    for i in range(run):
                        d[i] = s[i]


@njit(cache=True)
def _col2im_gather(gcols, SH, SW, PH, PW, DH, DW, KH, KW, OH, OW, gxg):
    """Adjoint of _im2col without padding: gcols (Cg*KH*KW, OH*OW) -> gxg (Cg, H, W).

    Input row h is zeroed, then gathers every column row (cg, kh, kw) at the output row oh
    with oh*SH - PH + kh*DH == h; within one such row the outputs hit distinct input columns.
    """
    Cg, H, W = gxg.shape
    for cg in range(Cg):
        for h in range(H):
            dst = gxg[cg, h]  # (W,)
            dst[:] = 0
            for kh in range(KH):
                th = h + PH - kh * DH
                if th < 0 or th % SH != 0 or th // SH >= OH:
                    continue
                oh = th // SH
                for kw in range(KW):
                    src = gcols[(cg * KH + kh) * KW + kw, oh * OW : (oh + 1) * OW]
                    off_w = kw * DW - PW
                    lo, hi = _valid_range(OW, off_w, SW, W)
                    d = dst[lo * SW + off_w : (hi - 1) * SW + off_w + 1 : SW]
                    s = src[lo:hi]
                    for i in range(hi - lo):
                        d[i] += s[i]


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


def _chunks(items: int) -> int:
    """Number of chunks: one per Numba thread, but no more than there are items."""
    return max(1, min(items, get_num_threads()))


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


@njit(cache=True, parallel=True)
def _backward_input_kernel(gy, wt, SH, SW, PH, PW, DH, DW, KH, KW, OH, OW, T, gx):
    """gy (N, G, OCg, OH*OW), wt (G, K, OCg) -> gx (N, G, Cg, H, W), in place."""
    N, G = gy.shape[0], gy.shape[1]
    K = wt.shape[1]
    items = N * G
    for t in prange(T):
        gcols = np.empty((K, OH * OW), dtype=gy.dtype)
        lo, hi = _chunk(t, T, items)
        for item in range(lo, hi):
            n, g = item // G, item % G
            gcols[:] = 0
            _gemm_acc(wt[g], gy[n, g], gcols, OH * OW)
            _col2im_gather(gcols, SH, SW, PH, PW, DH, DW, KH, KW, OH, OW, gx[n, g])


@njit(cache=True, parallel=True)
def _backward_weight_kernel(gy, x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, T):
    """gy (N, G, OCg, OH*OW), x (N, G, Cg, H, W) -> partial sums (T, G, OCg, K) of gw, with
    columns ordered (kh, kw, cg)."""
    N, G, Cg, H, W = x.shape
    OCg = gy.shape[2]
    K = KH * KW * Cg
    items = N * G
    partial = np.zeros((T, G, OCg, K), dtype=gy.dtype)
    for t in prange(T):
        xt = np.zeros((H + 2 * PH, W + 2 * PW, Cg), dtype=x.dtype)
        rows = np.empty((OH * OW, K), dtype=x.dtype)
        lo, hi = _chunk(t, T, items)
        for item in range(lo, hi):
            n, g = item // G, item % G
            for h in range(H):  # channels-last copy into the interior of xt
                _transpose(x[n, g, :, h, :], xt[PH + h, PW : PW + W])
            _im2row(xt, KH, KW, SH, SW, DH, DW, OH, OW, rows)
            _gemm_acc(gy[n, g], rows, partial[t, g], K)
    return partial


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
    OH, OW = _out_size(H, KH, SH, PH, DH), _out_size(W, KW, SW, PW, DW)
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
    """Input gradient gy (N, OC, OH, OW), w (OC, C//G, KH, KW) -> gx (N, C, H, W)."""
    gy = np.ascontiguousarray(gy)
    N, OC, OH, OW = gy.shape
    _, Cg, KH, KW = w.shape
    # With stride 1, gx[c, h, w] sums w[o, c, kh, kw] * gy[o, h + PH - kh*DH, w + PW - kw*DW]:
    # a stride-1 convolution of gy, padded by DH*(KH-1) - PH, with the kernel flipped in both
    # axes and its channel axes swapped (per group). The forward kernel's im2col then replaces
    # col2im; it pays off once each copied value feeds >= 8 output channels (LeNet's first
    # layer, C = 1, is faster through col2im).
    QH, QW = DH * (KH - 1) - PH, DW * (KW - 1) - PW
    if SH == 1 and SW == 1 and QH >= 0 and QW >= 0 and Cg >= 8:
        wf = np.asarray(w, dtype=gy.dtype).reshape(G, OC // G, Cg, KH, KW)
        wf = wf.transpose(0, 2, 1, 3, 4)[:, :, :, ::-1, ::-1].reshape(G * Cg, OC // G, KH, KW)
        return conv2d_forward(gy, wf, None, 1, 1, QH, QW, DH, DW, G)
    wg = np.asarray(w, dtype=gy.dtype).reshape(G, OC // G, Cg * KH * KW)
    wt = np.ascontiguousarray(wg.transpose(0, 2, 1))  # (G, K, OCg)
    gx = np.empty((N, G * Cg, H, W), dtype=gy.dtype)
    _backward_input_kernel(
        gy.reshape(N, G, OC // G, OH * OW), wt,
        int(SH), int(SW), int(PH), int(PW), int(DH), int(DW), int(KH), int(KW), OH, OW,
        _chunks(N * G), gx.reshape(N, G, Cg, H, W),
    )  # fmt: skip
    return gx


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
    """Weight gradient gy (N, OC, OH, OW), x (N, C, H, W) -> gw (OC, C//G, KH, KW)."""
    gy = np.ascontiguousarray(gy)
    x = np.ascontiguousarray(x, dtype=gy.dtype)
    N, OC, OH, OW = gy.shape
    C, H, W = x.shape[1:]
    Cg = C // G
    partial = _backward_weight_kernel(
        gy.reshape(N, G, OC // G, OH * OW), x.reshape(N, G, Cg, H, W),
        int(KH), int(KW), int(SH), int(SW), int(PH), int(PW), int(DH), int(DW), OH, OW,
        _chunks(N * G),
    )  # fmt: skip
    gw = partial.sum(axis=0).reshape(G, OC // G, KH, KW, Cg)  # columns were (kh, kw, cg)
    return np.ascontiguousarray(gw.transpose(0, 1, 4, 2, 3)).reshape(OC, Cg, KH, KW)
