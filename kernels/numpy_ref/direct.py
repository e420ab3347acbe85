"""Direct twins of the heavy kernels in NumPy: every output computed by the loops of its definition.

The same loop nests appear, compiled, in ``numba_cpu/direct.py`` (the outer loop becomes one
``prange`` iteration per output plane) and in ``cuda/direct.cu`` (one thread per output
element); read the three side by side. Here the loops run over output positions and window
taps, and each step is vectorised over the batch and the channels, so the twins are slow but
usable on test-sized inputs. The contract functions of this package (im2col + GEMM for the
convolution, one strided slice per window tap for pooling) are held to them by the tests.

Backward kernels are gathers: each element of gx visits the outputs whose window reads it and
sums what they send back, as a parallel kernel must (no two outputs then write the same slot).
Input row h is tap k of output row o exactly when h = o*S - P + k*D, so the outputs that read
h are o = (h + P - k*D) / S for the taps k where that division is exact and 0 <= o < O
(:func:`tap_output`). The small integer functions below are the window rules shared by the
NumPy and Numba twins (``numba_cpu/direct.py`` compiles them as they are).

Max pooling propagates NaN as PyTorch does: a NaN tap always wins, so a window holding NaN
gives NaN and its index points at the window's last NaN; otherwise strict ``>`` keeps the
first maximum in window order.
"""

import numpy as np

from ..geometry import out_size


def tap_output(i, k, S, P, D, O):
    """The output whose tap k reads input position i along one axis, or -1 if none does."""
    t = i + P - k * D  # = o*S for the output o, if there is one
    if t < 0 or t % S != 0 or t // S >= O:
        return -1
    return t // S


def takes_max(v, best, best_i):
    """Whether tap value v replaces the window's running maximum: the first tap always does,
    then a larger value, or NaN (as PyTorch: NaN wins, and a later NaN wins over an earlier)."""
    return (best_i < 0) | (v > best) | (v != v)  # v != v only for NaN


def avg_window(o, K, S, P, L):
    """Average-pooling output o along one axis -> (start, end, padded): the in-bounds window
    [start, end) and the length count_include_pad divides by. PyTorch cuts the window
    [o*S - P, o*S - P + K) at L + P, the end of the right padding, before either count."""
    start = o * S - P
    end = min(start + K, L + P)
    return max(start, 0), min(end, L), end - start


def adaptive_window(o, O, L):
    """Adaptive output o of O over L inputs covers [floor(o*L/O), ceil((o+1)*L/O))."""
    return o * L // O, -(-(o + 1) * L // O)


def adaptive_outputs(i, O, L):
    """The outputs [lo, hi) whose adaptive window holds input i: o*L/O < i + 1 and
    (o + 1)*L/O > i give floor(i*O/L) <= o < ceil((i + 1)*O/L)."""
    return i * O // L, min(O, -(-(i + 1) * O // L))


def conv2d_forward_direct(x, w, b, SH, SW, PH, PW, DH, DW, G):
    """Convolution x (N, C, H, W), w (OC, C//G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW).

    One step per (group, output position, tap) adds x[:, ci, ih, iw] @ w[co, :, kh, kw].T for
    the group's channels ci, co; taps in the zero padding add nothing and are skipped.
    """
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    OCg = OC // G
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    y = np.zeros((N, OC, OH, OW), dtype=x.dtype)
    for g in range(G):
        ci = slice(g * Cg, (g + 1) * Cg)  # input channels of group g
        co = slice(g * OCg, (g + 1) * OCg)  # output channels of group g
        for oh in range(OH):
            for ow in range(OW):
                for kh in range(KH):
                    ih = oh * SH - PH + kh * DH
                    if ih < 0 or ih >= H:
                        continue
                    for kw in range(KW):
                        iw = ow * SW - PW + kw * DW
                        if 0 <= iw < W:  # (N, C/G) @ (C/G, OC/G) -> (N, OC/G)
                            y[:, co, oh, ow] += x[:, ci, ih, iw] @ w[co, :, kh, kw].T
    if b is not None:
        y += b.reshape(1, OC, 1, 1)
    return y


def conv2d_backward_input_direct(gy, w, H, W, SH, SW, PH, PW, DH, DW, G):
    """Input gradient gy (N, OC, OH, OW), w (OC, C//G, KH, KW) -> gx (N, C, H, W), a gather.

    gx[:, ci, ih, iw] sums gy[:, co, oh, ow] @ w[co, :, kh, kw] over the taps (kh, kw) and
    outputs (oh, ow) that read input (ih, iw).
    """
    N, OC, OH, OW = gy.shape
    _, Cg, KH, KW = w.shape
    OCg = OC // G
    gx = np.zeros((N, G * Cg, H, W), dtype=gy.dtype)
    for g in range(G):
        ci = slice(g * Cg, (g + 1) * Cg)
        co = slice(g * OCg, (g + 1) * OCg)
        for ih in range(H):
            for iw in range(W):
                for kh in range(KH):
                    oh = tap_output(ih, kh, SH, PH, DH, OH)
                    if oh < 0:
                        continue
                    for kw in range(KW):
                        ow = tap_output(iw, kw, SW, PW, DW, OW)
                        if ow >= 0:  # (N, OC/G) @ (OC/G, C/G) -> (N, C/G)
                            gx[:, ci, ih, iw] += gy[:, co, oh, ow] @ w[co, :, kh, kw]
    return gx


def conv2d_backward_weight_direct(gy, x, KH, KW, SH, SW, PH, PW, DH, DW, G):
    """Weight gradient gy (N, OC, OH, OW), x (N, C, H, W) -> gw (OC, C//G, KH, KW).

    gw[co, :, kh, kw] sums gy[:, co, oh, ow].T @ x[:, ci, ih, iw] over the batch and every
    output (oh, ow) whose tap (kh, kw) lands inside the input.
    """
    N, OC, OH, OW = gy.shape
    C, H, W = x.shape[1:]
    Cg, OCg = C // G, OC // G
    gw = np.zeros((OC, Cg, KH, KW), dtype=x.dtype)
    for g in range(G):
        ci = slice(g * Cg, (g + 1) * Cg)
        co = slice(g * OCg, (g + 1) * OCg)
        for kh in range(KH):
            for kw in range(KW):
                for oh in range(OH):
                    ih = oh * SH - PH + kh * DH
                    if ih < 0 or ih >= H:
                        continue
                    for ow in range(OW):
                        iw = ow * SW - PW + kw * DW
                        if 0 <= iw < W:  # (OC/G, N) @ (N, C/G) -> (OC/G, C/G)
                            gw[co, :, kh, kw] += gy[:, co, oh, ow].T @ x[:, ci, ih, iw]
    return gw


def maxpool2d_forward_direct(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    """Max pooling x (N, C, H, W) -> (y, idx (N, C, OH, OW) int64), idx = h*W + w of the winner.

    Each output cell walks its window's in-bounds taps in order (kh outer, kw inner) and keeps
    the running maximum by :func:`takes_max`; padding is never read, so it never wins.
    """
    N, C, H, W = x.shape
    y = np.full((N, C, OH, OW), -np.inf, dtype=x.dtype)
    idx = np.full((N, C, OH, OW), -1, dtype=np.int64)
    for oh in range(OH):
        for ow in range(OW):
            best, best_i = y[:, :, oh, ow], idx[:, :, oh, ow]  # (N, C) views
            for kh in range(KH):
                h = oh * SH - PH + kh * DH
                if h < 0 or h >= H:
                    continue
                for kw in range(KW):
                    w = ow * SW - PW + kw * DW
                    if 0 <= w < W:
                        take = takes_max(x[:, :, h, w], best, best_i)
                        best[take], best_i[take] = x[:, :, h, w][take], h * W + w
    return y, idx


def maxpool2d_backward_direct(gy, idx, H, W, KH, KW, SH, SW, PH, PW, DH, DW):
    """Max pooling gradient gy, idx (N, C, OH, OW) -> gx (N, C, H, W), a gather: gx[h, w] sums
    gy over the outputs whose window reads (h, w) and chose it (idx == h*W + w)."""
    N, C, OH, OW = gy.shape
    gx = np.zeros((N, C, H, W), dtype=gy.dtype)
    for h in range(H):
        for w in range(W):
            for kh in range(KH):
                oh = tap_output(h, kh, SH, PH, DH, OH)
                for kw in range(KW):
                    ow = tap_output(w, kw, SW, PW, DW, OW)
                    if oh >= 0 and ow >= 0:
                        chose = idx[:, :, oh, ow] == h * W + w  # (N, C)
                        gx[:, :, h, w] += np.where(chose, gy[:, :, oh, ow], 0)
    return gx


def avgpool2d_forward_direct(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad):
    """Average pooling x (N, C, H, W) -> y (N, C, OH, OW): each window's in-bounds sum over its
    divisor (:func:`avg_window`); a window with no in-bounds element gives 0."""
    N, C, H, W = x.shape
    y = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for oh in range(OH):
        h0, h1, ph = avg_window(oh, KH, SH, PH, H)
        for ow in range(OW):
            w0, w1, pw = avg_window(ow, KW, SW, PW, W)
            if h0 < h1 and w0 < w1:
                div = ph * pw if count_include_pad else (h1 - h0) * (w1 - w0)
                y[:, :, oh, ow] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / div
    return y


def avgpool2d_backward_direct(gy, H, W, KH, KW, SH, SW, PH, PW, count_include_pad):
    """Average pooling gradient gy (N, C, OH, OW) -> gx (N, C, H, W), a gather: gx[h, w] sums
    gy / divisor over the outputs whose window holds (h, w). An in-bounds element is in the cut
    window exactly when it is a tap of the uncut one, so tap_output finds the outputs."""
    N, C, OH, OW = gy.shape
    gx = np.zeros((N, C, H, W), dtype=gy.dtype)
    for h in range(H):
        for w in range(W):
            for kh in range(KH):
                oh = tap_output(h, kh, SH, PH, 1, OH)
                for kw in range(KW):
                    ow = tap_output(w, kw, SW, PW, 1, OW)
                    if oh >= 0 and ow >= 0:
                        h0, h1, ph = avg_window(oh, KH, SH, PH, H)
                        w0, w1, pw = avg_window(ow, KW, SW, PW, W)
                        div = ph * pw if count_include_pad else (h1 - h0) * (w1 - w0)
                        gx[:, :, h, w] += gy[:, :, oh, ow] / div
    return gx


def adaptive_avgpool2d_forward_direct(x, OH, OW):
    """Adaptive average pooling x (N, C, H, W) -> y (N, C, OH, OW): the mean of each window."""
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    for oh in range(OH):
        h0, h1 = adaptive_window(oh, OH, H)
        for ow in range(OW):
            w0, w1 = adaptive_window(ow, OW, W)
            y[:, :, oh, ow] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / ((h1 - h0) * (w1 - w0))
    return y


def adaptive_avgpool2d_backward_direct(gy, H, W):
    """Adaptive average pooling gradient gy (N, C, OH, OW) -> gx (N, C, H, W), a gather:
    gx[h, w] sums gy / (window size) over the windows holding (h, w)."""
    N, C, OH, OW = gy.shape
    gx = np.zeros((N, C, H, W), dtype=gy.dtype)
    for h in range(H):
        for w in range(W):
            for oh in range(*adaptive_outputs(h, OH, H)):
                h0, h1 = adaptive_window(oh, OH, H)
                for ow in range(*adaptive_outputs(w, OW, W)):
                    w0, w1 = adaptive_window(ow, OW, W)
                    gx[:, :, h, w] += gy[:, :, oh, ow] / ((h1 - h0) * (w1 - w0))
    return gx


def adaptive_maxpool2d_forward_direct(x, OH, OW):
    """Adaptive max pooling x (N, C, H, W) -> (y, idx (N, C, OH, OW) int64), windows walked in
    row-major order with :func:`takes_max`, as maxpool2d_forward_direct."""
    N, C, H, W = x.shape
    y = np.full((N, C, OH, OW), -np.inf, dtype=x.dtype)
    idx = np.full((N, C, OH, OW), -1, dtype=np.int64)
    for oh in range(OH):
        h0, h1 = adaptive_window(oh, OH, H)
        for ow in range(OW):
            w0, w1 = adaptive_window(ow, OW, W)
            best, best_i = y[:, :, oh, ow], idx[:, :, oh, ow]  # (N, C) views
            for h in range(h0, h1):
                for w in range(w0, w1):
                    take = takes_max(x[:, :, h, w], best, best_i)
                    best[take], best_i[take] = x[:, :, h, w][take], h * W + w
    return y, idx


def adaptive_maxpool2d_backward_direct(gy, idx, H, W):
    """Adaptive max pooling gradient gy, idx (N, C, OH, OW) -> gx (N, C, H, W), a gather over
    the windows holding (h, w) that chose it."""
    N, C, OH, OW = gy.shape
    gx = np.zeros((N, C, H, W), dtype=gy.dtype)
    for h in range(H):
        for w in range(W):
            for oh in range(*adaptive_outputs(h, OH, H)):
                for ow in range(*adaptive_outputs(w, OW, W)):
                    chose = idx[:, :, oh, ow] == h * W + w  # (N, C)
                    gx[:, :, h, w] += np.where(chose, gy[:, :, oh, ow], 0)
    return gx


def batchnorm_forward_train_direct(x, gamma, beta, eps):
    """Training batch norm x (N, C, L) -> (y (N, C, L), mean (C,), invstd (C,)), one channel at
    a time: the mean and biased variance of its M = N*L values, then y."""
    N, C, L = x.shape
    y = np.empty_like(x)
    mean, invstd = np.empty(C, dtype=x.dtype), np.empty(C, dtype=x.dtype)
    for c in range(C):
        xc = x[:, c]  # (N, L)
        mean[c] = xc.sum() / (N * L)
        invstd[c] = 1 / np.sqrt(((xc - mean[c]) ** 2).sum() / (N * L) + eps)
        y[:, c] = (xc - mean[c]) * invstd[c] * gamma[c] + beta[c]
    return y, mean, invstd


def batchnorm_forward_eval_direct(x, running_mean, running_var, gamma, beta, eps):
    """Inference batch norm x (N, C, L) -> y (N, C, L), one channel at a time."""
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        invstd = 1 / np.sqrt(running_var[c] + eps)
        y[:, c] = (x[:, c] - running_mean[c]) * invstd * gamma[c] + beta[c]
    return y


def batchnorm_backward_direct(gy, x, gamma, mean, invstd):
    """Training batch norm gradient gy, x (N, C, L) -> (gx (N, C, L), ggamma (C,), gbeta (C,)).

    Per channel, with xhat = (x - mean) * invstd and M = N*L: gbeta = sum gy, ggamma =
    sum gy * xhat, gx = gamma * invstd / M * (M * gy - gbeta - xhat * ggamma).
    """
    N, C, L = x.shape
    M = N * L
    gx = np.empty_like(gy)
    ggamma, gbeta = np.empty(C, dtype=gy.dtype), np.empty(C, dtype=gy.dtype)
    for c in range(C):
        xhat = (x[:, c] - mean[c]) * invstd[c]  # (N, L)
        gbeta[c] = gy[:, c].sum()
        ggamma[c] = (gy[:, c] * xhat).sum()
        gx[:, c] = gamma[c] * invstd[c] / M * (M * gy[:, c] - gbeta[c] - xhat * ggamma[c])
    return gx, ggamma, gbeta
