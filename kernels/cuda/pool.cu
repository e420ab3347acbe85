// pool.cu: max, average and adaptive pooling, forward and backward, for T = float and double.
//
// The advanced reading: the direct twins in direct.cu compute the same with the window rules
// spelled out; read those first.
//
// Tensors are (N, C, H, W) in and (N, C, OH, OW) out, C-contiguous; every kernel treats the
// N*C planes independently. Forward kernels run one thread per output element, which loops over
// its window. Backward kernels run one thread per INPUT element and gather: the thread loops over
// the output cells whose windows can contain its element and sums their gradient shares, so each
// element of gx has exactly one writer and no atomics are needed. All kernels use grid-stride
// loops, so any grid size covers the whole tensor.
//
// Window of output cell (oh, ow): taps (kh, kw) read input (oh*SH - PH + kh*DH, ow*SW - PW + kw*DW)
// (DH = DW = 1 for average pooling). Taps outside the input are padding: -inf for max pooling,
// zero for average pooling. An input row h is tap kh of output row oh exactly when
// h + PH - kh*DH = oh*SH, which is how the backward kernels find their output cells.
#include "common.cuh"

// The output row (or column) whose tap k reads input row h, or -1 if none does.
__device__ inline int cell_of_tap(int h, int k, int S, int P, int D, int OH) {
    const int t = h + P - k * D;
    if (t < 0 || t % S != 0 || t / S >= OH) return -1;
    return t / S;
}

// Max pooling.

// y[n, c, oh, ow] = max over the in-bounds taps of the window; idx holds h*W + w of the FIRST
// maximum in window order (kh outer, kw inner). NaN wins, as in PyTorch: a NaN tap replaces the
// best so far (a later NaN too), so the window gives NaN and idx its last NaN. A window with no
// in-bounds tap gives -inf and -1.
template <typename T>
__global__ void maxpool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y,
                                         long long* __restrict__ idx, int N, int C, int H, int W,
                                         int KH, int KW, int SH, int SW, int PH, int PW, int DH,
                                         int DW, int OH, int OW) {
    GRID_STRIDE_LOOP(i, (i64)N * C * OH * OW) {
        const int ow = (int)(i % OW);
        const int oh = (int)(i / OW % OH);
        const i64 plane = i / ((i64)OW * OH);  // n*C + c
        const T* x_plane = x + plane * H * W;
        T best = NegInf<T>::value();
        long long best_idx = -1;
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = oh * SH - PH + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int iw = ow * SW - PW + kw * DW;
                if (iw < 0 || iw >= W) continue;
                const T v = x_plane[ih * W + iw];
                // strict >: ties keep the first maximum; a NaN always takes the window
                if (best_idx < 0 || v > best || is_nan(v)) {
                    best = v;
                    best_idx = (long long)ih * W + iw;
                }
            }
        }
        y[i] = best;
        idx[i] = best_idx;
    }
}

// gx[n, c, h, w] = sum of gy[n, c, oh, ow] over the cells whose window contains (h, w) and chose
// it (idx == h*W + w).
template <typename T>
__global__ void maxpool2d_backward_kernel(const T* __restrict__ gy,
                                          const long long* __restrict__ idx, T* __restrict__ gx,
                                          int N, int C, int H, int W, int KH, int KW, int SH,
                                          int SW, int PH, int PW, int DH, int DW, int OH, int OW) {
    GRID_STRIDE_LOOP(i, (i64)N * C * H * W) {
        const int w = (int)(i % W);
        const int h = (int)(i / W % H);
        const i64 plane = i / ((i64)W * H);
        const long long me = (long long)h * W + w;
        T acc = 0;
        for (int kh = 0; kh < KH; ++kh) {
            const int oh = cell_of_tap(h, kh, SH, PH, DH, OH);
            if (oh < 0) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int ow = cell_of_tap(w, kw, SW, PW, DW, OW);
                if (ow < 0) continue;
                const i64 o = (plane * OH + oh) * OW + ow;
                if (idx[o] == me) acc += gy[o];
            }
        }
        gx[i] = acc;
    }
}

// Average pooling.

// One axis of an average-pooling window, by PyTorch's rule: the window [o*S - P, o*S - P + K)
// is first clipped to the padded input [-P, size + P), giving padded_len, then to the input,
// giving [start, end).
struct AvgWindow {
    int start, end, padded_len;
};
__device__ inline AvgWindow avg_window(int o, int K, int S, int P, int size) {
    int start = o * S - P;
    int end = min(start + K, size + P);
    const int padded_len = end - start;
    start = max(start, 0);
    end = min(end, size);
    return {start, end, padded_len};
}

// The divisor of cell (oh, ow): the padded window's area if count_include_pad, else the number
// of input elements it covers; 0 when the clipped window is empty (the cell's value is then 0).
__device__ inline int avg_divisor(const AvgWindow& wh, const AvgWindow& ww, int count_include_pad) {
    const int rows = wh.end - wh.start, cols = ww.end - ww.start;
    if (rows <= 0 || cols <= 0) return 0;
    return count_include_pad ? wh.padded_len * ww.padded_len : rows * cols;
}

// y[n, c, oh, ow] = (sum of the window's in-bounds elements) / divisor.
template <typename T>
__global__ void avgpool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int N, int C,
                                         int H, int W, int KH, int KW, int SH, int SW, int PH,
                                         int PW, int OH, int OW, int count_include_pad) {
    GRID_STRIDE_LOOP(i, (i64)N * C * OH * OW) {
        const int ow = (int)(i % OW);
        const int oh = (int)(i / OW % OH);
        const i64 plane = i / ((i64)OW * OH);
        const T* x_plane = x + plane * H * W;
        const AvgWindow wh = avg_window(oh, KH, SH, PH, H);
        const AvgWindow ww = avg_window(ow, KW, SW, PW, W);
        const int divisor = avg_divisor(wh, ww, count_include_pad);
        T sum = 0;
        for (int ih = wh.start; ih < wh.end; ++ih) {
            for (int iw = ww.start; iw < ww.end; ++iw) sum += x_plane[ih * W + iw];
        }
        y[i] = divisor > 0 ? sum / T(divisor) : T(0);
    }
}

// gx[n, c, h, w] = sum of gy[n, c, oh, ow] / divisor(oh, ow) over the cells whose clipped window
// contains (h, w). Because h is inside the input, it is in the clipped window exactly when it is
// tap kh = h + PH - oh*SH of the unclipped one, so cell_of_tap finds the cells.
template <typename T>
__global__ void avgpool2d_backward_kernel(const T* __restrict__ gy, T* __restrict__ gx, int N,
                                          int C, int H, int W, int KH, int KW, int SH, int SW,
                                          int PH, int PW, int OH, int OW, int count_include_pad) {
    GRID_STRIDE_LOOP(i, (i64)N * C * H * W) {
        const int w = (int)(i % W);
        const int h = (int)(i / W % H);
        const i64 plane = i / ((i64)W * H);
        T acc = 0;
        for (int kh = 0; kh < KH; ++kh) {
            const int oh = cell_of_tap(h, kh, SH, PH, 1, OH);
            if (oh < 0) continue;
            const AvgWindow wh = avg_window(oh, KH, SH, PH, H);
            for (int kw = 0; kw < KW; ++kw) {
                const int ow = cell_of_tap(w, kw, SW, PW, 1, OW);
                if (ow < 0) continue;
                const AvgWindow ww = avg_window(ow, KW, SW, PW, W);
                const int divisor = avg_divisor(wh, ww, count_include_pad);
                if (divisor > 0) acc += gy[(plane * OH + oh) * OW + ow] / T(divisor);
            }
        }
        gx[i] = acc;
    }
}

// Adaptive pooling.

// Output cell o of an axis of `size` inputs split into `out` cells covers
// [floor(o*size/out), ceil((o+1)*size/out)).
__device__ inline int adaptive_start(int o, int size, int out) {
    return (int)((i64)o * size / out);
}
__device__ inline int adaptive_end(int o, int size, int out) {
    return (int)(((i64)(o + 1) * size + out - 1) / out);
}
// The cells containing input index h are o in [floor(h*out/size), ceil((h+1)*out/size) - 1]:
// start(o) <= h  <=>  o*size/out < h+1, and end(o) > h  <=>  (o+1)*size/out > h.
__device__ inline int adaptive_first_cell(int h, int size, int out) {
    return (int)((i64)h * out / size);
}
__device__ inline int adaptive_last_cell(int h, int size, int out) {
    return min((int)(((i64)(h + 1) * out + size - 1) / size) - 1, out - 1);
}

// y[n, c, oh, ow] = mean of the cell.
template <typename T>
__global__ void adaptive_avgpool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y,
                                                  int N, int C, int H, int W, int OH, int OW) {
    GRID_STRIDE_LOOP(i, (i64)N * C * OH * OW) {
        const int ow = (int)(i % OW);
        const int oh = (int)(i / OW % OH);
        const i64 plane = i / ((i64)OW * OH);
        const T* x_plane = x + plane * H * W;
        const int h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
        const int w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
        T sum = 0;
        for (int ih = h0; ih < h1; ++ih) {
            for (int iw = w0; iw < w1; ++iw) sum += x_plane[ih * W + iw];
        }
        y[i] = sum / T((h1 - h0) * (w1 - w0));
    }
}

// gx[n, c, h, w] = sum of gy[n, c, oh, ow] / (cell area) over the cells containing (h, w).
template <typename T>
__global__ void adaptive_avgpool2d_backward_kernel(const T* __restrict__ gy, T* __restrict__ gx,
                                                   int N, int C, int H, int W, int OH, int OW) {
    GRID_STRIDE_LOOP(i, (i64)N * C * H * W) {
        const int w = (int)(i % W);
        const int h = (int)(i / W % H);
        const i64 plane = i / ((i64)W * H);
        T acc = 0;
        for (int oh = adaptive_first_cell(h, H, OH); oh <= adaptive_last_cell(h, H, OH); ++oh) {
            const int h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
            if (h < h0 || h >= h1) continue;  // never taken; keeps the rule visible
            for (int ow = adaptive_first_cell(w, W, OW); ow <= adaptive_last_cell(w, W, OW);
                 ++ow) {
                const int w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
                if (w < w0 || w >= w1) continue;
                acc += gy[(plane * OH + oh) * OW + ow] / T((h1 - h0) * (w1 - w0));
            }
        }
        gx[i] = acc;
    }
}

// y[n, c, oh, ow] = max of the cell, idx = h*W + w of its first maximum in row-major order (or
// of its last NaN, as max pooling).
template <typename T>
__global__ void adaptive_maxpool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y,
                                                  long long* __restrict__ idx, int N, int C,
                                                  int H, int W, int OH, int OW) {
    GRID_STRIDE_LOOP(i, (i64)N * C * OH * OW) {
        const int ow = (int)(i % OW);
        const int oh = (int)(i / OW % OH);
        const i64 plane = i / ((i64)OW * OH);
        const T* x_plane = x + plane * H * W;
        const int h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
        const int w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
        T best = NegInf<T>::value();
        long long best_idx = -1;
        for (int ih = h0; ih < h1; ++ih) {
            for (int iw = w0; iw < w1; ++iw) {
                const T v = x_plane[ih * W + iw];
                if (best_idx < 0 || v > best || is_nan(v)) {
                    best = v;
                    best_idx = (long long)ih * W + iw;
                }
            }
        }
        y[i] = best;
        idx[i] = best_idx;
    }
}

// gx[n, c, h, w] = sum of gy[n, c, oh, ow] over the cells containing (h, w) that chose it.
template <typename T>
__global__ void adaptive_maxpool2d_backward_kernel(const T* __restrict__ gy,
                                                   const long long* __restrict__ idx,
                                                   T* __restrict__ gx, int N, int C, int H, int W,
                                                   int OH, int OW) {
    GRID_STRIDE_LOOP(i, (i64)N * C * H * W) {
        const int w = (int)(i % W);
        const int h = (int)(i / W % H);
        const i64 plane = i / ((i64)W * H);
        const long long me = (long long)h * W + w;
        T acc = 0;
        for (int oh = adaptive_first_cell(h, H, OH); oh <= adaptive_last_cell(h, H, OH); ++oh) {
            for (int ow = adaptive_first_cell(w, W, OW); ow <= adaptive_last_cell(w, W, OW);
                 ++ow) {
                const i64 o = (plane * OH + oh) * OW + ow;
                if (idx[o] == me) acc += gy[o];
            }
        }
        gx[i] = acc;
    }
}
