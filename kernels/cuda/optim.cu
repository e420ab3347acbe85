// optim.cu: fused optimizer steps, in place, for T = float and double.
//
// Each thread owns element i of the parameter p (and of its state) in a grid-stride loop and
// does the whole update in registers. One launch per parameter replaces up to nine (SGD:
// weight decay, momentum with dampening, Nesterov, the step) or fourteen (Adam); the foreach
// kernels do a whole list of parameters in one launch.
#include "common.cuh"

// One SGD step of element p (and its momentum buffer b), shared by both SGD kernels so that a
// parameter updated alone or in a list gets the same bits.
template <typename T>
__device__ __forceinline__ void sgd_element(T& p, T grad, T* b, T lr, T momentum, T dampening,
                                            T weight_decay, int nesterov, int maximize,
                                            int first) {
    T g = maximize ? -grad : grad;
    if (weight_decay != T(0)) g += weight_decay * p;  // not 0 * p: 0 * inf is NaN
    if (b) {
        const T m = first ? g : momentum * *b + (T(1) - dampening) * g;
        *b = m;
        g = nesterov ? g + momentum * m : m;
    }
    p -= lr * g;
}

template <typename T>
__global__ void sgd_update_kernel(T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ buf,
                                  i64 n, T lr, T momentum, T dampening, T weight_decay,
                                  int nesterov, int maximize, int first, int use_buf) {
    GRID_STRIDE_LOOP(i, n) {
        sgd_element(p[i], grad[i], use_buf ? buf + i : nullptr, lr, momentum, dampening,
                    weight_decay, nesterov, maximize, first);
    }
}

// The list element holding flat element i of a list's concatenation: the last t < count with
// start[t] <= i (binary search; start is increasing, start[0] = 0).
__device__ __forceinline__ int list_index(const i64* __restrict__ start, int count, i64 i) {
    int lo = 0, hi = count - 1;
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (start[mid] <= i) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

// The same step over a list of `count` parameters in one launch. `table` (int64, on the GPU)
// holds the addresses of the parameters, then of their gradients, then of their buffers, then
// `count` + 1 offsets: parameter t owns elements [start[t], start[t + 1]) of the list's
// concatenation, and a thread finds the t of its element by binary search.
template <typename T>
__global__ void sgd_foreach_update_kernel(const i64* __restrict__ table, int count, T lr,
                                          T momentum, T dampening, T weight_decay, int nesterov,
                                          int maximize, int first, int use_buf) {
    const i64* start = table + 3 * count;
    GRID_STRIDE_LOOP(i, start[count]) {
        const int t = list_index(start, count, i);
        const i64 j = i - start[t];
        T* p = reinterpret_cast<T*>(table[t]);
        const T* grad = reinterpret_cast<const T*>(table[count + t]);
        T* buf = use_buf ? reinterpret_cast<T*>(table[2 * count + t]) + j : nullptr;
        sgd_element(p[j], grad[j], buf, lr, momentum, dampening, weight_decay, nesterov,
                    maximize, first);
    }
}

// Adam / AdamW. The scalars that depend only on the step are computed on the host, in double
// (numpy_ref.optim.adam_scalars), then rounded to T: c1 = 1 - beta1, c2 = 1 - beta2,
// root_bc2 = sqrt(1 - beta2^t), step_size = lr / (1 - beta1^t), shrink = 1 - lr * weight_decay.
// One Adam step of element p with its moments m, v (and v_max with amsgrad: else null),
// shared by both Adam kernels.
template <typename T>
__device__ __forceinline__ void adam_element(T& p, T grad, T& m, T& v, T* v_max, T beta1, T c1,
                                             T beta2, T c2, T root_bc2, T eps, T step_size,
                                             T weight_decay, T shrink, int decay, int decoupled,
                                             int maximize) {
    T g = maximize ? -grad : grad;
    if (decay) {
        if (decoupled) p = p * shrink;
        else g = g + weight_decay * p;
    }
    const T mi = beta1 * m + c1 * g;
    T vi = beta2 * v + c2 * g * g;
    m = mi;
    v = vi;
    if (v_max) {
        const T a = *v_max;
        if (a > vi || a != a) vi = a;  // the larger, and NaN from either side
        *v_max = vi;
    }
    p = p - step_size * mi / (sqrt(vi) / root_bc2 + eps);
}

template <typename T>
__global__ void adam_update_kernel(T* __restrict__ p, const T* __restrict__ grad,
                                   T* __restrict__ m, T* __restrict__ v, T* __restrict__ v_max,
                                   i64 n, T beta1, T c1, T beta2, T c2, T root_bc2, T eps,
                                   T step_size, T weight_decay, T shrink, int decay,
                                   int decoupled, int maximize, int amsgrad) {
    GRID_STRIDE_LOOP(i, n) {
        adam_element(p[i], grad[i], m[i], v[i], amsgrad ? v_max + i : nullptr, beta1, c1, beta2,
                     c2, root_bc2, eps, step_size, weight_decay, shrink, decay, decoupled,
                     maximize);
    }
}

// Adam over a list of `count` parameters in one launch; `table` as for SGD, with five address
// lists (parameters, gradients, m, v, v_max) before the count + 1 offsets.
template <typename T>
__global__ void adam_foreach_update_kernel(const i64* __restrict__ table, int count, T beta1,
                                           T c1, T beta2, T c2, T root_bc2, T eps, T step_size,
                                           T weight_decay, T shrink, int decay, int decoupled,
                                           int maximize, int amsgrad) {
    const i64* start = table + 5 * count;
    GRID_STRIDE_LOOP(i, start[count]) {
        const int t = list_index(start, count, i);
        const i64 j = i - start[t];
        T* v_max = amsgrad ? reinterpret_cast<T*>(table[4 * count + t]) + j : nullptr;
        adam_element(reinterpret_cast<T*>(table[t])[j],
                     reinterpret_cast<const T*>(table[count + t])[j],
                     reinterpret_cast<T*>(table[2 * count + t])[j],
                     reinterpret_cast<T*>(table[3 * count + t])[j], v_max, beta1, c1, beta2, c2,
                     root_bc2, eps, step_size, weight_decay, shrink, decay, decoupled, maximize);
    }
}
