"""Max, average and adaptive pooling with Numba; every kernel runs `prange` over the N*C planes.

The advanced reading: the same kernels as plain loops, without the tables below, are the direct
twins in direct.py; read those first.

Each prange iteration owns one (n, c) plane of the output: forward kernels compute all OH*OW
outputs of the plane, backward kernels all H*W elements of gx, so no two threads write the
same slot. The backward kernels are gathers: each gx[h, w] visits the outputs whose window can
contain (h, w) and adds what they send back, in increasing (oh, ow) order, the order in which a
scatter over the outputs would add them.

- max pooling: output (oh, ow) reads taps h = oh*SH - PH + kh*DH, w = ow*SW - PW + kw*DW;
  out-of-range taps (padding, or past the border in ceil mode) are skipped, and strict `>`
  keeps the first maximum in (kh, kw) order. NaN wins, as in PyTorch: a tap holding NaN
  replaces the best so far (a later NaN too), so the window's value is NaN and its index
  points at its last NaN. Backward: input row h is tap kh of output row
  oh = (h + PH - kh*DH) / SH when that division is exact and 0 <= oh < OH; `_tap_outputs`
  tabulates those rows (and columns) once, so gx[h, w] checks only the (at most KH*KW) outputs
  that read it, adding gy where idx == h*W + w.
- average and adaptive pooling have contiguous windows [start, end) along each axis, with
  start and end non-decreasing in the output index. `_avg_axis` / `_adaptive_axis` tabulate
  them once per call, with the per-axis factor of the divisor; `_covering` inverts them into
  the range of outputs [lo, hi) whose window holds each input position, which drives the
  gathers.

The backward gathers can lose to numpy_ref's np.add.at scatter on small planes, the price of
never sharing an output slot between threads; they stay small next to the convolutions.
`python -m benchmarks.ops --backends numpy numba --only pool` measures them against numpy_ref
on LeNet-5's 2x2 pooling, `--only gap` on ResNet-20's global average.
"""

import functools

import numpy as np
from numba import njit, prange

from .jit import PARALLEL


@njit(cache=True, parallel=PARALLEL)
def _maxpool_forward_kernel(x, KH, KW, SH, SW, PH, PW, DH, DW, y, idx):
    """x (P, H, W) planes -> y, idx (P, OH, OW), in place; window taps as in the docstring."""
    NP, H, W = x.shape
    OH, OW = y.shape[1], y.shape[2]
    for p in prange(NP):
        for oh in range(OH):
            for ow in range(OW):
                best = -np.inf
                best_i = -1  # a window with no in-bounds tap keeps -inf and -1
                for kh in range(KH):
                    h = oh * SH - PH + kh * DH
                    if h < 0 or h >= H:
                        continue
                    for kw in range(KW):
                        w = ow * SW - PW + kw * DW
                        if w < 0 or w >= W:
                            continue
                        v = x[p, h, w]
                        # the first in-bounds tap, then strict > (or NaN, which wins)
                        if best_i < 0 or v > best or np.isnan(v):
                            best = v
                            best_i = h * W + w
                y[p, oh, ow] = best
                idx[p, oh, ow] = best_i


@functools.lru_cache(maxsize=256)
def _tap_outputs(L, K, S, P, D, O):
    """Which outputs read each input position along one axis -> count (L,), outs (L, K).

    Input position i is tap k of output o = (i + P - k*D) / S when that division is exact and
    0 <= o < O; outs[i, :count[i]] lists those o in increasing order (k decreasing). Tabulating
    this once keeps integer divisions out of the per-element loop. Plain Python, kept per
    geometry (the tables are read-only): compiling it cost a cold start 0.6 s, more than
    any run spends building tables.
    """
    count = np.zeros(L, np.int64)
    outs = np.zeros((L, K), np.int64)
    for i in range(L):
        for k in range(K - 1, -1, -1):
            t = i + P - k * D
            if t >= 0 and t % S == 0 and t // S < O:
                outs[i, count[i]] = t // S
                count[i] += 1
    count.flags.writeable = outs.flags.writeable = False
    return count, outs


@njit(cache=True, parallel=PARALLEL)
def _maxpool_backward_kernel(gy, idx, nh, oh_of, nw, ow_of, gx):
    """gy, idx (P, OH, OW) -> gx (P, H, W), in place: gx[h, w] gathers gy from the windows
    that read (h, w) (tables from _tap_outputs) and picked it (idx == h*W + w)."""
    NP, H, W = gx.shape
    for p in prange(NP):
        for h in range(H):
            dst = gx[p, h]  # (W,)
            dst[:] = 0
            for i in range(nh[h]):  # output rows in increasing order
                picked = idx[p, oh_of[h, i]]  # (OW,)
                g = gy[p, oh_of[h, i]]
                base = h * W
                for w in range(W):
                    for j in range(nw[w]):
                        ow = ow_of[w, j]
                        if picked[ow] == base + w:
                            dst[w] += g[ow]


@njit(cache=True)
def _avg_axis(O, S, P, K, L, count_include_pad):
    """Windows of average pooling along one axis -> start, end (O,) in bounds, factor (O,).

    PyTorch's rule: the window [o*S - P, o*S - P + K) is first cut at L + P; factor is the
    length of that (padded) window if count_include_pad, else of its in-bounds part.
    """
    start = np.empty(O, np.int64)
    end = np.empty(O, np.int64)
    factor = np.empty(O, np.int64)
    for o in range(O):
        s = o * S - P
        e = min(s + K, L + P)
        padded = e - s
        s, e = max(s, 0), min(e, L)
        start[o], end[o] = s, max(e, s)
        factor[o] = padded if count_include_pad else end[o] - start[o]
    return start, end, factor


@njit(cache=True)
def _adaptive_axis(O, L):
    """Windows of adaptive pooling along one axis: [floor(o*L/O), ceil((o+1)*L/O)), factor."""
    start = np.empty(O, np.int64)
    end = np.empty(O, np.int64)
    for o in range(O):
        start[o] = (o * L) // O
        end[o] = -((-(o + 1) * L) // O)
    return start, end, end - start


@njit(cache=True)
def _covering(start, end, L):
    """For each input position i (L,), the outputs [lo[i], hi[i]) whose window holds i.

    Windows have non-decreasing starts and ends, so those outputs are contiguous; an input in
    no window gets lo >= hi.
    """
    O = start.shape[0]
    lo = np.full(L, O, np.int64)
    hi = np.zeros(L, np.int64)
    for o in range(O):
        for i in range(start[o], end[o]):
            lo[i] = min(lo[i], o)
            hi[i] = max(hi[i], o + 1)
    return lo, hi


@njit(cache=True, parallel=PARALLEL)
def _window_mean_kernel(x, hs, he, fh, ws, we, fw, y):
    """x (P, H, W) -> y (P, OH, OW): window sum / (fh[oh] * fw[ow]); 0 for an empty window."""
    NP = x.shape[0]
    OH, OW = y.shape[1], y.shape[2]
    for p in prange(NP):
        for oh in range(OH):
            for ow in range(OW):
                if he[oh] <= hs[oh] or we[ow] <= ws[ow]:
                    y[p, oh, ow] = 0
                    continue
                acc = 0.0
                for h in range(hs[oh], he[oh]):
                    for w in range(ws[ow], we[ow]):
                        acc += x[p, h, w]
                y[p, oh, ow] = acc / (fh[oh] * fw[ow])


@njit(cache=True, parallel=PARALLEL)
def _window_sum_backward_kernel(g, lo_h, hi_h, lo_w, hi_w, gx):
    """g (P, OH, OW) -> gx (P, H, W): gx[h, w] = sum of g over the windows holding (h, w).

    g is gy already divided by each window's divisor, so this is a pure gather of sums.
    """
    NP, H, W = gx.shape
    for p in prange(NP):
        for h in range(H):
            dst = gx[p, h]  # (W,)
            dst[:] = 0
            for oh in range(lo_h[h], hi_h[h]):
                src = g[p, oh]  # (OW,)
                for w in range(W):
                    for ow in range(lo_w[w], hi_w[w]):
                        dst[w] += src[ow]


@njit(cache=True, parallel=PARALLEL)
def _window_max_kernel(x, hs, he, ws, we, y, idx):
    """x (P, H, W) -> y, idx (P, OH, OW): first maximum of each window in row-major order
    (or its last NaN, as for max pooling)."""
    NP, H, W = x.shape
    OH, OW = y.shape[1], y.shape[2]
    for p in prange(NP):
        for oh in range(OH):
            for ow in range(OW):
                best = -np.inf
                best_i = -1
                for h in range(hs[oh], he[oh]):
                    for w in range(ws[ow], we[ow]):
                        v = x[p, h, w]
                        if best_i < 0 or v > best or np.isnan(v):
                            best = v
                            best_i = h * W + w
                y[p, oh, ow] = best
                idx[p, oh, ow] = best_i


@njit(cache=True, parallel=PARALLEL)
def _window_max_backward_kernel(gy, idx, lo_h, hi_h, lo_w, hi_w, gx):
    """gy, idx (P, OH, OW) -> gx (P, H, W): gy of the covering windows that picked (h, w)."""
    NP, H, W = gx.shape
    for p in prange(NP):
        for h in range(H):
            dst = gx[p, h]  # (W,)
            dst[:] = 0
            for oh in range(lo_h[h], hi_h[h]):
                picked = idx[p, oh]  # (OW,)
                src = gy[p, oh]
                for w in range(W):
                    for ow in range(lo_w[w], hi_w[w]):
                        if picked[ow] == h * W + w:
                            dst[w] += src[ow]


def _divisor(fh: np.ndarray, fw: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Divisor (OH, OW) of each window from its per-axis factors; 1 where a factor is 0 (an
    empty window, which no input element reads back from)."""
    div = fh[:, None] * fw[None, :]
    return np.where(div > 0, div, 1).astype(dtype)


def _planes(a: np.ndarray) -> np.ndarray:
    """(N, C, A, B) -> (N*C, A, B), a view of the planes (the arrays are contiguous)."""
    N, C, A, B = a.shape
    return a.reshape(N * C, A, B)


def maxpool2d_forward(
    x: np.ndarray,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
    OH: int,
    OW: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling x (N, C, H, W) -> (y (N, C, OH, OW), idx (N, C, OH, OW) int64)."""
    N, C = x.shape[:2]
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    idx = np.empty((N, C, OH, OW), dtype=np.int64)
    _maxpool_forward_kernel(
        _planes(x), int(KH), int(KW), int(SH), int(SW), int(PH), int(PW), int(DH), int(DW),
        y.reshape(N * C, OH, OW), idx.reshape(N * C, OH, OW),
    )  # fmt: skip
    return y, idx


def maxpool2d_backward(
    gy: np.ndarray,
    idx: np.ndarray,
    H: int,
    W: int,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
) -> np.ndarray:
    """Max pooling gradient gy (N, C, OH, OW), idx -> gx (N, C, H, W)."""
    N, C, OH, OW = gy.shape
    nh, oh_of = _tap_outputs(int(H), int(KH), int(SH), int(PH), int(DH), OH)
    nw, ow_of = _tap_outputs(int(W), int(KW), int(SW), int(PW), int(DW), OW)
    gx = np.empty((N, C, H, W), dtype=gy.dtype)
    _maxpool_backward_kernel(
        _planes(gy), _planes(idx), nh, oh_of, nw, ow_of,
        gx.reshape(N * C, H, W),
    )  # fmt: skip
    return gx


def avgpool2d_forward(
    x: np.ndarray,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    OH: int,
    OW: int,
    count_include_pad: int,
) -> np.ndarray:
    """Average pooling x (N, C, H, W) -> y (N, C, OH, OW), PyTorch's divisor rules."""
    N, C, H, W = x.shape
    inc = bool(count_include_pad)
    hs, he, fh = _avg_axis(int(OH), int(SH), int(PH), int(KH), int(H), inc)
    ws, we, fw = _avg_axis(int(OW), int(SW), int(PW), int(KW), int(W), inc)
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    _window_mean_kernel(_planes(x), hs, he, fh, ws, we, fw, y.reshape(N * C, OH, OW))
    return y


def avgpool2d_backward(
    gy: np.ndarray,
    H: int,
    W: int,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    count_include_pad: int,
) -> np.ndarray:
    """Average pooling gradient gy (N, C, OH, OW) -> gx (N, C, H, W)."""
    N, C, OH, OW = gy.shape
    inc = bool(count_include_pad)
    hs, he, fh = _avg_axis(OH, int(SH), int(PH), int(KH), int(H), inc)
    ws, we, fw = _avg_axis(OW, int(SW), int(PW), int(KW), int(W), inc)
    lo_h, hi_h = _covering(hs, he, int(H))
    lo_w, hi_w = _covering(ws, we, int(W))
    g = gy / _divisor(fh, fw, gy.dtype)  # (N, C, OH, OW): what each window hands back
    gx = np.empty((N, C, H, W), dtype=gy.dtype)
    _window_sum_backward_kernel(_planes(g), lo_h, hi_h, lo_w, hi_w, gx.reshape(N * C, H, W))
    return gx


def adaptive_avgpool2d_forward(x: np.ndarray, OH: int, OW: int) -> np.ndarray:
    """Adaptive average pooling x (N, C, H, W) -> y (N, C, OH, OW)."""
    N, C, H, W = x.shape
    hs, he, fh = _adaptive_axis(int(OH), H)
    ws, we, fw = _adaptive_axis(int(OW), W)
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    _window_mean_kernel(_planes(x), hs, he, fh, ws, we, fw, y.reshape(N * C, OH, OW))
    return y


def adaptive_avgpool2d_backward(gy: np.ndarray, H: int, W: int) -> np.ndarray:
    """Adaptive average pooling gradient gy (N, C, OH, OW) -> gx (N, C, H, W)."""
    N, C, OH, OW = gy.shape
    hs, he, fh = _adaptive_axis(OH, int(H))
    ws, we, fw = _adaptive_axis(OW, int(W))
    lo_h, hi_h = _covering(hs, he, int(H))
    lo_w, hi_w = _covering(ws, we, int(W))
    g = gy / _divisor(fh, fw, gy.dtype)  # (N, C, OH, OW): what each window hands back
    gx = np.empty((N, C, H, W), dtype=gy.dtype)
    _window_sum_backward_kernel(_planes(g), lo_h, hi_h, lo_w, hi_w, gx.reshape(N * C, H, W))
    return gx


def adaptive_maxpool2d_forward(x: np.ndarray, OH: int, OW: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive max pooling x (N, C, H, W) -> (y (N, C, OH, OW), idx (N, C, OH, OW) int64)."""
    N, C, H, W = x.shape
    hs, he, _ = _adaptive_axis(int(OH), H)
    ws, we, _ = _adaptive_axis(int(OW), W)
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    idx = np.empty((N, C, OH, OW), dtype=np.int64)
    _window_max_kernel(
        _planes(x), hs, he, ws, we, y.reshape(N * C, OH, OW), idx.reshape(N * C, OH, OW)
    )
    return y, idx


def adaptive_maxpool2d_backward(gy: np.ndarray, idx: np.ndarray, H: int, W: int) -> np.ndarray:
    """Adaptive max pooling gradient gy (N, C, OH, OW), idx -> gx (N, C, H, W)."""
    N, C, OH, OW = gy.shape
    hs, he, _ = _adaptive_axis(OH, int(H))
    ws, we, _ = _adaptive_axis(OW, int(W))
    lo_h, hi_h = _covering(hs, he, int(H))
    lo_w, hi_w = _covering(ws, we, int(W))
    gx = np.empty((N, C, H, W), dtype=gy.dtype)
    _window_max_backward_kernel(
        _planes(gy), _planes(idx), lo_h, hi_h, lo_w, hi_w, gx.reshape(N * C, H, W),
    )  # fmt: skip
    return gx
