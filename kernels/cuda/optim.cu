// optim.cu: one fused SGD step, in place, for T = float and double.
//
// Each thread owns element i of the parameter p (and of the momentum buffer buf) in a
// grid-stride loop and does the whole update in registers: weight decay, momentum (with
// dampening), Nesterov, and the step. One launch per parameter replaces up to nine.
#include "common.cuh"

template <typename T>
__global__ void sgd_update_kernel(T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ buf,
                                  i64 n, T lr, T momentum, T dampening, T weight_decay,
                                  int nesterov, int maximize, int first, int use_buf) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        T g = maximize ? -grad[i] : grad[i];
        if (weight_decay != T(0)) g += weight_decay * p[i];  // not 0 * p: 0 * inf is NaN
        if (use_buf) {
            const T b = first ? g : momentum * buf[i] + (T(1) - dampening) * g;
            buf[i] = b;
            g = nesterov ? g + momentum * b : b;
        }
        p[i] -= lr * g;
    }
}
