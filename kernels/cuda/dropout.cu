// dropout.cu: the dropout keep-mask, bit-identical to the NumPy reference.
//
// One thread per mask element (grid-stride loop). Element i (flat, C order) gets a uniform number
// u in [0, 1) from a counter-based hash of (seed, i), the splitmix64 finaliser, so the mask needs
// no random state: any thread, and any backend, computes element i alone and gets the same bits.
// The element is kept (1) when u >= p, dropped (0) otherwise.
#include "common.cuh"

// u(seed, i): unsigned 64-bit arithmetic wraps mod 2^64, exactly as the reference's uint64 math.
__device__ inline double dropout_uniform(unsigned long long seed, unsigned long long i) {
    unsigned long long z = seed + (i + 1ULL) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    // The top 24 bits, scaled by 2^-24: exact in double, so every backend agrees to the bit.
    return (double)(z >> 40) * 0x1.0p-24;
}

// mask[i] = 1 if u(seed, i) >= p else 0, for i < total.
__global__ void dropout_mask_kernel(unsigned char* __restrict__ mask, long long total,
                                    unsigned long long seed, double p) {
    GRID_STRIDE_LOOP(i, total) {
        mask[i] = dropout_uniform(seed, (unsigned long long)i) >= p ? 1 : 0;
    }
}
