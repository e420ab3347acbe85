"""Copies that lay a convolution's input out for the loops in gemm.py, and back.

- `_pack_planes`: zero-padded planes, split into SH*SW phases and with the rows of S samples
  interleaved, so that every im2col row is a shifted slice of one plane (the implicit GEMM of
  conv.py). It copies the input once; an im2col matrix would copy it KH*KW times.
- `_pack_windows`: the dot form needs each output position's receptive field contiguous,
  channels innermost. Row (s, oh) of the buffer holds, for every padded input column w, the KH
  input rows oh*SH + kh*DH - PT that output row oh reads, channels last: (Wp, KH, C). The
  window of output column ow is then the run of KW*KH*C values starting at column ow*SW. That
  copies the input KH times (an im2row matrix would copy it KH*KW times) from a channels-last
  input: the caller transposes each input row once (`_transpose`, item by item, or
  `_channels_last` for a whole batch that several calls share).
- `_unpack`: the valid columns of a GEMM result, back to an (N, G, M, H, W) array.

Transposes (channels-first rows to channels-last) read four channel rows at a time and write
runs of four: about 5 GB/s on one core, where one value at a time gets 2; when there are at
least as many channels as columns, they write whole channel runs, reading four columns at a
time (2-3x faster for 32 channels of 16 columns on a Zen 3 core).
"""

from numba import njit, prange

from .jit import PARALLEL


@njit(cache=True)
def _transpose(a, out):
    """out[w, c] = a[c, w] for a (C, W); out (W, C) may have any row stride."""
    C, W = a.shape
    if C >= W:  # rows of out at least as long as those of a: write them whole, 4 at a time
        w = 0
        while w + 4 <= W:
            d0, d1, d2, d3 = out[w], out[w + 1], out[w + 2], out[w + 3]
            for c in range(C):
                r = a[c, w:]
                d0[c], d1[c], d2[c], d3[c] = r[0], r[1], r[2], r[3]
            w += 4
        for ww in range(w, W):
            d0 = out[ww]
            for c in range(C):
                d0[c] = a[c, ww]
        return
    c = 0
    while c + 4 <= C:
        r0, r1, r2, r3 = a[c], a[c + 1], a[c + 2], a[c + 3]
        for w in range(W):
            d = out[w, c:]
            d[0], d[1], d[2], d[3] = r0[w], r1[w], r2[w], r3[w]
        c += 4
    for cc in range(c, C):
        r0 = a[cc]
        for w in range(W):
            out[w, cc] = r0[w]


@njit(cache=True)
def _pack_planes(z, n0, n1, g, PT, PL, SH, SW, S, Wq, used, buf):
    """Samples n0..n1 of group g of z (N, G, C, H, W) -> buf (C*SH*SW, rows*S*Wq), in place.

    Pixel (h, w) sits at padded position (h + PT, w + PL), which is row i, column j of phase
    (a, b) = ((h + PT) % SH, (w + PL) % SW); it goes to buf[(c*SH + a)*SW + b, (i*S + s)*Wq + j].
    Phases with used[a*SW + b] == 0 are skipped. The rest of buf (the zero padding) is never
    written, so the caller zeroes buf once.
    """
    C, H, W = z.shape[2], z.shape[3], z.shape[4]
    if SH == 1 and SW == 1:  # one phase: plain row copies
        for c in range(C):
            for s in range(n1 - n0):
                for h in range(H):
                    src = z[n0 + s, g, c, h]
                    dst = buf[c, ((h + PT) * S + s) * Wq + PL :]
                    for t in range(W):
                        dst[t] = src[t]
        return
    if SW == 2:  # both column phases of a row in one pass, which LLVM vectorises
        for s in range(n1 - n0):
            for c in range(C):
                for h in range(H):
                    a, i = (h + PT) % SH, (h + PT) // SH
                    if not (used[a * 2] or used[a * 2 + 1]):
                        continue
                    src = z[n0 + s, g, c, h]  # (W,)
                    # column w lands in phase (w + PL) % 2, column (w + PL) // 2
                    row, f = (i * S + s) * Wq, (c * SH + a) * 2
                    even = buf[f + PL % 2, row + PL // 2 :]
                    odd = buf[f + 1 - PL % 2, row + (PL + 1) // 2 :]
                    for t in range(W // 2):
                        even[t], odd[t] = src[2 * t], src[2 * t + 1]
                    if W % 2:
                        even[W // 2] = src[W - 1]
        return
    for b in range(SW):
        w0 = (b - PL) % SW  # first input column of phase b, its place and its count
        j0, n = (w0 + PL) // SW, (W - w0 + SW - 1) // SW
        for h in range(H):
            a, i = (h + PT) % SH, (h + PT) // SH
            if not used[a * SW + b] or w0 >= W:
                continue
            for c in range(C):
                plane = buf[(c * SH + a) * SW + b]
                for s in range(n1 - n0):
                    src = z[n0 + s, g, c, h, w0:]  # (W - w0,)
                    dst = plane[(i * S + s) * Wq + j0 :]
                    for t in range(n):
                        dst[t] = src[t * SW]


@njit(cache=True)
def _pack_windows(xt, n0, n1, g, SH, PT, PL, DH, Z):
    """Z[s, oh, PL + w, kh, :] = xt[n0 + s, g, oh*SH + kh*DH - PT, w, :] where that row and
    column lie inside xt (N, G, H, W, C), channels last, and inside Z (S, OH, Wp, KH, C).
    Padding is never written (the caller zeroes Z once)."""
    H, W, C = xt.shape[2], xt.shape[3], xt.shape[4]
    OH, Wp, KH = Z.shape[1], Z.shape[2], Z.shape[3]
    w_lo, w_hi = max(0, -PL), min(W, Wp - PL)  # the columns of xt that land inside Z
    for s in range(n1 - n0):
        for oh in range(OH):
            for kh in range(KH):
                h = oh * SH + kh * DH - PT
                if h < 0 or h >= H:
                    continue
                src = xt[n0 + s, g, h]  # (W, C)
                dst = Z[s, oh]  # (Wp, KH, C)
                for w in range(w_lo, w_hi):
                    d = dst[PL + w, kh]
                    r = src[w]
                    for c in range(C):
                        d[c] = r[c]


@njit(cache=True, parallel=PARALLEL)
def _channels_last(x, xt):
    """xt (N, G, H, W, C) = x (N, G, C, H, W) transposed; prange over the (n, g, h) rows."""
    N, G, H = x.shape[0], x.shape[1], x.shape[3]
    for ngh in prange(N * G * H):
        n, g, h = ngh // (G * H), ngh // H % G, ngh % H
        _transpose(x[n, g, :, h, :], xt[n, g, h])


@njit(cache=True)
def _unpack(out, n0, n1, g, Ho, Wo, S, Wq, h0, w0, SH, SW, dst):
    """dst[n0 + s, g, m, h0 + i*SH, w0 + j*SW] = out[m, (i*S + s)*Wq + j] for i < Ho, j < Wo;
    out (M, Q) is a GEMM result on the (row, sample, column) grid, dst (N, G, M, H, W)."""
    M = out.shape[0]
    for s in range(n1 - n0):
        for m in range(M):
            for i in range(Ho):
                src = out[m, (i * S + s) * Wq :]
                d = dst[n0 + s, g, m, h0 + i * SH, w0:]
                if SW == 1:
                    for j in range(Wo):
                        d[j] = src[j]
                else:
                    for j in range(Wo):
                        d[j * SW] = src[j]
