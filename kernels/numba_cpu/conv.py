"""2-D convolution with Numba: every direction is a matrix product over views of packed input.

The advanced reading: read the direct twins in direct.py (the same three directions as plain
loops, one prange iteration per output plane) and benchmarks/conv_variants first.

With K = C/G*KH*KW, each direction of a convolution is a matrix product whose rows are the
input windows the outputs read; no im2col matrix (KH*KW copies of the input) is ever written.
A work item is S consecutive samples of one group (S > 1 only for small images, to give the
products long rows); the items are cut into one contiguous chunk per thread and `prange` runs
over the chunks. Each chunk allocates its buffers once and reuses them, so they stay in that
core's cache, and owns its output slab (y[n0:n1, g], a phase of gx[n0:n1, g], or its own
partial sum of gw), so nothing needs atomics. The product loops are in gemm.py (which also
says why they take the shapes they do), the copies in pack.py.

Two ways to present the windows:
- windows (`_windows_kernel`): each output position's receptive field as one contiguous run
  of K values, channels last (`_pack_windows` copies the input KH times); the product is the
  dot form, out[m, p] = w[m] . window p (`_dot_windows`), 135-220 GFLOP/s on one core.
- planes (`_forward_planes_kernel`, `_backward_input_kernel`, `_backward_weight_kernel`): the
  input copied once into zero-padded phase planes (plane (c, a, b) holds the padded pixels
  (a + i*SH, b + j*SW)) with the rows of the S samples interleaved (`_pack_planes`). Output
  (oh, s, ow) is grid position q = (oh*S + s)*Wq + ow, and the value tap (kh, kw) of channel c
  reads there sits at buf[plane, off + q] with

      plane = (c*SH + (kh*DH) % SH)*SW + (kw*DW) % SW,   off = (kh*DH)//SH * S*Wq + (kw*DW)//SW,

  so im2col row k = (c, kh, kw) is the slice buf[plane[k], off[k]:], read in place. The grid
  has Wq - OW wasted columns per row (their reads wrap into the next row and are dropped):
  6% at 32x32, 12% at 16x16, 25% at 8x8 for 3x3 kernels.

The directions:
- forward: windows when K >= _DOT_MIN_K (gemm.py: 32 with AVX-512, 256 with AVX2), 4+ output
  channels per group and unit column dilation; otherwise (e.g. LeNet-5's first layer, ResNet-20's
  stem: K = 25, 27) planes with the axpy-form product `_gemm_rows`, whose cost does not depend on K.
- backward input: input row h = a + i*SH receives tap kh from output row oh = (h + PH -
  kh*DH)/SH when that division is exact, that is from row i + (a + PH - kh*DH)//SH of gy. So
  each of the SH*SW phases of gx is a stride-1 correlation of gy with its own subset of taps
  (at stride 1: one phase, every tap, the kernel flipped), and together they do exactly the
  forward's multiply-adds: windows phases (one channels-last copy of gy shared by all of
  them), or planes phases when a phase's K or the channel count is small, as above.
- backward weight: gw[o, k] = sum over q of gq[o, q] * buf[plane[k], off[k] + q], gq being
  gy on the same grid with zeros in the wasted columns, so they add nothing: the dot form on
  planes (`_dot_rows`), whose sums run over every grid position of an item; the wrapper adds up
  the per-chunk partials.

Measured on a 2-core AMD EPYC (Zen 5) virtual machine, float32, 2 threads, median ms, forward
/ backward input / backward weight (benchmarks/README.md has the full tables and PyTorch's;
benchmarks/conv_variants the algorithms this replaced, v3 being the previous one):

    ResNet-20, batch 128, 3x3, pad 1
      16->16 32x32 s1   2.9 / 2.9 / 1.8     16->32 32x32 s2   1.6 / 2.5 / 1.3
      32->32 16x16 s1   2.0 / 2.0 / 1.7     32->64 16x16 s2   1.2 / 1.7 / 1.2
      64->64  8x8  s1   1.8 / 1.8 / 1.9     3->16  32x32 s1   0.8 / 1.0 / 0.5
    LeNet-5, batch 64, 5x5, no pad
      1->6   32x32      0.12 / 0.22 / 0.12  6->16  14x14      0.23 / 0.29 / 0.15
"""

import numpy as np
from numba import njit, prange

from ..geometry import out_size
from .gemm import _DOT_MIN_K, _dot_rows, _dot_windows, _gemm_rows
from .jit import PARALLEL
from .pack import _channels_last, _pack_planes, _pack_windows, _transpose, _unpack
from .threads import max_threads

# The dot form needs at least 4 rows of A to share each window's loads, and sums long enough
# (K >= _DOT_MIN_K terms, which depends on the machine: gemm.py) to pay for their horizontal sums.
_DOT_MIN_M = 4


@njit(cache=True)
def _chunk(t, T, items):
    """Items [lo, hi) of chunk t when `items` are split into T near-equal contiguous chunks."""
    return t * items // T, (t + 1) * items // T


@njit(cache=True, parallel=PARALLEL)
def _windows_kernel(x, last, w, b, SH, SW, PT, PL, DH, OH, OW, Wp, KH, h0, w0, SHo, SWo, S, T, y):
    """x (N, G, C, H, W), or (N, G, H, W, C) if `last` (channels last), w (G, M, K) with
    columns ordered (kw, kh, c), b (G, M) -> y[n, g, m, h0 + oh*SHo, w0 + ow*SWo] for
    oh < OH, ow < OW; y (N, G, M, Hy, Wy)."""
    N, G = x.shape[0], x.shape[1]
    H, W, C = (x.shape[2], x.shape[3], x.shape[4]) if last else (x.shape[3], x.shape[4], x.shape[2])
    M = w.shape[1]
    P = OH * OW
    items = (N + S - 1) // S * G
    for t in prange(T):
        Z = np.zeros((S, OH, Wp, KH, C), dtype=x.dtype)
        Zf = Z.reshape(S * OH, Wp * KH * C)  # row (s, oh): (w, kh, c)
        xt = np.empty((S, 1, H, W, C) if not last else (1, 1, 1, 1, 1), dtype=x.dtype)
        out = np.empty((M, S * P), dtype=x.dtype)
        lo, hi = _chunk(t, T, items)
        for item in range(lo, hi):
            g = item % G
            n0 = item // G * S
            n1 = min(N, n0 + S)
            if not last:  # the item's samples, channels last, then the same copies
                for s in range(n1 - n0):
                    for h in range(H):
                        _transpose(x[n0 + s, g, :, h, :], xt[s, 0, h])
            src, s0, gs = (x, n0, g) if last else (xt, 0, 0)  # one call: compiled, inlined once
            _pack_windows(src, s0, s0 + n1 - n0, gs, SH, PT, PL, DH, Z)
            _dot_windows(w[g], Zf, OW, SW * KH * C, (n1 - n0) * P, out)
            for n in range(n0, n1):
                for m in range(M):
                    bias = b[g, m]
                    for oh in range(OH):
                        src = out[m, (n - n0) * P + oh * OW :]
                        dst = y[n, g, m, h0 + oh * SHo, w0:]
                        if SWo == 1:
                            for ow in range(OW):
                                dst[ow] = src[ow] + bias
                        else:
                            for ow in range(OW):
                                dst[ow * SWo] = src[ow] + bias


@njit(cache=True, parallel=PARALLEL)
def _forward_planes_kernel(x, w, b, pl, off, used, PH, PW, SH, SW, OH, OW, S, rows, Wq, T, y):
    """x (N, G, Cg, H, W), w (G, OCg, K), b (G, OCg) -> y (N, G, OCg, OH, OW), in place."""
    N, G, Cg = x.shape[0], x.shape[1], x.shape[2]
    OCg = w.shape[1]
    Q = OH * S * Wq
    items = (N + S - 1) // S * G
    for t in prange(T):
        buf = np.zeros((Cg * SH * SW, rows * S * Wq), dtype=x.dtype)
        out = np.empty((OCg, Q), dtype=x.dtype)
        lo, hi = _chunk(t, T, items)
        for item in range(lo, hi):
            g = item % G
            n0 = item // G * S
            n1 = min(N, n0 + S)
            _pack_planes(x, n0, n1, g, PH, PW, SH, SW, S, Wq, used, buf)
            for oc in range(OCg):
                out[oc, :] = b[g, oc]
            _gemm_rows(w[g], buf, pl, off, out, Q)
            _unpack(out, n0, n1, g, OH, OW, S, Wq, 0, 0, 1, 1, y)


@njit(cache=True, parallel=PARALLEL)
def _backward_input_kernel(gy, wp, pl, off, kbeg, phase, PT, PL, SH, SW, S, rows, Wq, T, gx):
    """gy (N, G, OCg, OH, OW), wp (G, Cg, Ktot) -> gx (N, G, Cg, H, W), in place.

    Phase f of gx uses columns kbeg[f] .. kbeg[f+1] of wp, pl and off; phase[f] holds its
    origin (a, b) and its number of rows and columns (Ha, Wb).
    """
    N, G, OCg = gy.shape[0], gy.shape[1], gy.shape[2]
    Cg = wp.shape[1]
    one = np.ones(1, np.uint8)
    items = (N + S - 1) // S * G
    for t in prange(T):
        buf = np.zeros((OCg, rows * S * Wq), dtype=gy.dtype)
        out = np.empty((Cg, phase[:, 2].max() * S * Wq), dtype=gy.dtype)
        lo, hi = _chunk(t, T, items)
        for item in range(lo, hi):
            g = item % G
            n0 = item // G * S
            n1 = min(N, n0 + S)
            _pack_planes(gy, n0, n1, g, PT, PL, 1, 1, S, Wq, one, buf)
            for f in range(phase.shape[0]):
                a, b, Ha, Wb = phase[f, 0], phase[f, 1], phase[f, 2], phase[f, 3]
                Q = Ha * S * Wq
                out[:, :Q] = 0
                k0, k1 = kbeg[f], kbeg[f + 1]
                _gemm_rows(wp[g, :, k0:k1], buf, pl[k0:k1], off[k0:k1], out, Q)
                _unpack(out, n0, n1, g, Ha, Wb, S, Wq, a, b, SH, SW, gx)


@njit(cache=True, parallel=PARALLEL)
def _backward_weight_kernel(gy, x, pl, off, used, PH, PW, SH, SW, S, rows, Wq, T):
    """gy (N, G, OCg, OH, OW), x (N, G, Cg, H, W) -> partial sums (T, G, OCg, K) of gw."""
    N, G, Cg = x.shape[0], x.shape[1], x.shape[2]
    OCg, OH = gy.shape[2], gy.shape[3]
    K = pl.shape[0]
    Q = OH * S * Wq
    one = np.ones(1, np.uint8)
    items = (N + S - 1) // S * G
    partial = np.zeros((T, G, OCg, K), dtype=gy.dtype)
    for t in prange(T):
        buf = np.zeros((Cg * SH * SW, rows * S * Wq), dtype=x.dtype)
        gq = np.zeros((OCg, Q), dtype=gy.dtype)  # the wasted columns stay 0
        lo, hi = _chunk(t, T, items)
        for item in range(lo, hi):
            g = item % G
            n0 = item // G * S
            n1 = min(N, n0 + S)
            _pack_planes(x, n0, n1, g, PH, PW, SH, SW, S, Wq, used, buf)
            _pack_planes(gy, n0, n1, g, 0, 0, 1, 1, S, Wq, one, gq)
            for s in range(n1 - n0, S):  # a short last item: its missing samples add 0
                for oh in range(OH):
                    gq[:, (oh * S + s) * Wq : (oh * S + s + 1) * Wq] = 0
            _dot_rows(gq, buf, pl, off, Q, partial[t, g])
    return partial


def _threads(items: int) -> int:
    """Number of chunks: one per thread a kernel may use (however many then run them, so that
    the weight gradient's partial sums do not depend on it), but no more than there are items."""
    return max(1, min(items, max_threads()))


def _samples(N: int, G: int, per_sample: int, target: int) -> int:
    """Samples per item: up to about `target` output positions, with 2+ items a thread, and
    the count that splits most evenly into the threads' chunks (their slowest one sets the
    time: 11 items of 12 samples on 2 threads take as long as 12)."""
    T = max_threads()
    top = max(1, min(target // per_sample, N * G // (2 * T)))

    def slowest(S: int) -> int:  # samples in the largest chunk
        items = -(-N // S) * G
        return -(-items // T) * S

    return min(range(1, top + 1), key=lambda S: (slowest(S), -S))


def _plane_taps(Cg: int, KH: int, KW: int, SH: int, SW: int, DH: int, DW: int, S: int, Wq: int):
    """Plane and offset of every im2col row k = (c, kh, kw), and which phases are read."""
    c, kh, kw = np.unravel_index(np.arange(Cg * KH * KW), (Cg, KH, KW))
    a, b = (kh * DH) % SH, (kw * DW) % SW
    used = np.zeros(SH * SW, np.uint8)
    used[a * SW + b] = 1
    pl = (c * SH + a) * SW + b
    off = (kh * DH) // SH * S * Wq + (kw * DW) // SW
    return pl.astype(np.int64), off.astype(np.int64), used


def _plane_grid(H: int, W: int, PH: int, PW: int, SH: int, SW: int) -> tuple[int, int]:
    """Rows of a phase plane (plus one for the reads that wrap) and its width Wq."""
    return -(-(H + 2 * PH) // SH) + 1, -(-(W + 2 * PW) // SW)


def _channels_last_copy(x: np.ndarray) -> np.ndarray:
    """x (N, G, C, H, W) -> a contiguous (N, G, H, W, C) copy, made in parallel."""
    N, G, C, H, W = x.shape
    xt = np.empty((N, G, H, W, C), dtype=x.dtype)
    _channels_last(x, xt)
    return xt


def _windows(x, last, wk, b, SH, SW, PT, PL, DH, OH, OW, y, h0=0, w0=0, SHo=1, SWo=1):
    """Correlate x (N, G, Cg, H, W), or (N, G, H, W, Cg) if `last`, with wk (G, M, Cg, KH, KW)
    (unit column dilation): output (oh, ow) reads padded input rows oh*SH + kh*DH and columns
    ow*SW + kw, where padded = input shifted by (PT, PL); it goes to
    y[n, g, m, h0 + oh*SHo, w0 + ow*SWo]."""
    N, G = x.shape[:2]
    H, W, Cg = x.shape[2:] if last else (x.shape[3], x.shape[4], x.shape[2])
    M, KH, KW = wk.shape[1], wk.shape[3], wk.shape[4]
    S = _samples(N, G, OH * OW, 256)
    Wp = max(PL + W, (OW - 1) * SW + KW)
    cols = np.ascontiguousarray(wk.transpose(0, 1, 4, 3, 2)).reshape(G, M, KW * KH * Cg)
    _windows_kernel(
        x, last, cols, b, SH, SW, PT, PL, DH, OH, OW, Wp, KH, h0, w0, SHo, SWo, S,
        _threads(-(-N // S) * G), y,
    )  # fmt: skip


def _planes(x, wk, b, SH, SW, PH, PW, DH, DW, OH, OW, y):
    """Correlate x (N, G, Cg, H, W) with wk (G, M, Cg, KH, KW), zero padding (PH, PW), by the
    implicit GEMM over phase planes; write y (N, G, M, OH, OW)."""
    N, G, Cg, H, W = x.shape
    M, KH, KW = wk.shape[1], wk.shape[3], wk.shape[4]
    rows, Wq = _plane_grid(H, W, PH, PW, SH, SW)
    S = _samples(N, G, OH * Wq, 1024)
    pl, off, used = _plane_taps(Cg, KH, KW, SH, SW, DH, DW, S, Wq)
    _forward_planes_kernel(
        x, np.ascontiguousarray(wk).reshape(G, M, -1), b, pl, off, used,
        PH, PW, SH, SW, OH, OW, S, rows, Wq, _threads(-(-N // S) * G), y,
    )  # fmt: skip


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
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    SH, SW, PH, PW, DH, DW = (int(v) for v in (SH, SW, PH, PW, DH, DW))
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    OCg = OC // G
    bg = np.zeros(OC, x.dtype) if b is None else b
    wk = w.reshape(G, OCg, Cg, KH, KW)
    y = np.empty((N, G, OCg, OH, OW), dtype=x.dtype)
    if DW == 1 and Cg * KH * KW >= _DOT_MIN_K and OCg >= _DOT_MIN_M:
        _windows(
            x.reshape(N, G, Cg, H, W), False, wk, bg.reshape(G, OCg), SH, SW, PH, PW, DH, OH, OW, y
        )
    else:
        _planes(
            x.reshape(N, G, Cg, H, W), wk, bg.reshape(G, OCg), SH, SW, PH, PW, DH, DW, OH, OW, y
        )
    return y.reshape(N, OC, OH, OW)


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
    N, OC, OH, OW = gy.shape
    _, Cg, KH, KW = w.shape
    H, W, SH, SW, PH, PW, DH, DW = (int(v) for v in (H, W, SH, SW, PH, PW, DH, DW))
    OCg = OC // G
    wt = w.reshape(G, OCg, Cg, KH, KW).transpose(0, 2, 1, 3, 4)
    # Per axis: the taps that feed input phase a, and the rows of each phase of gx.
    taps_h = [[k for k in range(KH) if (a + PH - k * DH) % SH == 0] for a in range(SH)]
    taps_w = [[k for k in range(KW) if (b + PW - k * DW) % SW == 0] for b in range(SW)]
    n_h = [len(range(a, H, SH)) for a in range(SH)]
    n_w = [len(range(b, W, SW)) for b in range(SW)]
    K = OCg * min(map(len, taps_h)) * min(map(len, taps_w))  # of the smallest phase
    if DW == 1 and K >= _DOT_MIN_K and Cg >= _DOT_MIN_M:
        # Each phase correlates gy with its taps, taken in increasing order of the gy row they
        # read (kh decreasing), which are DH // gcd(SH, DH) rows apart (1 column apart, DW = 1).
        gx = np.empty((N, G, Cg, H, W), dtype=gy.dtype)
        zero = np.zeros((G, Cg), gy.dtype)
        gy5 = gy.reshape(N, G, OCg, OH, OW)
        last = SH * SW > 1  # several phases share one channels-last copy of gy
        gy5 = _channels_last_copy(gy5) if last else gy5
        for a in range(SH):
            for b in range(SW):
                if n_h[a] == 0 or n_w[b] == 0:
                    continue
                kh, kw = taps_h[a][::-1], taps_w[b][::-1]
                sub = wt[:, :, :, kh][:, :, :, :, kw]  # (G, Cg, OCg, taps_h, taps_w)
                PT = -((a + PH - kh[0] * DH) // SH)  # gy row of output row 0 is -PT
                PL = -((b + PW - kw[0] * DW) // SW)
                DHs = (a + PH - kh[-1] * DH) // SH + PT
                DHs = DHs // (len(kh) - 1) if len(kh) > 1 else 1
                _windows(gy5, last, sub, zero, 1, 1, PT, PL, DHs, n_h[a], n_w[b], gx, a, b, SH, SW)
        return gx.reshape(N, G * Cg, H, W)
    d_h = [(a + PH - k * DH) // SH for a in range(SH) for k in taps_h[a]] or [0]
    d_w = [(b + PW - k * DW) // SW for b in range(SW) for k in taps_w[b]] or [0]
    PT, PL = max(0, -min(d_h)), max(0, -min(d_w))  # zero rows / columns in front of gy
    Wq = PL + max(OW, max(n_w) + max(d_w))
    rows = PT + max(OH, max(n_h) + max(d_h)) + 1
    S = _samples(N, G, max(n_h) * Wq, 1024)
    mats, pls, offs, kbeg, phase = [], [], [], [0], []
    for a in range(SH):
        for b in range(SW):
            if n_h[a] == 0 or n_w[b] == 0:
                continue
            o, kh, kw = (
                t.ravel()
                for t in np.meshgrid(
                    np.arange(OCg), np.array(taps_h[a], int), np.array(taps_w[b], int),
                    indexing="ij",
                )
            )  # fmt: skip
            mats.append(wt[:, :, o, kh, kw])  # (G, Cg, taps): column (o, kh, kw)
            pls.append(o)
            offs.append(((a + PH - kh * DH) // SH + PT) * S * Wq + (b + PW - kw * DW) // SW + PL)
            kbeg.append(kbeg[-1] + o.size)
            phase.append((a, b, n_h[a], n_w[b]))
    gx = np.empty((N, G * Cg, H, W), dtype=gy.dtype)
    _backward_input_kernel(
        gy.reshape(N, G, OCg, OH, OW), np.ascontiguousarray(np.concatenate(mats, axis=2)),
        np.concatenate(pls).astype(np.int64), np.concatenate(offs).astype(np.int64),
        np.array(kbeg, np.int64), np.array(phase, np.int64),
        PT, PL, SH, SW, S, rows, Wq, _threads(-(-N // S) * G), gx.reshape(N, G, Cg, H, W),
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
    N, OC, OH, OW = gy.shape
    C, H, W = x.shape[1:]
    Cg = C // G
    KH, KW, SH, SW, PH, PW, DH, DW = (int(v) for v in (KH, KW, SH, SW, PH, PW, DH, DW))
    rows, Wq = _plane_grid(H, W, PH, PW, SH, SW)
    S = _samples(N, G, OH * Wq, 2048)
    pl, off, used = _plane_taps(Cg, KH, KW, SH, SW, DH, DW, S, Wq)
    partial = _backward_weight_kernel(
        gy.reshape(N, G, OC // G, OH, OW), x.reshape(N, G, Cg, H, W), pl, off, used,
        PH, PW, SH, SW, S, rows, Wq, _threads(-(-N // S) * G),
    )  # fmt: skip
    return partial.sum(axis=0).reshape(OC, Cg, KH, KW)
