"""Direct twins of the heavy kernels, compiled by Numba: the definitions as plain loops.

Read these before the fast kernels. Each is the loop nest of ``numpy_ref/direct.py`` with the
outer loop turned into ``prange`` over output planes: one iteration owns every element of its
plane (y[n, o] for the convolution, gx[n, c] for its input gradient, gw[o, c] for its weight
gradient, one (n, c) plane for pooling, one channel for batch norm), so no two threads write the
same slot and nothing needs atomics. Backward kernels are gathers: each element visits the
outputs whose window reads it. Nothing is blocked, packed or tiled; sums run in float64. The
window rules (which output reads which input, average and adaptive windows, how a NaN wins a
max) are the NumPy twins' functions, compiled as they are.

The fast kernels (conv.py with gemm.py and pack.py, pool.py, norm.py) are the advanced reading:
they compute the same numbers, and ``benchmarks/conv_variants`` measures what the plain loops
below cost against them.
"""

import numpy as np
from numba import njit, prange

from ..numpy_ref import direct as rules

out_size = njit(cache=True)(rules.out_size)
tap_output = njit(cache=True)(rules.tap_output)
takes_max = njit(cache=True)(rules.takes_max)
avg_window = njit(cache=True)(rules.avg_window)
adaptive_window = njit(cache=True)(rules.adaptive_window)
adaptive_outputs = njit(cache=True)(rules.adaptive_outputs)


@njit(cache=True, parallel=True)
def conv2d_forward_direct(x, w, b, SH, SW, PH, PW, DH, DW, G):
    """Convolution x (N, C, H, W), w (OC, C//G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW).

    One prange iteration owns the plane y[n, o]: each of its elements is b[o] plus the sum of
    w[o, c, kh, kw] * x[n, c0 + c, ih, iw] over the channels c of o's group (which start at c0)
    and the taps (kh, kw) that land inside the input.
    """
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    y = np.empty((N, OC, OH, OW), x.dtype)
    for p in prange(N * OC):
        n, o = p // OC, p % OC
        c0 = o // (OC // G) * Cg
        for oh in range(OH):
            for ow in range(OW):
                acc = 0.0 if b is None else np.float64(b[o])
                for c in range(Cg):
                    for kh in range(KH):
                        ih = oh * SH - PH + kh * DH
                        if ih < 0 or ih >= H:
                            continue
                        for kw in range(KW):
                            iw = ow * SW - PW + kw * DW
                            if 0 <= iw < W:
                                acc += w[o, c, kh, kw] * x[n, c0 + c, ih, iw]
                y[n, o, oh, ow] = acc
    return y


@njit(cache=True, parallel=True)
def conv2d_backward_input_direct(gy, w, H, W, SH, SW, PH, PW, DH, DW, G):
    """Input gradient gy (N, OC, OH, OW), w (OC, C//G, KH, KW) -> gx (N, C, H, W).

    One prange iteration owns the plane gx[n, c]: its element (ih, iw) gathers
    gy[n, o, oh, ow] * w[o, c - c0, kh, kw] over the output channels o of c's group and the taps
    (kh, kw) of the outputs (oh, ow) that read (ih, iw).
    """
    N, OC, OH, OW = gy.shape
    _, Cg, KH, KW = w.shape
    C, OCg = G * Cg, OC // G
    gx = np.empty((N, C, H, W), gy.dtype)
    for p in prange(N * C):
        n, c = p // C, p % C
        g = c // Cg
        for ih in range(H):
            for iw in range(W):
                acc = 0.0
                for o in range(g * OCg, (g + 1) * OCg):
                    for kh in range(KH):
                        oh = tap_output(ih, kh, SH, PH, DH, OH)
                        if oh < 0:
                            continue
                        for kw in range(KW):
                            ow = tap_output(iw, kw, SW, PW, DW, OW)
                            if ow >= 0:
                                acc += gy[n, o, oh, ow] * w[o, c - g * Cg, kh, kw]
                gx[n, c, ih, iw] = acc
    return gx


@njit(cache=True, parallel=True)
def conv2d_backward_weight_direct(gy, x, KH, KW, SH, SW, PH, PW, DH, DW, G):
    """Weight gradient gy (N, OC, OH, OW), x (N, C, H, W) -> gw (OC, C//G, KH, KW).

    One prange iteration owns the KH x KW plane gw[o, c]: its element (kh, kw) sums
    gy[n, o, oh, ow] * x[n, c0 + c, ih, iw] over the batch and the outputs whose tap (kh, kw)
    lands inside the input.
    """
    N, OC, OH, OW = gy.shape
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    Cg = C // G
    gw = np.empty((OC, Cg, KH, KW), gy.dtype)
    for p in prange(OC * Cg):
        o, c = p // Cg, p % Cg
        c0 = o // (OC // G) * Cg
        for kh in range(KH):
            for kw in range(KW):
                acc = 0.0
                for n in range(N):
                    for oh in range(OH):
                        ih = oh * SH - PH + kh * DH
                        if ih < 0 or ih >= H:
                            continue
                        for ow in range(OW):
                            iw = ow * SW - PW + kw * DW
                            if 0 <= iw < W:
                                acc += gy[n, o, oh, ow] * x[n, c0 + c, ih, iw]
                gw[o, c, kh, kw] = acc
    return gw


@njit(cache=True, parallel=True)
def maxpool2d_forward_direct(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    """Max pooling x (N, C, H, W) -> (y, idx (N, C, OH, OW) int64).

    One prange iteration owns the (n, c) plane of y and idx: each cell walks its window's
    in-bounds taps (kh outer, kw inner), keeps the running maximum by takes_max (NaN wins) and
    records where it came from, h*W + w.
    """
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), x.dtype)
    idx = np.empty((N, C, OH, OW), np.int64)
    for p in prange(N * C):
        n, c = p // C, p % C
        for oh in range(OH):
            for ow in range(OW):
                best, best_i = -np.inf, -1
                for kh in range(KH):
                    h = oh * SH - PH + kh * DH
                    if h < 0 or h >= H:
                        continue
                    for kw in range(KW):
                        w = ow * SW - PW + kw * DW
                        if 0 <= w < W and takes_max(x[n, c, h, w], best, best_i):
                            best, best_i = x[n, c, h, w], h * W + w
                y[n, c, oh, ow], idx[n, c, oh, ow] = best, best_i
    return y, idx


@njit(cache=True, parallel=True)
def maxpool2d_backward_direct(gy, idx, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """Max pooling gradient gy, idx (N, C, OH, OW) -> gx (N, C, H, W).

    One prange iteration owns the (n, c) plane of gx: element (h, w) gathers gy from the
    outputs whose window reads (h, w) (found by tap_output) and chose it (idx == h*W + w).
    """
    N, C, OH, OW = gy.shape
    gx = np.empty((N, C, H, W), gy.dtype)
    for p in prange(N * C):
        n, c = p // C, p % C
        for h in range(H):
            for w in range(W):
                acc = 0.0
                for kh in range(KH):
                    oh = tap_output(h, kh, SH, PH, DH, OH)
                    for kw in range(KW):
                        ow = tap_output(w, kw, SW, PW, DW, OW)
                        if oh >= 0 and ow >= 0 and idx[n, c, oh, ow] == h * W + w:
                            acc += gy[n, c, oh, ow]
                gx[n, c, h, w] = acc
    return gx


@njit(cache=True, parallel=True)
def avgpool2d_forward_direct(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad):
    """Average pooling x (N, C, H, W) -> y (N, C, OH, OW).

    One prange iteration owns the (n, c) plane of y: each cell sums its window's in-bounds
    elements and divides by the divisor avg_window gives (0 for a window with none).
    """
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), x.dtype)
    for p in prange(N * C):
        n, c = p // C, p % C
        for oh in range(OH):
            h0, h1, ph = avg_window(oh, KH, SH, PH, H)
            for ow in range(OW):
                w0, w1, pw = avg_window(ow, KW, SW, PW, W)
                acc = 0.0
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        acc += x[n, c, h, w]
                div = ph * pw if count_include_pad else (h1 - h0) * (w1 - w0)
                y[n, c, oh, ow] = acc / div if h0 < h1 and w0 < w1 else 0.0
    return y


@njit(cache=True, parallel=True)
def avgpool2d_backward_direct(gy, H, W, KH, KW, SH, SW, PH, PW, count_include_pad):
    """Average pooling gradient gy (N, C, OH, OW) -> gx (N, C, H, W).

    One prange iteration owns the (n, c) plane of gx: element (h, w) gathers gy / divisor from
    the outputs whose window holds it, the outputs of which it is a tap.
    """
    N, C, OH, OW = gy.shape
    gx = np.empty((N, C, H, W), gy.dtype)
    for p in prange(N * C):
        n, c = p // C, p % C
        for h in range(H):
            for w in range(W):
                acc = 0.0
                for kh in range(KH):
                    oh = tap_output(h, kh, SH, PH, 1, OH)
                    for kw in range(KW):
                        ow = tap_output(w, kw, SW, PW, 1, OW)
                        if oh >= 0 and ow >= 0:
                            h0, h1, ph = avg_window(oh, KH, SH, PH, H)
                            w0, w1, pw = avg_window(ow, KW, SW, PW, W)
                            div = ph * pw if count_include_pad else (h1 - h0) * (w1 - w0)
                            acc += gy[n, c, oh, ow] / div
                gx[n, c, h, w] = acc
    return gx


@njit(cache=True, parallel=True)
def adaptive_avgpool2d_forward_direct(x, OH, OW):
    """Adaptive average pooling x (N, C, H, W) -> y (N, C, OH, OW).

    One prange iteration owns the (n, c) plane of y: each cell is the mean of its window.
    """
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), x.dtype)
    for p in prange(N * C):
        n, c = p // C, p % C
        for oh in range(OH):
            h0, h1 = adaptive_window(oh, OH, H)
            for ow in range(OW):
                w0, w1 = adaptive_window(ow, OW, W)
                acc = 0.0
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        acc += x[n, c, h, w]
                y[n, c, oh, ow] = acc / ((h1 - h0) * (w1 - w0))
    return y


@njit(cache=True, parallel=True)
def adaptive_avgpool2d_backward_direct(gy, H, W):
    """Adaptive average pooling gradient gy (N, C, OH, OW) -> gx (N, C, H, W).

    One prange iteration owns the (n, c) plane of gx: element (h, w) gathers gy / (window size)
    from the windows holding it (adaptive_outputs).
    """
    N, C, OH, OW = gy.shape
    gx = np.empty((N, C, H, W), gy.dtype)
    for p in prange(N * C):
        n, c = p // C, p % C
        for h in range(H):
            lo_h, hi_h = adaptive_outputs(h, OH, H)
            for w in range(W):
                lo_w, hi_w = adaptive_outputs(w, OW, W)
                acc = 0.0
                for oh in range(lo_h, hi_h):
                    h0, h1 = adaptive_window(oh, OH, H)
                    for ow in range(lo_w, hi_w):
                        w0, w1 = adaptive_window(ow, OW, W)
                        acc += gy[n, c, oh, ow] / ((h1 - h0) * (w1 - w0))
                gx[n, c, h, w] = acc
    return gx


@njit(cache=True, parallel=True)
def adaptive_maxpool2d_forward_direct(x, OH, OW):
    """Adaptive max pooling x (N, C, H, W) -> (y, idx (N, C, OH, OW) int64).

    One prange iteration owns the (n, c) plane of y and idx: each cell walks its window in
    row-major order with takes_max, as maxpool2d_forward_direct.
    """
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), x.dtype)
    idx = np.empty((N, C, OH, OW), np.int64)
    for p in prange(N * C):
        n, c = p // C, p % C
        for oh in range(OH):
            h0, h1 = adaptive_window(oh, OH, H)
            for ow in range(OW):
                w0, w1 = adaptive_window(ow, OW, W)
                best, best_i = -np.inf, -1
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        if takes_max(x[n, c, h, w], best, best_i):
                            best, best_i = x[n, c, h, w], h * W + w
                y[n, c, oh, ow], idx[n, c, oh, ow] = best, best_i
    return y, idx


@njit(cache=True, parallel=True)
def adaptive_maxpool2d_backward_direct(gy, idx, H, W):
    """Adaptive max pooling gradient gy, idx (N, C, OH, OW) -> gx (N, C, H, W).

    One prange iteration owns the (n, c) plane of gx: element (h, w) gathers gy from the
    windows holding it that chose it.
    """
    N, C, OH, OW = gy.shape
    gx = np.empty((N, C, H, W), gy.dtype)
    for p in prange(N * C):
        n, c = p // C, p % C
        for h in range(H):
            lo_h, hi_h = adaptive_outputs(h, OH, H)
            for w in range(W):
                lo_w, hi_w = adaptive_outputs(w, OW, W)
                acc = 0.0
                for oh in range(lo_h, hi_h):
                    for ow in range(lo_w, hi_w):
                        if idx[n, c, oh, ow] == h * W + w:
                            acc += gy[n, c, oh, ow]
                gx[n, c, h, w] = acc
    return gx


@njit(cache=True, parallel=True)
def batchnorm_forward_train_direct(x, gamma, beta, eps):
    """Training batch norm x (N, C, L) -> (y (N, C, L), mean (C,), invstd (C,)).

    One prange iteration owns channel c: it sums the channel's M = N*L values for the mean,
    then the squared deviations for the biased variance, then writes y[:, c].
    """
    N, C, L = x.shape
    y = np.empty((N, C, L), x.dtype)
    mean, invstd = np.empty(C, x.dtype), np.empty(C, x.dtype)
    for c in prange(C):
        s = 0.0
        for n in range(N):
            for l in range(L):
                s += x[n, c, l]
        m = s / (N * L)
        s = 0.0
        for n in range(N):
            for l in range(L):
                s += (x[n, c, l] - m) ** 2
        inv = 1.0 / np.sqrt(s / (N * L) + eps)
        for n in range(N):
            for l in range(L):
                y[n, c, l] = (x[n, c, l] - m) * inv * gamma[c] + beta[c]
        mean[c], invstd[c] = m, inv
    return y, mean, invstd


@njit(cache=True, parallel=True)
def batchnorm_forward_eval_direct(x, running_mean, running_var, gamma, beta, eps):
    """Inference batch norm x (N, C, L) -> y (N, C, L).

    One prange iteration owns channel c: y[:, c] = (x[:, c] - running_mean[c]) /
    sqrt(running_var[c] + eps) * gamma[c] + beta[c].
    """
    N, C, L = x.shape
    y = np.empty((N, C, L), x.dtype)
    for c in prange(C):
        inv = 1.0 / np.sqrt(np.float64(running_var[c]) + eps)
        for n in range(N):
            for l in range(L):
                y[n, c, l] = (x[n, c, l] - running_mean[c]) * inv * gamma[c] + beta[c]
    return y


@njit(cache=True, parallel=True)
def batchnorm_backward_direct(gy, x, gamma, mean, invstd):
    """Training batch norm gradient gy, x (N, C, L) -> (gx (N, C, L), ggamma (C,), gbeta (C,)).

    One prange iteration owns channel c: with xhat = (x - mean) * invstd and M = N*L it sums
    gbeta = sum gy and ggamma = sum gy * xhat, then writes
    gx[:, c] = gamma * invstd / M * (M * gy - gbeta - xhat * ggamma).
    """
    N, C, L = x.shape
    M = N * L
    gx = np.empty((N, C, L), gy.dtype)
    ggamma, gbeta = np.empty(C, gy.dtype), np.empty(C, gy.dtype)
    for c in prange(C):
        sg, sgx = 0.0, 0.0
        for n in range(N):
            for l in range(L):
                sg += gy[n, c, l]
                sgx += gy[n, c, l] * (x[n, c, l] - mean[c]) * invstd[c]
        k = gamma[c] * invstd[c] / M
        for n in range(N):
            for l in range(L):
                xhat = (x[n, c, l] - mean[c]) * invstd[c]
                gx[n, c, l] = k * (M * gy[n, c, l] - sg - xhat * sgx)
        ggamma[c], gbeta[c] = sgx, sg
    return gx, ggamma, gbeta
