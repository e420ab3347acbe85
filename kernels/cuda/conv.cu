// conv.cu: 2-D convolution (forward, backward-input, backward-weight) for T = float and double.
//
// The advanced reading. The same three passes as plain loops, one thread per output element, are
// direct.cu's conv2d_*_direct_kernel: read those first, then benchmarks/conv_variants (how a
// direct convolution becomes a fast one on a CPU), then this file.
//
// Layouts: x (N, C, H, W), w (OC, C/G, KH, KW), y and gy (N, OC, OH, OW), all C-contiguous.
// Output position (oh, ow) reads input row ih = oh*SH - PH + kh*DH and column
// iw = ow*SW - PW + kw*DW for each tap (kh, kw); taps that land in the padding contribute zero.
//
// Implicit-GEMM kernels (conv2d_*_gemm_kernel) are the fast ones. Each pass is a matrix product
// C[M][NC] = sum over k of A[m][k] * B[k][j] in which the big operand is never stored: a thread
// gathers its elements straight from the activation tensor when a tile needs them.
//
//   pass             rows m            columns j                   reduction k
//   forward          (n, oh, ow)       oc in group                 (tap, c in group)
//   backward-input   (n, h, w)         c in group                  (valid tap, oc in group)
//   backward-weight  oc in group       (c in group, kh, kw)        (n, oh, ow), split over blocks
//
// A block of BM*BN/16 threads owns one BM x BN tile of C, and each thread owns a 4 x 4 micro-tile
// of it in registers. The block walks k in steps of BK = 16: all its threads copy an A tile
// (BK x BM) and a B tile (BK x BN) into shared memory, then each thread adds 16 outer products
// of a 4-vector of A and a 4-vector of B to its micro-tile. While it computes on tile t, each
// thread already holds its share of tile t+1 in registers, so global loads overlap the math.
// blockIdx.x and blockIdx.y pick the tile, blockIdx.z the group and, for backward-input, the
// stride phase of the rows (see there), or for backward-weight the slice of k (a second kernel
// then adds the slices in a fixed order, so results are deterministic and need no atomics).
#include "common.cuh"

// Depth of one k step of the tiled kernels.
constexpr int BK = 16;

// Blocks per multiprocessor the tiled kernels are compiled for (__launch_bounds__): it caps the
// registers per thread at 65536 / (threads * MIN_BLOCKS). float kernels fit two 256-thread
// blocks without spilling; double ones need the registers of one.
template <typename T>
constexpr int MIN_BLOCKS = sizeof(T) == 4 ? 2 : 1;

// The weights as the B operand.

// Copies w (G*OCg, Cg, KH*KW) into the layout whose rows the GEMM kernels read contiguously:
// (G, KH*KW, Cg, OCg) for the forward pass (oc_fastest = 1) and (G, KH*KW, OCg, Cg) for
// backward-input (oc_fastest = 0). One thread per element of w: reads are coalesced, and w is
// small enough that the scattered writes cost little.
template <typename T>
__global__ void conv2d_weight_to_gemm_kernel(const T* __restrict__ w, T* __restrict__ wt, int G,
                                             int OCg, int Cg, int KHW, int oc_fastest) {
    GRID_STRIDE_LOOP(i, (i64)G * OCg * Cg * KHW) {
        const int tap = (int)(i % KHW);
        const int c = (int)(i / KHW % Cg);
        const int oc = (int)(i / ((i64)KHW * Cg) % OCg);
        const i64 g = i / ((i64)KHW * Cg * OCg);
        const i64 row = g * KHW + tap;  // (g, tap)
        wt[oc_fastest ? (row * Cg + c) * OCg + oc : (row * OCg + oc) * Cg + c] = w[i];
    }
}

// The shared tile loop of the implicit-GEMM kernels.

// Reads 4 consecutive elements of shared memory with one 16-byte (float) or two 16-byte (double)
// loads; p must be 16-byte aligned, which the tile layouts below guarantee.
__device__ inline void load4(const float* p, float (&r)[4]) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    r[0] = v.x;
    r[1] = v.y;
    r[2] = v.z;
    r[3] = v.w;
}
__device__ inline void load4(const double* p, double (&r)[4]) {
    const double2 lo = reinterpret_cast<const double2*>(p)[0];
    const double2 hi = reinterpret_cast<const double2*>(p)[1];
    r[0] = lo.x;
    r[1] = lo.y;
    r[2] = hi.x;
    r[3] = hi.y;
}

// Shared-memory tiles, k-major: As[k][m] and Bs[k][j]. A row is padded by 4 elements so that
// loaders that write down a column (k varying fastest across threads) hit different banks,
// while each row still starts on a 16-byte boundary for load4.
template <typename T, int BM, int BN>
struct SmemTiles {
    __align__(16) T A[BK][BM + 4];
    __align__(16) T B[BK][BN + 4];
};

// Runs the k loop of one block: for t = t_begin .. t_end-1, loader `a` copies its share of A
// tile t into shared memory and `b` that of B tile t; then thread (tm, tn) accumulates
//   acc[i][j] += A[k][4*tm + i] * B[k][4*tn + j]   for k < BK, i < 4, j < 4.
// A loader has fetch(t) (global memory -> its registers) and stash(tiles) (registers ->
// shared memory); fetching tile t+1 before the math on tile t lets the loads overlap it.
template <typename T, int BM, int BN, class LoaderA, class LoaderB>
__device__ __forceinline__ void gemm_tile_loop(LoaderA& a, LoaderB& b, i64 t_begin, i64 t_end,
                                               T (&acc)[4][4]) {
    __shared__ SmemTiles<T, BM, BN> tiles;
    const int tm = threadIdx.x % (BM / 4);
    const int tn = threadIdx.x / (BM / 4);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = 0;
    }
    if (t_begin >= t_end) return;
    a.fetch(t_begin);
    b.fetch(t_begin);
    for (i64 t = t_begin; t < t_end; ++t) {
        a.stash(tiles);
        b.stash(tiles);
        __syncthreads();
        if (t + 1 < t_end) {
            a.fetch(t + 1);
            b.fetch(t + 1);
        }
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            T av[4], bv[4];
            load4(&tiles.A[k][4 * tm], av);
            load4(&tiles.B[k][4 * tn], bv);
#pragma unroll
            for (int i = 0; i < 4; ++i) {
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
            }
        }
        __syncthreads();  // everyone is done reading before the next stash overwrites the tiles
    }
}

// Forward pass: y = conv(x, w) + b.

// A[m][k] of the forward pass: m = (n, oh, ow), k = (tap, c) with tile t covering tap t / CT and
// channels c0 .. c0+15, c0 = (t % CT) * BK, CT = ceil(Cg / BK). Thread tid always gathers row
// tid % BM of the block's tile (so its bounds checks are done once per tap) and the channels
// tid / BM + e*STEP. Consecutive threads read consecutive ow: coalesced for stride 1.
template <typename T, int BM, int BN>
struct ForwardLoaderA {
    static constexpr int THREADS = BM * BN / 16;
    static constexpr int STEP = THREADS / BM;
    static constexpr int LOADS = BK / STEP;
    const T* x_group;  // x[n, g*Cg, 0, 0] for this thread's row
    int H, W, KW, DH, DW, Cg, CT;
    int ih0, iw0;  // input row and column of tap (0, 0)
    bool row_ok;
    int m_local, k_local;
    T reg[LOADS];

    __device__ ForwardLoaderA(const T* x, i64 m0, int N, int C, int H_, int W_, int KW_, int SH,
                              int SW, int PH, int PW, int DH_, int DW_, int G, int OH, int OW,
                              int g)
        : H(H_), W(W_), KW(KW_), DH(DH_), DW(DW_) {
        Cg = C / G;
        CT = (Cg + BK - 1) / BK;
        m_local = threadIdx.x % BM;
        k_local = threadIdx.x / BM;
        const i64 m = m0 + m_local;
        row_ok = m < (i64)N * OH * OW;
        const i64 mm = row_ok ? m : 0;
        const int ow = (int)(mm % OW);
        const int oh = (int)(mm / OW % OH);
        const int n = (int)(mm / ((i64)OW * OH));
        ih0 = oh * SH - PH;
        iw0 = ow * SW - PW;
        x_group = x + ((i64)n * C + (i64)g * Cg) * H * W;
    }
    __device__ __forceinline__ void fetch(i64 t) {
        const int tap = (int)t / CT;  // k tiles of this pass number KH*KW*CT: int is enough
        const int c0 = (int)t % CT * BK;
        const int ih = ih0 + (tap / KW) * DH;
        const int iw = iw0 + (tap % KW) * DW;
        const bool inside = row_ok && ih >= 0 && ih < H && iw >= 0 && iw < W;
#pragma unroll
        for (int e = 0; e < LOADS; ++e) {
            const int c = c0 + k_local + e * STEP;
            reg[e] = (inside && c < Cg) ? x_group[((i64)c * H + ih) * W + iw] : T(0);
        }
    }
    __device__ __forceinline__ void stash(SmemTiles<T, BM, BN>& s) const {
#pragma unroll
        for (int e = 0; e < LOADS; ++e) s.A[k_local + e * STEP][m_local] = reg[e];
    }
};

// B[k][j] of the forward pass: the weights rearranged by the launcher to wt (G, KH*KW, Cg, OCg),
// so that row k = (tap, c) of B is contiguous in j. Thread tid loads column tid % BN of rows
// tid / BN + e*STEP.
template <typename T, int BM, int BN>
struct ForwardLoaderB {
    static constexpr int THREADS = BM * BN / 16;
    static constexpr int STEP = THREADS / BN;
    static constexpr int LOADS = BK / STEP;
    const T* wt_group;  // wt[g, 0, 0, 0]
    int Cg, OCg, CT;
    int j, j_local, k_local;
    T reg[LOADS];

    __device__ ForwardLoaderB(const T* wt, int j0, int C, int OC, int KH, int KW, int G, int g) {
        Cg = C / G;
        OCg = OC / G;
        CT = (Cg + BK - 1) / BK;
        j_local = threadIdx.x % BN;
        k_local = threadIdx.x / BN;
        j = j0 + j_local;
        wt_group = wt + (i64)g * KH * KW * Cg * OCg;
    }
    __device__ __forceinline__ void fetch(i64 t) {
        const int tap = (int)t / CT;  // k tiles of this pass number KH*KW*CT: int is enough
        const int c0 = (int)t % CT * BK;
#pragma unroll
        for (int e = 0; e < LOADS; ++e) {
            const int c = c0 + k_local + e * STEP;
            reg[e] = (c < Cg && j < OCg) ? wt_group[((i64)tap * Cg + c) * OCg + j] : T(0);
        }
    }
    __device__ __forceinline__ void stash(SmemTiles<T, BM, BN>& s) const {
#pragma unroll
        for (int e = 0; e < LOADS; ++e) s.B[k_local + e * STEP][j_local] = reg[e];
    }
};

// Grid: (ceil(N*OH*OW / BM), ceil(OCg / BN), G); block: BM*BN/16 threads.
// Each block computes y for BM output positions and BN output channels of group blockIdx.z,
// adding the bias (if has_bias) when it writes the tile out.
template <typename T, int BM, int BN>
__global__ void __launch_bounds__(BM * BN / 16, MIN_BLOCKS<T>)
    conv2d_forward_gemm_kernel(const T* __restrict__ x, const T* __restrict__ wt,
                               const T* __restrict__ b, T* __restrict__ y, int N, int C, int H,
                               int W, int OC, int KH, int KW, int SH, int SW, int PH, int PW,
                               int DH, int DW, int G, int OH, int OW, int has_bias) {
    const int g = blockIdx.z;
    const i64 m0 = (i64)blockIdx.x * BM;
    const int j0 = blockIdx.y * BN;
    const int Cg = C / G, OCg = OC / G;
    const i64 num_k_tiles = (i64)KH * KW * ((Cg + BK - 1) / BK);

    ForwardLoaderA<T, BM, BN> a(x, m0, N, C, H, W, KW, SH, SW, PH, PW, DH, DW, G, OH, OW, g);
    ForwardLoaderB<T, BM, BN> bl(wt, j0, C, OC, KH, KW, G, g);
    T acc[4][4];
    gemm_tile_loop<T, BM, BN>(a, bl, 0, num_k_tiles, acc);

    // Write out: row m = (n, p) with p = oh*OW + ow goes to y[n, oc, p].
    const int tm = threadIdx.x % (BM / 4);
    const int tn = threadIdx.x / (BM / 4);
    const i64 P = (i64)OH * OW;
    const i64 M = (i64)N * P;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const i64 m = m0 + 4 * tm + i;
        if (m >= M) continue;
        const i64 n = m / P;
        const i64 p = m - n * P;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int oc_local = j0 + 4 * tn + j;
            if (oc_local >= OCg) continue;
            const int oc = g * OCg + oc_local;
            y[(n * OC + oc) * P + p] = has_bias ? acc[i][j] + b[oc] : acc[i][j];
        }
    }
}

// Backward-input pass: gx from gy and w.

// Input row h is read by output row oh through tap kh exactly when h + PH - kh*DH = oh*SH. With a
// stride, most (h, kh) pairs have no such oh, and a GEMM over every tap would mostly multiply
// zeros. So the rows are split into SH*SW phases by (h mod SH, w mod SW). All rows of a phase
// have the same valid taps: along one axis, the kh in [0, KH) with kh*DH = p + PH (mod SH),
// which are first, first + step, first + 2*step, ... (step = SH / gcd(SH, DH)). A block works
// on one phase and loops over its valid taps only. With stride 1 there is one phase and every
// tap is valid.

// The valid taps of one axis for phase p, and the output offset each reads: row i of the phase
// (input h = p + i*S) meets valid tap v at output i + q_first - v*dq.
struct PhaseTaps {
    int first, step, count;
    int q_first, dq;
};
__device__ inline PhaseTaps phase_taps(int p, int K, int S, int P, int D) {
    int a = S, b = D;  // gcd(S, D) by Euclid
    while (b != 0) {
        const int r = a % b;
        a = b;
        b = r;
    }
    PhaseTaps taps;
    taps.step = S / a;
    taps.first = -1;
    for (int k = 0; k < taps.step && taps.first < 0; ++k) {
        if ((p + P - k * D) % S == 0) taps.first = k;
    }
    taps.count = (taps.first >= 0 && taps.first < K) ? (K - 1 - taps.first) / taps.step + 1 : 0;
    taps.q_first = taps.first >= 0 ? (p + P - taps.first * D) / S : 0;  // exact division
    taps.dq = taps.step * D / S;
    return taps;
}

// A[m][k] of the backward-input pass for one phase: m = (n, i, j), the input element
// (h, w) = (ph + i*SH, pw + j*SW); k = (valid tap v, oc in group), tile t covering valid tap
// t / OT and output channels oc0 .. oc0+15, oc0 = (t % OT) * BK, OT = ceil(OCg / BK). The
// element is gy[n, oc, oh, ow] at the output the tap reads, or zero outside gy.
template <typename T, int BM, int BN>
struct BackwardInputLoaderA {
    static constexpr int THREADS = BM * BN / 16;
    static constexpr int STEP = THREADS / BM;
    static constexpr int LOADS = BK / STEP;
    const T* gy_group;  // gy[n, g*OCg, 0, 0] for this thread's row
    PhaseTaps taps_h, taps_w;
    int OCg, OT, OH, OW;
    int i, j;  // this thread's row in the phase grid
    bool row_ok;
    int m_local, k_local;
    T reg[LOADS];

    __device__ BackwardInputLoaderA(const T* gy, i64 m0, i64 M, int Hq, int Wq, int OC, int G,
                                    int OH_, int OW_, int g, PhaseTaps th, PhaseTaps tw)
        : taps_h(th), taps_w(tw), OH(OH_), OW(OW_) {
        OCg = OC / G;
        OT = (OCg + BK - 1) / BK;
        m_local = threadIdx.x % BM;
        k_local = threadIdx.x / BM;
        const i64 m = m0 + m_local;
        row_ok = m < M;
        const i64 mm = row_ok ? m : 0;
        j = (int)(mm % Wq);
        i = (int)(mm / Wq % Hq);
        const int n = (int)(mm / ((i64)Wq * Hq));
        gy_group = gy + ((i64)n * OC + (i64)g * OCg) * OH * OW;
    }
    __device__ __forceinline__ void fetch(i64 t) {
        const int v = (int)t / OT;  // k tiles number count_h*count_w*OT: int is enough
        const int oc0 = (int)t % OT * BK;
        const int oh = i + taps_h.q_first - v / taps_w.count * taps_h.dq;
        const int ow = j + taps_w.q_first - v % taps_w.count * taps_w.dq;
        const bool inside = row_ok && oh >= 0 && oh < OH && ow >= 0 && ow < OW;
#pragma unroll
        for (int e = 0; e < LOADS; ++e) {
            const int oc = oc0 + k_local + e * STEP;
            reg[e] = (inside && oc < OCg) ? gy_group[((i64)oc * OH + oh) * OW + ow] : T(0);
        }
    }
    __device__ __forceinline__ void stash(SmemTiles<T, BM, BN>& s) const {
#pragma unroll
        for (int e = 0; e < LOADS; ++e) s.A[k_local + e * STEP][m_local] = reg[e];
    }
};

// B[k][j] of the backward-input pass: w rearranged by the launcher to wt (G, KH*KW, OCg, Cg), so
// row k = (tap, oc) is contiguous in the input channel j; valid tap v of tile t is
// (kh, kw) = (first_h + (v / count_w)*step_h, first_w + (v % count_w)*step_w).
template <typename T, int BM, int BN>
struct BackwardInputLoaderB {
    static constexpr int THREADS = BM * BN / 16;
    static constexpr int STEP = THREADS / BN;
    static constexpr int LOADS = BK / STEP;
    const T* wt_group;  // wt[g, 0, 0, 0]
    PhaseTaps taps_h, taps_w;
    int KW, Cg, OCg, OT;
    int j, j_local, k_local;
    T reg[LOADS];

    __device__ BackwardInputLoaderB(const T* wt, int j0, int C, int OC, int KH, int KW_, int G,
                                    int g, PhaseTaps th, PhaseTaps tw)
        : taps_h(th), taps_w(tw), KW(KW_) {
        Cg = C / G;
        OCg = OC / G;
        OT = (OCg + BK - 1) / BK;
        j_local = threadIdx.x % BN;
        k_local = threadIdx.x / BN;
        j = j0 + j_local;
        wt_group = wt + (i64)g * KH * KW * OCg * Cg;
    }
    __device__ __forceinline__ void fetch(i64 t) {
        const int v = (int)t / OT;
        const int oc0 = (int)t % OT * BK;
        const int kh = taps_h.first + v / taps_w.count * taps_h.step;
        const int kw = taps_w.first + v % taps_w.count * taps_w.step;
        const int tap = kh * KW + kw;
#pragma unroll
        for (int e = 0; e < LOADS; ++e) {
            const int oc = oc0 + k_local + e * STEP;
            reg[e] = (oc < OCg && j < Cg) ? wt_group[((i64)tap * OCg + oc) * Cg + j] : T(0);
        }
    }
    __device__ __forceinline__ void stash(SmemTiles<T, BM, BN>& s) const {
#pragma unroll
        for (int e = 0; e < LOADS; ++e) s.B[k_local + e * STEP][j_local] = reg[e];
    }
};

// Grid: (ceil(N*ceil(H/SH)*ceil(W/SW) / BM), ceil(Cg / BN), G*SH*SW);
// block: BM*BN/16 threads.
// blockIdx.z = (g*SH + ph)*SW + pw picks the group and the phase; each block computes gx for BM
// input positions of that phase and BN input channels. Phases with fewer rows than the first
// leave their last blocks idle.
template <typename T, int BM, int BN>
__global__ void __launch_bounds__(BM * BN / 16, MIN_BLOCKS<T>)
    conv2d_backward_input_gemm_kernel(const T* __restrict__ gy, const T* __restrict__ wt,
                                      T* __restrict__ gx, int N, int C, int H, int W, int OC,
                                      int KH, int KW, int SH, int SW, int PH, int PW, int DH,
                                      int DW, int G, int OH, int OW) {
    const int g = blockIdx.z / (SH * SW);
    const int ph = blockIdx.z / SW % SH;
    const int pw = blockIdx.z % SW;
    const int Hq = ph < H ? (H - ph + SH - 1) / SH : 0;  // rows h = ph, ph + SH, ... < H
    const int Wq = pw < W ? (W - pw + SW - 1) / SW : 0;
    const i64 M = (i64)N * Hq * Wq;
    const i64 m0 = (i64)blockIdx.x * BM;
    if (m0 >= M) return;  // the whole block is past this phase's rows
    const int j0 = blockIdx.y * BN;
    const int Cg = C / G, OCg = OC / G;
    const PhaseTaps th = phase_taps(ph, KH, SH, PH, DH);
    const PhaseTaps tw = phase_taps(pw, KW, SW, PW, DW);
    const i64 num_k_tiles = (i64)th.count * tw.count * ((OCg + BK - 1) / BK);

    BackwardInputLoaderA<T, BM, BN> a(gy, m0, M, Hq, Wq, OC, G, OH, OW, g, th, tw);
    BackwardInputLoaderB<T, BM, BN> bl(wt, j0, C, OC, KH, KW, G, g, th, tw);
    T acc[4][4];
    gemm_tile_loop<T, BM, BN>(a, bl, 0, num_k_tiles, acc);

    // Write out: row m = (n, i, j) is gx[n, c, ph + i*SH, pw + j*SW]. Phases without a valid
    // tap write zeros: no output reads those inputs.
    const int tm = threadIdx.x % (BM / 4);
    const int tn = threadIdx.x / (BM / 4);
#pragma unroll
    for (int r = 0; r < 4; ++r) {
        const i64 m = m0 + 4 * tm + r;
        if (m >= M) continue;
        const int jj = (int)(m % Wq);
        const int ii = (int)(m / Wq % Hq);
        const i64 n = m / ((i64)Wq * Hq);
        const i64 hw = (i64)(ph + ii * SH) * W + (pw + jj * SW);
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            const int c_local = j0 + 4 * tn + c;
            if (c_local >= Cg) continue;
            gx[(n * C + g * Cg + c_local) * H * W + hw] = acc[r][c];
        }
    }
}

// Backward-weight pass: gw from gy and x.

// The k axis of backward-weight runs over (n, p), p = oh*OW + ow. Tile t covers image
// n = t / PT and positions p0 .. p0+15 of it, p0 = (t % PT) * BK, PT = ceil(OH*OW / BK), so a
// tile never straddles two images. Both loaders give thread tid the k offset tid % BK (16
// consecutive threads read 16 consecutive positions: coalesced) and rows or columns
// tid / BK + e*STEP.

// A[m][k] = gy[n, g*OCg + m, p]: rows are the output channels of the group.
template <typename T, int BM, int BN>
struct BackwardWeightLoaderA {
    static constexpr int THREADS = BM * BN / 16;
    static constexpr int STEP = THREADS / BK;
    static constexpr int LOADS = BM / STEP;
    const T* gy;
    int OC, OCg, PT, P, oc_base, m0;
    int k_local, m_local;
    T reg[LOADS];

    __device__ BackwardWeightLoaderA(const T* gy_, int m0_, int OC_, int OH, int OW, int G, int g)
        : gy(gy_), OC(OC_), m0(m0_) {
        OCg = OC / G;
        oc_base = g * OCg;
        P = OH * OW;
        PT = (P + BK - 1) / BK;
        k_local = threadIdx.x % BK;
        m_local = threadIdx.x / BK;
    }
    __device__ __forceinline__ void fetch(i64 t) {
        const i64 n = t / PT;
        const int p = (int)(t % PT) * BK + k_local;
#pragma unroll
        for (int e = 0; e < LOADS; ++e) {
            const int oc = m0 + m_local + e * STEP;
            reg[e] = (p < P && oc < OCg) ? gy[(n * OC + oc_base + oc) * P + p] : T(0);
        }
    }
    __device__ __forceinline__ void stash(SmemTiles<T, BM, BN>& s) const {
#pragma unroll
        for (int e = 0; e < LOADS; ++e) s.A[k_local][m_local + e * STEP] = reg[e];
    }
};

// B[k][j] = x[n, g*Cg + c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW] with column j = (c, kh, kw),
// the layout of one filter of gw. A thread's columns never change, so it decodes them once.
template <typename T, int BM, int BN>
struct BackwardWeightLoaderB {
    static constexpr int THREADS = BM * BN / 16;
    static constexpr int STEP = THREADS / BK;
    static constexpr int LOADS = BN / STEP;
    const T* x;
    int C, H, W, SH, SW, OW, P, PT;
    int k_local, j_local;
    int chan[LOADS];  // g*Cg + c of each column, or -1 past the last column
    int dh[LOADS];    // kh*DH - PH
    int dw[LOADS];    // kw*DW - PW
    T reg[LOADS];

    __device__ BackwardWeightLoaderB(const T* x_, int j0, int C_, int H_, int W_, int KH, int KW,
                                     int SH_, int SW_, int PH, int PW, int DH, int DW, int G,
                                     int OH, int OW_, int g)
        : x(x_), C(C_), H(H_), W(W_), SH(SH_), SW(SW_), OW(OW_) {
        const int Cg = C / G;
        P = OH * OW;
        PT = (P + BK - 1) / BK;
        k_local = threadIdx.x % BK;
        j_local = threadIdx.x / BK;
#pragma unroll
        for (int e = 0; e < LOADS; ++e) {
            const int j = j0 + j_local + e * STEP;
            const int c = j / (KH * KW);
            const int kh = j / KW % KH;
            const int kw = j % KW;
            chan[e] = c < Cg ? g * Cg + c : -1;
            dh[e] = kh * DH - PH;
            dw[e] = kw * DW - PW;
        }
    }
    __device__ __forceinline__ void fetch(i64 t) {
        const i64 n = t / PT;
        const int p = (int)(t % PT) * BK + k_local;
        const bool p_ok = p < P;
        const int oh = p / OW;
        const int ow = p % OW;
#pragma unroll
        for (int e = 0; e < LOADS; ++e) {
            const int ih = oh * SH + dh[e];
            const int iw = ow * SW + dw[e];
            const bool inside = p_ok && chan[e] >= 0 && ih >= 0 && ih < H && iw >= 0 && iw < W;
            reg[e] = inside ? x[((n * C + chan[e]) * H + ih) * W + iw] : T(0);
        }
    }
    __device__ __forceinline__ void stash(SmemTiles<T, BM, BN>& s) const {
#pragma unroll
        for (int e = 0; e < LOADS; ++e) s.B[k_local][j_local + e * STEP] = reg[e];
    }
};

// Grid: (ceil(Cg*KH*KW / BN), ceil(OCg / BM), G * S); block: BM*BN/16 threads.
// blockIdx.z = g*S + s: block (.., .., g*S + s) sums k tiles [s*T/S, (s+1)*T/S) of group g,
// T = N * ceil(OH*OW / BK), and writes its partial tile to ws[s] (S, OC, Cg*KH*KW).
template <typename T, int BM, int BN>
__global__ void __launch_bounds__(BM * BN / 16, MIN_BLOCKS<T>)
    conv2d_backward_weight_gemm_kernel(const T* __restrict__ gy, const T* __restrict__ x,
                                       T* __restrict__ ws, int N, int C, int H, int W, int OC,
                                       int KH, int KW, int SH, int SW, int PH, int PW, int DH,
                                       int DW, int G, int OH, int OW, int S) {
    const int g = blockIdx.z / S;
    const int s = blockIdx.z % S;
    const int j0 = blockIdx.x * BN;
    const int m0 = blockIdx.y * BM;
    const int Cg = C / G, OCg = OC / G;
    const int NC = Cg * KH * KW;
    const i64 total_tiles = (i64)N * ((OH * OW + BK - 1) / BK);
    const i64 t_begin = total_tiles * s / S;
    const i64 t_end = total_tiles * (s + 1) / S;

    BackwardWeightLoaderA<T, BM, BN> a(gy, m0, OC, OH, OW, G, g);
    BackwardWeightLoaderB<T, BM, BN> bl(x, j0, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, G, OH,
                                        OW, g);
    T acc[4][4];
    gemm_tile_loop<T, BM, BN>(a, bl, t_begin, t_end, acc);

    const int tm = threadIdx.x % (BM / 4);
    const int tn = threadIdx.x / (BM / 4);
    T* ws_s = ws + (i64)s * OC * NC;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int oc_local = m0 + 4 * tm + i;
        if (oc_local >= OCg) continue;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int col = j0 + 4 * tn + j;
            if (col >= NC) continue;
            ws_s[(i64)(g * OCg + oc_local) * NC + col] = acc[i][j];
        }
    }
}

// gw[i] = ws[0][i] + ws[1][i] + ... + ws[S-1][i], one thread per element of gw, always in the
// same order, so backward-weight gives the same bits on every run.
template <typename T>
__global__ void conv2d_backward_weight_reduce_kernel(const T* __restrict__ ws, T* __restrict__ gw,
                                                     i64 total, int S) {
    GRID_STRIDE_LOOP(i, total) {
        T acc = 0;
        for (int s = 0; s < S; ++s) acc += ws[(i64)s * total + i];
        gw[i] = acc;
    }
}
