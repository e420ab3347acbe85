// optim.cu: fused optimizer steps, in place, for T = float and double.
//
// Each thread owns element i of the parameter p (and of its state) in a grid-stride loop and
// does the whole update in registers. One launch per parameter replaces up to nine (SGD:
// weight decay, momentum with dampening, Nesterov, the step) or fourteen (Adam).
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

// Adam / AdamW. The scalars that depend only on the step are computed on the host, in double
// (numpy_ref.optim.adam_scalars), then rounded to T: c1 = 1 - beta1, c2 = 1 - beta2,
// root_bc2 = sqrt(1 - beta2^t), step_size = lr / (1 - beta1^t), shrink = 1 - lr * weight_decay.
template <typename T>
__global__ void adam_update_kernel(T* __restrict__ p, const T* __restrict__ grad,
                                   T* __restrict__ m, T* __restrict__ v, T* __restrict__ v_max,
                                   i64 n, T beta1, T c1, T beta2, T c2, T root_bc2, T eps,
                                   T step_size, T weight_decay, T shrink, int decay,
                                   int decoupled, int maximize, int amsgrad) {
    GRID_STRIDE_LOOP(i, n) {
        T g = maximize ? -grad[i] : grad[i];
        if (decay) {
            if (decoupled) p[i] = p[i] * shrink;
            else g = g + weight_decay * p[i];
        }
        const T mi = beta1 * m[i] + c1 * g;
        T vi = beta2 * v[i] + c2 * g * g;
        m[i] = mi;
        v[i] = vi;
        if (amsgrad) {
            const T a = v_max[i];
            if (a > vi || a != a) vi = a;  // the larger, and NaN from either side
            v_max[i] = vi;
        }
        p[i] = p[i] - step_size * mi / (sqrt(vi) / root_bc2 + eps);
    }
}
