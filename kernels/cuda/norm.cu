// norm.cu: batch normalisation over x viewed as (N, C, L), for T = float and double.
//
// The advanced reading: the direct twins in direct.cu compute the same with one thread per
// channel for the sums; read those first.
//
// Every channel c is normalised over its M = N*L elements x[n, c, l] (flat index (n*C + c)*L + l).
// Per-channel sums are two-level reductions, so that a layer with few channels still spreads
// over the whole GPU: the block (s, c) of a (S, C) grid sums slice s of the channel's M
// elements, [s*M/S, (s+1)*M/S), combining its threads' partial sums with block_sum (warp
// shuffles, then shared memory), and writes them to a workspace ws (C, S, 2); then one thread per
// channel adds the S partial sums in order. Sums are carried in double whatever T is, and the
// order of every addition is fixed, so results are the same on every run. The elementwise
// kernels run one thread per element of x in grid-stride loops, with channel c = (i / L) % C.
//
// Variance without cancellation: the statistics kernel sums d = x - K and d*d with K = x[0, c, 0],
// an element of the channel; var = mean(d*d) - mean(d)^2 then loses nothing to a large mean,
// since mean(d) is of the order of the standard deviation.
//
// Inside a reduction block, thread t visits the slice's elements j = j0 + t, j0 + t + B, ...
// (B = blockDim.x) as pairs (n, l) with j = n*L + l, stepping (n, l) by B = step_n*L + step_l
// instead of dividing j by L for every element.
#include "common.cuh"

// Threads of the reduction blocks; the launcher uses the same number.
constexpr int REDUCE_THREADS = 256;

// Walks the elements of channel c in slice [j0, j1) that this thread owns, calling
// visit(k) with each flat index k into x.
template <class Visit>
__device__ inline void for_each_in_slice(i64 j0, i64 j1, int C, int L, int c, Visit visit) {
    const int step_n = blockDim.x / L, step_l = blockDim.x % L;
    i64 j = j0 + threadIdx.x;
    i64 n = j / L;
    int l = (int)(j % L);
    for (; j < j1; j += blockDim.x) {
        visit((n * C + c) * L + l);
        n += step_n;
        l += step_l;
        if (l >= L) {
            l -= L;
            ++n;
        }
    }
}

// Block (s, c) of grid (S, C): ws[c, s] = (sum of d, sum of d*d) over slice s, d = x - x[0, c, 0].
template <typename T>
__global__ void __launch_bounds__(REDUCE_THREADS)
    batchnorm_partial_stats_kernel(const T* __restrict__ x, double* __restrict__ ws, int N, int C,
                                   int L) {
    __shared__ double scratch[32];
    const int s = blockIdx.x, S = gridDim.x, c = blockIdx.y;
    const i64 M = (i64)N * L;
    const double shift = (double)x[(i64)c * L];
    double sum = 0.0, sum_sq = 0.0;
    for_each_in_slice(M * s / S, M * (s + 1) / S, C, L, c, [&](i64 k) {
        const double d = (double)x[k] - shift;
        sum += d;
        sum_sq += d * d;
    });
    sum = block_sum(sum, scratch);
    sum_sq = block_sum(sum_sq, scratch);
    if (threadIdx.x == 0) {
        ws[((i64)c * S + s) * 2] = sum;
        ws[((i64)c * S + s) * 2 + 1] = sum_sq;
    }
}

// One thread per channel: mean = K + sum d / M, var = sum d*d / M - (sum d / M)^2 (biased),
// invstd = 1 / sqrt(var + eps), from the S partial sums of ws.
template <typename T>
__global__ void batchnorm_finalize_stats_kernel(const T* __restrict__ x,
                                                const double* __restrict__ ws,
                                                T* __restrict__ mean, T* __restrict__ invstd,
                                                int N, int C, int L, int S, double eps) {
    GRID_STRIDE_LOOP(c, C) {
        double sum = 0.0, sum_sq = 0.0;
        for (int s = 0; s < S; ++s) {
            sum += ws[(c * S + s) * 2];
            sum_sq += ws[(c * S + s) * 2 + 1];
        }
        const double M = (double)N * L;
        const double mean_d = sum / M;
        const double var = fmax(sum_sq / M - mean_d * mean_d, 0.0);
        mean[c] = (T)((double)x[c * L] + mean_d);
        invstd[c] = (T)(1.0 / sqrt(var + eps));
    }
}

// y = (x - mean[c]) * invstd[c] * gamma[c] + beta[c], one thread per element.
template <typename T>
__global__ void batchnorm_normalize_kernel(const T* __restrict__ x, const T* __restrict__ mean,
                                           const T* __restrict__ invstd,
                                           const T* __restrict__ gamma,
                                           const T* __restrict__ beta, T* __restrict__ y, int N,
                                           int C, int L) {
    GRID_STRIDE_LOOP(i, (i64)N * C * L) {
        const int c = (int)(i / L % C);
        y[i] = (x[i] - mean[c]) * invstd[c] * gamma[c] + beta[c];
    }
}

// Evaluation mode: y = (x - running_mean[c]) / sqrt(running_var[c] + eps) * gamma[c] + beta[c].
template <typename T>
__global__ void batchnorm_eval_kernel(const T* __restrict__ x, const T* __restrict__ running_mean,
                                      const T* __restrict__ running_var,
                                      const T* __restrict__ gamma, const T* __restrict__ beta,
                                      T* __restrict__ y, int N, int C, int L, double eps) {
    GRID_STRIDE_LOOP(i, (i64)N * C * L) {
        const int c = (int)(i / L % C);
        const T inv = (T)(1.0 / sqrt((double)running_var[c] + eps));
        y[i] = (x[i] - running_mean[c]) * inv * gamma[c] + beta[c];
    }
}

// Block (s, c) of grid (S, C): ws[c, s] = (sum of gy, sum of gy * xhat) over slice s, with
// xhat = (x - mean[c]) * invstd[c].
template <typename T>
__global__ void __launch_bounds__(REDUCE_THREADS)
    batchnorm_backward_partial_kernel(const T* __restrict__ gy, const T* __restrict__ x,
                                      const T* __restrict__ mean, const T* __restrict__ invstd,
                                      double* __restrict__ ws, int N, int C, int L) {
    __shared__ double scratch[32];
    const int s = blockIdx.x, S = gridDim.x, c = blockIdx.y;
    const i64 M = (i64)N * L;
    const double mu = (double)mean[c], inv = (double)invstd[c];
    double sum_gy = 0.0, sum_gy_xhat = 0.0;
    for_each_in_slice(M * s / S, M * (s + 1) / S, C, L, c, [&](i64 k) {
        const double g = (double)gy[k];
        sum_gy += g;
        sum_gy_xhat += g * ((double)x[k] - mu) * inv;
    });
    sum_gy = block_sum(sum_gy, scratch);
    sum_gy_xhat = block_sum(sum_gy_xhat, scratch);
    if (threadIdx.x == 0) {
        ws[((i64)c * S + s) * 2] = sum_gy;
        ws[((i64)c * S + s) * 2 + 1] = sum_gy_xhat;
    }
}

// One thread per channel: gbeta[c] = sum gy, ggamma[c] = sum gy * xhat, from the S partials.
template <typename T>
__global__ void batchnorm_backward_finalize_kernel(const double* __restrict__ ws,
                                                   T* __restrict__ ggamma, T* __restrict__ gbeta,
                                                   int C, int S) {
    GRID_STRIDE_LOOP(c, C) {
        double sum_gy = 0.0, sum_gy_xhat = 0.0;
        for (int s = 0; s < S; ++s) {
            sum_gy += ws[(c * S + s) * 2];
            sum_gy_xhat += ws[(c * S + s) * 2 + 1];
        }
        gbeta[c] = (T)sum_gy;
        ggamma[c] = (T)sum_gy_xhat;
    }
}

// gx from the channel sums (the formula of numpy_ref.batchnorm_backward), one thread per element.
template <typename T>
__global__ void batchnorm_backward_input_kernel(const T* __restrict__ gy, const T* __restrict__ x,
                                                const T* __restrict__ gamma,
                                                const T* __restrict__ mean,
                                                const T* __restrict__ invstd,
                                                const T* __restrict__ ggamma,
                                                const T* __restrict__ gbeta, T* __restrict__ gx,
                                                int N, int C, int L) {
    const T M = (T)((i64)N * L);
    GRID_STRIDE_LOOP(i, (i64)N * C * L) {
        const int c = (int)(i / L % C);
        const T xhat = (x[i] - mean[c]) * invstd[c];
        gx[i] = gamma[c] * invstd[c] / M * (M * gy[i] - gbeta[c] - xhat * ggamma[c]);
    }
}

// Running statistics after a training batch: one thread per channel c,
//   new_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean[c]
//   new_var[c]  = (1 - momentum) * running_var[c] + momentum * (1 / invstd[c]^2 - eps) * M / (M - 1)
template <typename T>
__global__ void batchnorm_update_running_kernel(const T* __restrict__ running_mean,
                                                const T* __restrict__ running_var,
                                                const T* __restrict__ mean,
                                                const T* __restrict__ invstd, T* __restrict__ new_mean,
                                                T* __restrict__ new_var, int C, double momentum,
                                                double eps, double M) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const double s = (double)invstd[c];
    const double var = 1.0 / (s * s) - eps;
    new_mean[c] = (T)((1.0 - momentum) * (double)running_mean[c] + momentum * (double)mean[c]);
    new_var[c] = (T)((1.0 - momentum) * (double)running_var[c] + momentum * var * (M / (M - 1.0)));
}

