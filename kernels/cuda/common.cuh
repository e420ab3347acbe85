// common.cuh: small helpers shared by the minicnn CUDA kernels.
//
// The launcher pastes this header into each .cu source in place of its #include line before
// compiling, so every kernel file is one self-contained translation unit. Nothing here depends on
// the C++ standard library, which NVRTC does not provide.
#ifndef MINICNN_COMMON_CUH
#define MINICNN_COMMON_CUH

// Flat indices into tensors are 64-bit: N*C*H*W fits in 32 bits for a CIFAR batch, but a large
// activation need not, and a silently wrapped index writes to the wrong place.
typedef long long i64;

// Elementwise kernels use grid-stride loops: thread t of a grid of T threads handles the flat
// indices t, t + T, t + 2T, ...; the launcher may therefore cap the grid without losing elements.
#define GRID_STRIDE_LOOP(i, total)                                                        \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (total);                 \
         i += (i64)gridDim.x * blockDim.x)

// -infinity of each element type, the neutral element of max pooling.
template <typename T>
struct NegInf;
template <>
struct NegInf<float> {
    __device__ static float value() { return __int_as_float(0xff800000); }
};
template <>
struct NegInf<double> {
    __device__ static double value() {
        return __longlong_as_double((long long)0xfff0000000000000ULL);
    }
};

// True for NaN, the one value not equal to itself (exact: the launcher never enables fast math).
template <typename T>
__device__ inline bool is_nan(T v) {
    return v != v;
}

// Sum of v over every thread of the block, returned to every thread. blockDim.x must be a
// multiple of 32 (at most 1024), and scratch must hold 32 doubles of shared memory. The order
// of additions is fixed by the block size, so the result is the same on every run.
__device__ inline double block_sum(double v, double* scratch) {
    const int lane = threadIdx.x % 32;
    const int warp = threadIdx.x / 32;
    // Step 1: each warp folds its 32 values into lane 0 with register shuffles.
    for (int offset = 16; offset > 0; offset /= 2) {
        v += __shfl_down_sync(0xffffffffu, v, offset);
    }
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    // Step 2: warp 0 folds the per-warp sums the same way.
    if (warp == 0) {
        const int num_warps = blockDim.x / 32;
        v = lane < num_warps ? scratch[lane] : 0.0;
        for (int offset = 16; offset > 0; offset /= 2) {
            v += __shfl_down_sync(0xffffffffu, v, offset);
        }
        if (lane == 0) {
            scratch[0] = v;
        }
    }
    __syncthreads();
    const double total = scratch[0];
    __syncthreads();  // scratch may be reused by the caller's next block_sum
    return total;
}

#endif  // MINICNN_COMMON_CUH
