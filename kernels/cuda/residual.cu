// residual.cu: the residual join y = x + shortcut (then ReLU) and its backward, for T = float
// and double.
//
// One thread per element, in grid-stride loops over the flat arrays. The backward pass needs
// only y: after a ReLU, y > 0 exactly where the sum was positive, which is where the gradient
// flows; both inputs of the sum receive that same gradient.
#include "common.cuh"

// y[i] = x[i] + shortcut[i], then max(y[i], 0) if relu.
template <typename T>
__global__ void residual_add_forward_kernel(const T* __restrict__ x,
                                            const T* __restrict__ shortcut, T* __restrict__ y,
                                            long long total, int relu) {
    GRID_STRIDE_LOOP(i, total) {
        const T v = x[i] + shortcut[i];
        y[i] = (relu && v < T(0)) ? T(0) : v;  // like max(v, 0), NaN stays NaN
    }
}

// g[i] = gy[i] if (not relu or y[i] > 0) else 0: the gradient of x and of shortcut alike.
template <typename T>
__global__ void residual_add_backward_kernel(const T* __restrict__ gy, const T* __restrict__ y,
                                             T* __restrict__ g, long long total, int relu) {
    GRID_STRIDE_LOOP(i, total) {
        g[i] = (relu && !(y[i] > T(0))) ? T(0) : gy[i];
    }
}
