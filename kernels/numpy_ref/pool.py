"""Max, average and adaptive pooling over x (N, C, H, W).

Window taps. Output row oh, kernel row kh reads input row h = oh*SH - PH + kh*DH (DH = 1 for
average pooling), and likewise for columns. Taps outside 0 .. H-1 are padding or, when the
caller picked OH by ceil mode, lie past the padded border. The vectorised kernels below loop
over the KH*KW taps; for one tap the positions read by all outputs form a strided slice of a
padded buffer whose row r holds input row r - PH. The buffer is large enough for every tap
(ceil-mode windows included), so slices never run off its end.

Max pooling records, for each output, the flat index h*W + w of the element it picked, so the
backward pass only has to route gy back to those elements. NaN propagates as in PyTorch, whose
kernels keep a tap when ``v > best or isnan(v)``: a window holding NaN gives NaN, and its index
points at the window's last NaN.
"""

import numpy as np


def _tap(k: int, D: int, S: int, O: int) -> slice:
    """Buffer rows (or columns) that kernel tap k reads for outputs 0 .. O-1."""
    return slice(k * D, k * D + (O - 1) * S + 1, S)


def _buffer_size(L: int, K: int, S: int, P: int, D: int, O: int) -> int:
    """Buffer length holding the padded input and every tap of O windows, ceil-mode ones too."""
    return max(L + 2 * P, (O - 1) * S + D * (K - 1) + 1)


def _inside(O: int, S: int, P: int, k: int, D: int, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Input positions (O,) that tap k reads for each output, and whether each lies in 0 .. L-1."""
    pos = np.arange(O) * S - P + k * D
    return pos, (pos >= 0) & (pos < L)


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
    """Max pooling x (N, C, H, W) -> (y (N, C, OH, OW), idx (N, C, OH, OW) int64).

    y[n, c, oh, ow] is the maximum of x[n, c, h, w] over the window's in-bounds taps
    h = oh*SH - PH + kh*DH, w = ow*SW - PW + kw*DW; padding acts as -inf and never wins.
    idx holds h*W + w of the first maximum in window order (kh outer, kw inner), or of the
    last NaN if the window holds any (then y is NaN). OH and OW
    come from the caller, who may pick ceil mode; every window must hold an in-bounds tap
    (one that holds none would be left at -inf with idx -1).
    """
    N, C, H, W = x.shape
    Hb = _buffer_size(H, KH, SH, PH, DH, OH)
    Wb = _buffer_size(W, KW, SW, PW, DW, OW)
    xp = np.full((N, C, Hb, Wb), -np.inf, dtype=x.dtype)  # padding is -inf, not 0
    xp[:, :, PH : PH + H, PW : PW + W] = x
    y = np.full((N, C, OH, OW), -np.inf, dtype=x.dtype)
    idx = np.full((N, C, OH, OW), -1, dtype=np.int64)
    for kh in range(KH):
        h, h_ok = _inside(OH, SH, PH, kh, DH, H)  # (OH,)
        for kw in range(KW):
            w, w_ok = _inside(OW, SW, PW, kw, DW, W)  # (OW,)
            v = xp[:, :, _tap(kh, DH, SH, OH), _tap(kw, DW, SW, OW)]  # (N, C, OH, OW)
            ok = h_ok[:, None] & w_ok[None, :]  # (OH, OW): the tap hits a real element
            # Strict > keeps the first maximum; a NaN always takes the window. The idx < 0
            # clause lets the first in-bounds tap claim the window even when its value is
            # -inf, so idx always names a real element.
            take = ok & ((v > y) | np.isnan(v) | (idx < 0))
            y = np.where(take, v, y)
            idx = np.where(take, h[:, None] * W + w[None, :], idx)
    return y, idx


def _scatter_to_index(gy: np.ndarray, idx: np.ndarray, H: int, W: int) -> np.ndarray:
    """gx (N, C, H, W): each gy[n, c, oh, ow] added to gx[n, c] at flat index idx[n, c, oh, ow]."""
    N, C = gy.shape[:2]
    plane = (np.arange(N * C) * (H * W)).reshape(N, C, 1, 1)  # offset of each (n, c) plane
    keep = idx >= 0  # skip windows that picked nothing
    gx = np.zeros(N * C * H * W, dtype=gy.dtype)
    # np.add.at, unlike gx[i] += v, adds every repeat of an index (overlapping windows)
    np.add.at(gx, (idx + plane)[keep], gy[keep])
    return gx.reshape(N, C, H, W)


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
    """Max pooling gradient gy (N, C, OH, OW), idx (N, C, OH, OW) -> gx (N, C, H, W).

    gx[n, c, h, w] = sum of gy[n, c, oh, ow] over the outputs whose idx equals h*W + w (the
    max is a selection, so its gradient routes gy to the selected element). Overlapping windows
    may pick the same element, hence a sum. This reference scatters with np.add.at for clarity;
    the parallel backends write it as a gather (each gx element visits the windows that can
    contain it), which is why the window geometry is in the signature. It is unused here.
    """
    return _scatter_to_index(gy, idx, H, W)


def _avg_bounds(O: int, S: int, P: int, K: int, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-output window sizes along one axis: (with padding (O,), in-bounds only (O,)).

    PyTorch's rule: the window [start, start + K) is cut at L + P, the end of the right padding,
    so a ceil-mode window hanging past it counts only up to there; the in-bounds size then also
    drops the padding.
    """
    start = np.arange(O) * S - P
    end = np.minimum(start + K, L + P)
    padded = end - start
    inside = np.minimum(end, L) - np.maximum(start, 0)
    return padded, np.maximum(inside, 0)


def _avg_divisor(
    H: int,
    W: int,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    OH: int,
    OW: int,
    count_include_pad: int,
    dtype: np.dtype,
) -> tuple[np.ndarray, np.ndarray]:
    """Divisor (OH, OW) of each window, and whether the window holds any input element."""
    pad_h, in_h = _avg_bounds(OH, SH, PH, KH, H)
    pad_w, in_w = _avg_bounds(OW, SW, PW, KW, W)
    inside = in_h[:, None] * in_w[None, :]  # (OH, OW) elements in the clipped window
    div = pad_h[:, None] * pad_w[None, :] if count_include_pad else inside
    nonempty = inside > 0
    # An empty window's sum is 0; dividing by 1 makes its output 0 and its gradient 0.
    return np.where(nonempty, div, 1).astype(dtype), nonempty


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
    """Average pooling x (N, C, H, W) -> y (N, C, OH, OW).

    y = (sum of the in-bounds elements of the window) / divisor, where with
    hstart = oh*SH - PH, hend = min(hstart + KH, H + PH) (and the same for w) the divisor is
    (hend - hstart) * (wend - wstart) if count_include_pad, else the number of in-bounds
    elements. A window with no in-bounds element gives 0.
    """
    N, C, H, W = x.shape
    Hb = _buffer_size(H, KH, SH, PH, 1, OH)
    Wb = _buffer_size(W, KW, SW, PW, 1, OW)
    xp = np.zeros((N, C, Hb, Wb), dtype=x.dtype)  # zero padding adds nothing to the sums
    xp[:, :, PH : PH + H, PW : PW + W] = x
    total = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            total += xp[:, :, _tap(kh, 1, SH, OH), _tap(kw, 1, SW, OW)]
    div, _ = _avg_divisor(H, W, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, x.dtype)
    return total / div


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
    """Average pooling gradient gy (N, C, OH, OW) -> gx (N, C, H, W).

    gx[n, c, h, w] = sum over the windows containing (h, w) of gy[n, c, oh, ow] / divisor(oh, ow),
    the exact adjoint of avgpool2d_forward.
    """
    N, C, OH, OW = gy.shape
    div, _ = _avg_divisor(H, W, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, gy.dtype)
    g = gy / div  # (N, C, OH, OW): what each window hands to each of its elements
    Hb = _buffer_size(H, KH, SH, PH, 1, OH)
    Wb = _buffer_size(W, KW, SW, PW, 1, OW)
    gxp = np.zeros((N, C, Hb, Wb), dtype=gy.dtype)
    for kh in range(KH):
        for kw in range(KW):
            # one tap's slice has no repeated positions, so += on it is exact
            gxp[:, :, _tap(kh, 1, SH, OH), _tap(kw, 1, SW, OW)] += g
    return gxp[:, :, PH : PH + H, PW : PW + W].copy()  # drop padding: (N, C, H, W)


def _adaptive_bounds(O: int, L: int) -> list[tuple[int, int]]:
    """Windows [floor(i*L/O), ceil((i+1)*L/O)) for i in 0 .. O-1, in integer arithmetic."""
    return [((i * L) // O, -((-(i + 1) * L) // O)) for i in range(O)]


def adaptive_avgpool2d_forward(x: np.ndarray, OH: int, OW: int) -> np.ndarray:
    """Adaptive average pooling x (N, C, H, W) -> y (N, C, OH, OW).

    Output (i, j) is the mean of rows [floor(i*H/OH), ceil((i+1)*H/OH)) and columns
    [floor(j*W/OW), ceil((j+1)*W/OW)); neighbouring windows overlap when H % OH != 0.
    """
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    for i, (h0, h1) in enumerate(_adaptive_bounds(OH, H)):
        for j, (w0, w1) in enumerate(_adaptive_bounds(OW, W)):
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return y


def adaptive_avgpool2d_backward(gy: np.ndarray, H: int, W: int) -> np.ndarray:
    """Adaptive average pooling gradient gy (N, C, OH, OW) -> gx (N, C, H, W).

    Each window spreads gy[n, c, i, j] / (window size) evenly over its elements; overlapping
    windows add.
    """
    N, C, OH, OW = gy.shape
    gx = np.zeros((N, C, H, W), dtype=gy.dtype)
    for i, (h0, h1) in enumerate(_adaptive_bounds(OH, H)):
        for j, (w0, w1) in enumerate(_adaptive_bounds(OW, W)):
            size = (h1 - h0) * (w1 - w0)
            gx[:, :, h0:h1, w0:w1] += (gy[:, :, i, j] / size)[:, :, None, None]
    return gx


def adaptive_maxpool2d_forward(x: np.ndarray, OH: int, OW: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive max pooling x (N, C, H, W) -> (y (N, C, OH, OW), idx (N, C, OH, OW) int64).

    Windows as in adaptive_avgpool2d_forward; idx holds h*W + w of the first maximum in
    row-major window order, or of the last NaN, as for maxpool2d_forward.
    """
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    idx = np.empty((N, C, OH, OW), dtype=np.int64)
    for i, (h0, h1) in enumerate(_adaptive_bounds(OH, H)):
        for j, (w0, w1) in enumerate(_adaptive_bounds(OW, W)):
            win = x[:, :, h0:h1, w0:w1].reshape(N, C, (h1 - h0) * (w1 - w0))  # row-major
            a = win.argmax(axis=2)  # (N, C): the first maximum (or the first NaN)
            nan = np.isnan(win)  # the last NaN, as max pooling picks it:
            a = np.where(nan.any(axis=2), win.shape[2] - 1 - nan[:, :, ::-1].argmax(axis=2), a)
            y[:, :, i, j] = np.take_along_axis(win, a[:, :, None], axis=2)[:, :, 0]
            ww = w1 - w0
            idx[:, :, i, j] = (h0 + a // ww) * W + (w0 + a % ww)
    return y, idx


def adaptive_maxpool2d_backward(gy: np.ndarray, idx: np.ndarray, H: int, W: int) -> np.ndarray:
    """Adaptive max pooling gradient gy (N, C, OH, OW), idx -> gx (N, C, H, W).

    gx[n, c, h, w] = sum of gy over the outputs whose idx equals h*W + w (a scatter here; the
    parallel backends gather).
    """
    return _scatter_to_index(gy, idx, H, W)
