"""Hand-written mutants of the kernels: the NumPy reference, the Numba kernels (which mutation
tools cannot reach inside @njit) and the CUDA sources (run only where a GPU is present)."""

from __future__ import annotations

from .mutant import mutant

REF = "kernels/numpy_ref/"
NB = "kernels/numba_cpu/"
CU = "kernels/cuda/"
REF_CONV = ("tests/kernels/test_numpy_ref_conv.py", "tests/ops/test_conv.py", "-k", "not numba")
REF_POOL = ("tests/kernels/test_numpy_ref_pool.py", "tests/ops/test_pool.py", "-k", "not numba")
REF_NORM = ("tests/kernels/test_numpy_ref.py", "tests/ops/test_norm.py", "-k", "not numba")
REF_OPTIM = ("tests/kernels/test_numpy_ref.py", "tests/optim", "-k", "not numba")
REF_MISC = (
    "tests/kernels/test_numpy_ref.py",
    "tests/ops/test_dropout.py",
    "tests/ops/test_residual.py",
    "-k",
    "not numba",
)

NUMPY_REF = [
    mutant("ref-conv-tap-ignores-dilation", "numpy_ref", REF + "conv.py",
           "return slice(k * D, k * D + (O - 1) * S + 1, S)",
           "return slice(k, k + (O - 1) * S + 1, S)", *REF_CONV),
    mutant("ref-col2im-crop-uses-PH-for-width", "numpy_ref", REF + "conv.py",
           "xp[:, :, PH : PH + H, PW : PW + W]", "xp[:, :, PH : PH + H, PH : PH + W]", *REF_CONV),
    mutant("ref-conv-weight-grad-first-sample-only", "numpy_ref", REF + "conv.py",
           "return gw.sum(axis=0).reshape(OC, Cg, KH, KW)",
           "return gw[0].reshape(OC, Cg, KH, KW)", *REF_CONV),
    mutant("ref-conv-bias-added-to-first-sample-only", "numpy_ref", REF + "conv.py",
           "y += b.reshape(1, OC, 1, 1)", "y[:1] += b.reshape(1, OC, 1, 1)", *REF_CONV),
    mutant("ref-maxpool-last-max-wins", "numpy_ref", REF + "pool.py",
           "take = ok & ((v > y) | np.isnan(v) | (idx < 0))",
           "take = ok & ((v >= y) | np.isnan(v) | (idx < 0))", *REF_POOL),
    mutant("ref-pool-tap-ignores-dilation", "numpy_ref", REF + "pool.py",
           "return slice(k * D, k * D + (O - 1) * S + 1, S)",
           "return slice(k, k + (O - 1) * S + 1, S)", *REF_POOL),
    mutant("ref-bn-unbiased-batch-variance", "numpy_ref", REF + "norm.py",
           "var = (xc * xc).mean(axis=(0, 2))", "var = (xc * xc).sum(axis=(0, 2)) / (xc.size // xc.shape[1] - 1)",
           *REF_NORM),
    mutant("ref-bn-backward-sign-of-ggamma-term", "numpy_ref", REF + "norm.py",
           "M * gy - _per_channel(gbeta) - xhat * _per_channel(ggamma)",
           "M * gy - _per_channel(gbeta) + xhat * _per_channel(ggamma)", *REF_NORM),
    mutant("ref-bn-running-var-biased", "numpy_ref", REF + "norm.py",
           "unbiased = var * (M / (M - 1))", "unbiased = var", *REF_NORM),
    mutant("ref-sgd-dampening-ignored", "numpy_ref", REF + "optim.py",
           "buf += (1 - dampening) * g", "buf += g", *REF_OPTIM),
    mutant("ref-adam-no-bias-correction-of-m", "numpy_ref", REF + "optim.py",
           "lr / (1 - beta1**step), weight_decay", "lr, weight_decay", *REF_OPTIM),
    mutant("ref-dropout-wrong-shift", "numpy_ref", REF + "dropout.py",
           "z = z ^ (z >> np.uint64(31))", "z = z ^ (z >> np.uint64(30))", *REF_MISC),
    mutant("ref-residual-relu-mask-includes-zero", "numpy_ref", REF + "residual.py",
           "return gy * (y > 0)", "return gy * (y >= 0)", *REF_MISC),
]  # fmt: skip

# The mask keeps the top 24 bits of the hash, z >> 40. The last step, z ^ (z >> k), changes
# only the bits below 64 - k, so for any k >= 24 (31 and 30 alike) the top 24 bits, and so every
# mask, are those of z before it: no input tells the mutant from the original. In the Numba and
# CUDA kernels z never leaves the kernel; the NumPy reference returns the whole hash from
# _splitmix64, where a test checks all 64 bits.
LAST_SHIFT = "the mask reads bits 40-63 of z, which z ^ (z >> k) leaves unchanged for k >= 24"

NB_CONV = ("tests/kernels/test_conv.py", "tests/kernels/test_gemm.py", "-k", "numba")

NUMBA = [
    mutant("nb-gemm-tile-drops-last-column", "numba", NB + "gemm.py",
           "min(Q, q0 + 512))", "min(Q, q0 + 511))",
           "tests/kernels/test_gemm.py", "-k", "gemm_rows", kind="gemm-tile"),
    mutant("nb-gemm-leftover-k-skipped", "numba", NB + "gemm.py",
           "for kk in range(k, K):\n                b0 = buf[pl[kk], off[kk] + q0 :]\n                a00, a10",
           "for kk in range(k, K - 1):\n                b0 = buf[pl[kk], off[kk] + q0 :]\n                a00, a10",
           "tests/kernels/test_gemm.py", "-k", "gemm_rows"),
    mutant("nb-dot-rows-edge-block-short", "numba", NB + "gemm.py",
           "for k in range(k0, min(K, k0 + 6)):", "for k in range(k0, min(K, k0 + 5)):",
           "tests/kernels/test_gemm.py", "-k", "dot_rows"),
    mutant("nb-dot-windows-leftover-row-skipped", "numba", NB + "gemm.py",
           "for m in range(m0, M):  # leftover rows", "for m in range(m0, M - 1):  # leftover rows",
           "tests/kernels/test_gemm.py", "-k", "dot_windows"),
    mutant("nb-bn-backward-float32-accumulator", "numba", NB + "norm.py",
           "acc = np.empty(L, np.float64)\n        m = np.float64(mean[c])",
           "acc = np.empty(L, np.float32)\n        m = np.float64(mean[c])",
           "tests/kernels/test_norm.py", "-k", "numba and float32_sums", kind="bn-float64"),
    mutant("nb-bn-forward-float32-accumulator", "numba", NB + "norm.py",
           "acc = np.empty(L, np.float64)\n        m = _channel_sum",
           "acc = np.empty(L, np.float32)\n        m = _channel_sum",
           "tests/kernels/test_norm.py", "-k", "numba and float32_sums"),
    mutant("nb-bn-forward-unbiased-variance", "numba", NB + "norm.py",
           "var = acc.sum() / M", "var = acc.sum() / (M - 1)",
           "tests/kernels/test_norm.py", "-k", "numba and parity"),
    mutant("nb-transpose-leftover-channel-skipped", "numba", NB + "pack.py",
           "for cc in range(c, C):", "for cc in range(c, C - 1):",
           "tests/kernels/test_conv.py", "-k", "numba and windows_any_stride"),
    mutant("nb-maxpool-last-max-wins", "numba", NB + "pool.py",
           "# the first in-bounds tap, then strict > (or NaN, which wins)\n                        if best_i < 0 or v > best",
           "# the first in-bounds tap, then strict > (or NaN, which wins)\n                        if best_i < 0 or v >= best",
           "tests/kernels/test_pool.py", "-k", "numba and maxpool"),
    mutant("nb-sgd-dampening-ignored", "numba", NB + "optim.py",
           "momentum * buf[i] + (1 - dampening) * g", "momentum * buf[i] + g",
           "tests/kernels/test_optim.py", "-k", "numba and sgd"),
    mutant("nb-dropout-wrong-shift", "numba", NB + "dropout.py",
           "z = z ^ (z >> _S31)", "z = z ^ (z >> _S30)",
           "tests/kernels/test_dropout.py", "-k", "numba", equivalent=LAST_SHIFT),
    mutant("nb-dropout-wrong-middle-shift", "numba", NB + "dropout.py",
           "z = (z ^ (z >> _S27)) * _MIX2", "z = (z ^ (z >> _S30)) * _MIX2",
           "tests/kernels/test_dropout.py", "-k", "numba"),
    mutant("nb-residual-relu-mask-includes-zero", "numba", NB + "residual.py",
           "g[i] = gy[i] if (not relu or y[i] > 0) else 0",
           "g[i] = gy[i] if (not relu or y[i] >= 0) else 0",
           "tests/kernels/test_residual.py", "-k", "numba"),
]  # fmt: skip

CU_TESTS = ("-m", "gpu", "tests/kernels")

CUDA = [
    mutant("cu-bn-float-accumulator", "cuda", CU + "norm.cu",
           "    double sum = 0.0, sum_sq = 0.0;\n    for_each_in_slice",
           "    float sum = 0.0f, sum_sq = 0.0f;\n    for_each_in_slice",
           *CU_TESTS, gpu=True),
    mutant("cu-dropout-wrong-shift", "cuda", CU + "dropout.cu", ">> 31", ">> 30", *CU_TESTS, gpu=True,
           equivalent=LAST_SHIFT),
    mutant("cu-dropout-wrong-middle-shift", "cuda", CU + "dropout.cu", ">> 27", ">> 30", *CU_TESTS,
           gpu=True),
    mutant("cu-residual-relu-mask-includes-zero", "cuda", CU + "residual.cu", "!(y[i] > T(0))",
           "!(y[i] >= T(0))",
           *CU_TESTS, gpu=True),
]  # fmt: skip
