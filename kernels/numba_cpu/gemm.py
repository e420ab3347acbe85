"""The matrix-product inner loops of the convolutions, in the two forms LLVM vectorises.

A convolution is a matrix product whose rows are windows of the input. Numba compiles these
loops with LLVM, which vectorises only the innermost loop, and only in two shapes worth having:

- the axpy form, `_gemm_rows`: C[m, q] += A[m, k] * B[k, q] with q innermost. Each q is
  independent, so no reassociation is needed, but C is loaded and stored once per block of k:
  Numba cannot promote C to registers across the k loop, because it cannot prove that C and B
  do not alias. Blocks of 4 rows x 4 k give four multiply-adds per load and store of C; with
  fastmath's `contract` each is one fused multiply-add (without it, a multiply and an add:
  half the peak at best). Measured 100-150 GFLOP/s on one Zen 5 core, 40-60% of its AVX-512
  peak; 55-75 on a Zen 3 core (AVX2), 60-80% of its peak.
- the dot form, `_dot_rows` and `_dot_windows`: C[m, n] = sum over k of A[m, k] * B[n, k]
  with k innermost, for a block of outputs at once whose sums stay in vector registers, but
  each ends in a horizontal sum across the vector's lanes, so the form pays off for long sums.
  The block is as large as the registers allow, sums plus the vectors of one step: 4 x 4 (or
  4 x 6: 24 sums, 10 loads) with AVX-512's 32 registers, 170-230 GFLOP/s on a Zen 5 core for
  k >= 288 or the weight gradient's long sums, 135-150 for k = 144; 4 x 3 (12 sums, 3 + 1
  loads: exactly 16) with AVX2's 16, 65-85 GFLOP/s on a Zen 3 core, where a 4 x 4 block spills
  its sums to the stack at every step and runs at 40-45. `_vector_registers` tells them apart.
  A strict sum is one dependency chain, so these loops are compiled with fastmath's `reassoc`
  (LLVM may split it into lanes) and `contract` (fused multiply-add): float32 sums then add in a
  different order than NumPy's, a few ulps apart.

Rows of B are never materialised as a matrix when they are shifted views of one buffer: B is
described by a 2-D array `buf` and, per row k, the plane `pl[k]` and start `off[k]` of its
slice. Slices of a C-contiguous row are unit-stride views, which is what lets LLVM vectorise.
"""

from llvmlite.binding import get_host_cpu_features
from numba import config, njit


@njit(cache=True, fastmath={"contract"})
def _gemm_tile(A, buf, pl, off, C, q0, q1):
    """C[:, q0:q1] += A (M, K) @ rows, row k being buf[pl[k], off[k] + q0 : off[k] + q1]."""
    M, K = A.shape
    Q = q1 - q0
    m = 0
    while m < M:
        if m + 4 <= M:  # a block of four rows
            c0, c1, c2, c3 = C[m, q0:], C[m + 1, q0:], C[m + 2, q0:], C[m + 3, q0:]
            k = 0
            while k + 4 <= K:
                b0 = buf[pl[k], off[k] + q0 :]
                b1 = buf[pl[k + 1], off[k + 1] + q0 :]
                b2 = buf[pl[k + 2], off[k + 2] + q0 :]
                b3 = buf[pl[k + 3], off[k + 3] + q0 :]
                a00, a01, a02, a03 = A[m, k], A[m, k + 1], A[m, k + 2], A[m, k + 3]
                a10, a11, a12, a13 = A[m + 1, k], A[m + 1, k + 1], A[m + 1, k + 2], A[m + 1, k + 3]
                a20, a21, a22, a23 = A[m + 2, k], A[m + 2, k + 1], A[m + 2, k + 2], A[m + 2, k + 3]
                a30, a31, a32, a33 = A[m + 3, k], A[m + 3, k + 1], A[m + 3, k + 2], A[m + 3, k + 3]
                for q in range(Q):
                    x0, x1, x2, x3 = b0[q], b1[q], b2[q], b3[q]
                    c0[q] = c0[q] + a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3
                    c1[q] = c1[q] + a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3
                    c2[q] = c2[q] + a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3
                    c3[q] = c3[q] + a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3
                k += 4
            for kk in range(k, K):
                b0 = buf[pl[kk], off[kk] + q0 :]
                a00, a10, a20, a30 = A[m, kk], A[m + 1, kk], A[m + 2, kk], A[m + 3, kk]
                for q in range(Q):
                    x0 = b0[q]
                    c0[q] += a00 * x0
                    c1[q] += a10 * x0
                    c2[q] += a20 * x0
                    c3[q] += a30 * x0
            m += 4
        else:  # a leftover row, still four k at a time
            c0 = C[m, q0:]
            k = 0
            while k + 4 <= K:
                b0 = buf[pl[k], off[k] + q0 :]
                b1 = buf[pl[k + 1], off[k + 1] + q0 :]
                b2 = buf[pl[k + 2], off[k + 2] + q0 :]
                b3 = buf[pl[k + 3], off[k + 3] + q0 :]
                a00, a01, a02, a03 = A[m, k], A[m, k + 1], A[m, k + 2], A[m, k + 3]
                for q in range(Q):
                    c0[q] = c0[q] + a00 * b0[q] + a01 * b1[q] + a02 * b2[q] + a03 * b3[q]
                k += 4
            for kk in range(k, K):
                b0 = buf[pl[kk], off[kk] + q0 :]
                a00 = A[m, kk]
                for q in range(Q):
                    c0[q] += a00 * b0[q]
            m += 1


@njit(cache=True)
def _gemm_rows(A, buf, pl, off, C, Q):
    """C[:, :Q] += A (M, K) @ rows (K, Q), 512 columns at a time: the four rows of C and
    four of B then take 16 KB, so they stay in the L1 cache across the k loop."""
    for q0 in range(0, Q, 512):
        _gemm_tile(A, buf, pl, off, C, q0, min(Q, q0 + 512))


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot_rows_4x6(Gq, buf, pl, off, Q, C):
    """C (M, K) += Gq[:, :Q] (M, Q) @ rows^T, row k being buf[pl[k], off[k] : off[k] + Q].

    Blocks of 4 rows of Gq x 6 rows of buf: 24 sums, ten loads per step, 34 vectors in flight
    with AVX-512's 32 registers (measured 5-20% faster than 4 x 4 on the weight-gradient shapes
    of a Zen 5 core; 4 x 8 runs out of registers).
    """
    M = Gq.shape[0]
    K = pl.shape[0]
    zero = Gq.dtype.type(0)
    for k0 in range(0, K, 6):
        for m0 in range(0, M, 4):
            if m0 + 4 <= M and k0 + 6 <= K:
                g0, g1, g2, g3 = Gq[m0], Gq[m0 + 1], Gq[m0 + 2], Gq[m0 + 3]
                b0 = buf[pl[k0], off[k0] :]
                b1 = buf[pl[k0 + 1], off[k0 + 1] :]
                b2 = buf[pl[k0 + 2], off[k0 + 2] :]
                b3 = buf[pl[k0 + 3], off[k0 + 3] :]
                b4 = buf[pl[k0 + 4], off[k0 + 4] :]
                b5 = buf[pl[k0 + 5], off[k0 + 5] :]
                s00 = s01 = s02 = s03 = s04 = s05 = s10 = s11 = s12 = s13 = s14 = s15 = zero
                s20 = s21 = s22 = s23 = s24 = s25 = s30 = s31 = s32 = s33 = s34 = s35 = zero
                for q in range(Q):
                    x0, x1, x2, x3, x4, x5 = b0[q], b1[q], b2[q], b3[q], b4[q], b5[q]
                    y0, y1, y2, y3 = g0[q], g1[q], g2[q], g3[q]
                    s00 += y0 * x0
                    s01 += y0 * x1
                    s02 += y0 * x2
                    s03 += y0 * x3
                    s04 += y0 * x4
                    s05 += y0 * x5
                    s10 += y1 * x0
                    s11 += y1 * x1
                    s12 += y1 * x2
                    s13 += y1 * x3
                    s14 += y1 * x4
                    s15 += y1 * x5
                    s20 += y2 * x0
                    s21 += y2 * x1
                    s22 += y2 * x2
                    s23 += y2 * x3
                    s24 += y2 * x4
                    s25 += y2 * x5
                    s30 += y3 * x0
                    s31 += y3 * x1
                    s32 += y3 * x2
                    s33 += y3 * x3
                    s34 += y3 * x4
                    s35 += y3 * x5
                for i, (t0, t1, t2, t3, t4, t5) in enumerate(
                    (
                        (s00, s01, s02, s03, s04, s05),
                        (s10, s11, s12, s13, s14, s15),
                        (s20, s21, s22, s23, s24, s25),
                        (s30, s31, s32, s33, s34, s35),
                    )
                ):
                    r = C[m0 + i, k0:]
                    r[0], r[1], r[2], r[3], r[4], r[5] = (
                        r[0] + t0,
                        r[1] + t1,
                        r[2] + t2,
                        r[3] + t3,
                        r[4] + t4,
                        r[5] + t5,
                    )
            else:  # an edge block: one sum at a time
                for m in range(m0, min(M, m0 + 4)):
                    gm = Gq[m]
                    for k in range(k0, min(K, k0 + 6)):
                        bk = buf[pl[k], off[k] :]
                        s = zero
                        for q in range(Q):
                            s += gm[q] * bk[q]
                        C[m, k] += s


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot_windows_4x4(A, Zf, OW, step, NP, out):
    """out[m, p] = A[m] . window p, for p < NP; A (M, K), out (M, >= NP).

    Window p is the K values Zf[p // OW, (p % OW)*step :], one output position's receptive
    field laid out contiguously (see `_pack_windows`). Blocks of 4 windows x 4 rows of A.
    """
    M, K = A.shape
    zero = A.dtype.type(0)
    p0 = 0
    while p0 + 4 <= NP:
        b0 = Zf[p0 // OW, (p0 % OW) * step :]
        b1 = Zf[(p0 + 1) // OW, ((p0 + 1) % OW) * step :]
        b2 = Zf[(p0 + 2) // OW, ((p0 + 2) % OW) * step :]
        b3 = Zf[(p0 + 3) // OW, ((p0 + 3) % OW) * step :]
        m0 = 0
        while m0 + 4 <= M:
            a0, a1, a2, a3 = A[m0], A[m0 + 1], A[m0 + 2], A[m0 + 3]
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = zero
            for k in range(K):
                x0, x1, x2, x3 = b0[k], b1[k], b2[k], b3[k]
                y0, y1, y2, y3 = a0[k], a1[k], a2[k], a3[k]
                s00 += y0 * x0
                s01 += y0 * x1
                s02 += y0 * x2
                s03 += y0 * x3
                s10 += y1 * x0
                s11 += y1 * x1
                s12 += y1 * x2
                s13 += y1 * x3
                s20 += y2 * x0
                s21 += y2 * x1
                s22 += y2 * x2
                s23 += y2 * x3
                s30 += y3 * x0
                s31 += y3 * x1
                s32 += y3 * x2
                s33 += y3 * x3
            c0, c1, c2, c3 = out[m0, p0:], out[m0 + 1, p0:], out[m0 + 2, p0:], out[m0 + 3, p0:]
            c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
            c1[0], c1[1], c1[2], c1[3] = s10, s11, s12, s13
            c2[0], c2[1], c2[2], c2[3] = s20, s21, s22, s23
            c3[0], c3[1], c3[2], c3[3] = s30, s31, s32, s33
            m0 += 4
        for m in range(m0, M):  # leftover rows of A against the four windows
            a0 = A[m]
            s00 = s01 = s02 = s03 = zero
            for k in range(K):
                y0 = a0[k]
                s00 += y0 * b0[k]
                s01 += y0 * b1[k]
                s02 += y0 * b2[k]
                s03 += y0 * b3[k]
            c0 = out[m, p0:]
            c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
        p0 += 4
    for p in range(p0, NP):  # leftover windows, one at a time
        b0 = Zf[p // OW, (p % OW) * step :]
        for m in range(M):
            a0 = A[m]
            s = zero
            for k in range(K):
                s += a0[k] * b0[k]
            out[m, p] = s


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot_rows_4x3(Gq, buf, pl, off, Q, C):
    """`_dot_rows_4x6` in blocks of 4 rows of Gq x 3 rows of buf: 12 sums, the 3 rows of buf
    and one row of Gq at a time fill AVX2's 16 vector registers exactly."""
    M = Gq.shape[0]
    K = pl.shape[0]
    zero = Gq.dtype.type(0)
    for k0 in range(0, K, 3):
        for m0 in range(0, M, 4):
            if m0 + 4 <= M and k0 + 3 <= K:
                g0, g1, g2, g3 = Gq[m0], Gq[m0 + 1], Gq[m0 + 2], Gq[m0 + 3]
                b0 = buf[pl[k0], off[k0] :]
                b1 = buf[pl[k0 + 1], off[k0 + 1] :]
                b2 = buf[pl[k0 + 2], off[k0 + 2] :]
                s00 = s01 = s02 = s10 = s11 = s12 = zero
                s20 = s21 = s22 = s30 = s31 = s32 = zero
                for q in range(Q):
                    x0, x1, x2 = b0[q], b1[q], b2[q]
                    y = g0[q]
                    s00 += y * x0
                    s01 += y * x1
                    s02 += y * x2
                    y = g1[q]
                    s10 += y * x0
                    s11 += y * x1
                    s12 += y * x2
                    y = g2[q]
                    s20 += y * x0
                    s21 += y * x1
                    s22 += y * x2
                    y = g3[q]
                    s30 += y * x0
                    s31 += y * x1
                    s32 += y * x2
                for i, (t0, t1, t2) in enumerate(
                    ((s00, s01, s02), (s10, s11, s12), (s20, s21, s22), (s30, s31, s32))
                ):
                    r = C[m0 + i, k0:]
                    r[0], r[1], r[2] = r[0] + t0, r[1] + t1, r[2] + t2
            else:  # an edge block: one sum at a time
                for m in range(m0, min(M, m0 + 4)):
                    gm = Gq[m]
                    for k in range(k0, min(K, k0 + 3)):
                        bk = buf[pl[k], off[k] :]
                        s = zero
                        for q in range(Q):
                            s += gm[q] * bk[q]
                        C[m, k] += s


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot_windows_3x4(A, Zf, OW, step, NP, out):
    """`_dot_windows_4x4` in blocks of 3 windows x 4 rows of A: 12 sums, the 3 windows and one
    row of A at a time fill AVX2's 16 vector registers exactly."""
    M, K = A.shape
    zero = A.dtype.type(0)
    p0 = 0
    while p0 + 3 <= NP:
        b0 = Zf[p0 // OW, (p0 % OW) * step :]
        b1 = Zf[(p0 + 1) // OW, ((p0 + 1) % OW) * step :]
        b2 = Zf[(p0 + 2) // OW, ((p0 + 2) % OW) * step :]
        m0 = 0
        while m0 + 4 <= M:
            a0, a1, a2, a3 = A[m0], A[m0 + 1], A[m0 + 2], A[m0 + 3]
            s00 = s01 = s02 = s10 = s11 = s12 = zero
            s20 = s21 = s22 = s30 = s31 = s32 = zero
            for k in range(K):
                x0, x1, x2 = b0[k], b1[k], b2[k]
                y = a0[k]
                s00 += y * x0
                s01 += y * x1
                s02 += y * x2
                y = a1[k]
                s10 += y * x0
                s11 += y * x1
                s12 += y * x2
                y = a2[k]
                s20 += y * x0
                s21 += y * x1
                s22 += y * x2
                y = a3[k]
                s30 += y * x0
                s31 += y * x1
                s32 += y * x2
            c0, c1, c2, c3 = out[m0, p0:], out[m0 + 1, p0:], out[m0 + 2, p0:], out[m0 + 3, p0:]
            c0[0], c0[1], c0[2] = s00, s01, s02
            c1[0], c1[1], c1[2] = s10, s11, s12
            c2[0], c2[1], c2[2] = s20, s21, s22
            c3[0], c3[1], c3[2] = s30, s31, s32
            m0 += 4
        if m0 + 2 <= M:  # two rows of A left over (LeNet-5's 6 channels): 6 sums
            a0, a1 = A[m0], A[m0 + 1]
            s00 = s01 = s02 = s10 = s11 = s12 = zero
            for k in range(K):
                x0, x1, x2 = b0[k], b1[k], b2[k]
                y = a0[k]
                s00 += y * x0
                s01 += y * x1
                s02 += y * x2
                y = a1[k]
                s10 += y * x0
                s11 += y * x1
                s12 += y * x2
            c0, c1 = out[m0, p0:], out[m0 + 1, p0:]
            c0[0], c0[1], c0[2] = s00, s01, s02
            c1[0], c1[1], c1[2] = s10, s11, s12
            m0 += 2
        for m in range(m0, M):  # the row of A left over, against the three windows
            a0 = A[m]
            s00 = s01 = s02 = zero
            for k in range(K):
                y = a0[k]
                s00 += y * b0[k]
                s01 += y * b1[k]
                s02 += y * b2[k]
            c0 = out[m, p0:]
            c0[0], c0[1], c0[2] = s00, s01, s02
        p0 += 3
    for p in range(p0, NP):  # leftover windows, one at a time
        b0 = Zf[p // OW, (p % OW) * step :]
        for m in range(M):
            a0 = A[m]
            s = zero
            for k in range(K):
                s += a0[k] * b0[k]
            out[m, p] = s


def _vector_registers() -> int:
    """32 with AVX-512, else 16: of the CPU Numba compiles for (NUMBA_CPU_FEATURES, else the
    host's), which is also part of the key of its disk cache."""
    if config.CPU_FEATURES is not None:
        return 32 if "+avx512f" in config.CPU_FEATURES.split(",") else 16
    return 32 if get_host_cpu_features().get("avx512f", False) else 16


# The dot form's blocks as the registers allow, chosen once, when the kernels that call them
# are compiled; and the shortest sums (K) for which conv.py takes the dot form over the axpy
# form. With 16 registers the axpy form keeps up until K reaches about 256 (measured on a Zen 3
# core, one thread: 16 -> 16 channels at 32x32 (K = 144) 10-20% faster on planes, 32 -> 32 at
# 16x16 (K = 288) 5-15% faster on windows); with 32, the dot form pays from K = 32.
if _vector_registers() >= 32:
    _dot_rows, _dot_windows, _DOT_MIN_K = _dot_rows_4x6, _dot_windows_4x4, 32
else:
    _dot_rows, _dot_windows, _DOT_MIN_K = _dot_rows_4x3, _dot_windows_3x4, 256
