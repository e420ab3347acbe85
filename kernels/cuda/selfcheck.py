"""Run every CUDA kernel once on a small case and compare it with numpy_ref.

Usage on a machine with CuPy and a CUDA GPU::

    python -m minicnn.kernels.cuda.selfcheck

Prints one line per kernel and dtype: PASS or FAIL, the largest absolute error and the largest
error relative to the reference's magnitude. Exits with status 1 if anything failed. The cases
are chosen to reach every code path once: groups, padding, stride, dilation, a bias, channel
counts that are not multiples of the tile sizes, ceil-mode pooling windows.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from minicnn.kernels import HEAVY_KERNELS

from ..geometry import out_size

# float32 results agree with the float64-accumulating reference to about 1e-6 of the output's
# magnitude; float64 ones to about 1e-14. The bars sit well above that.
RTOL = {np.float32: 1e-4, np.float64: 1e-10}


def _cases(rng: np.random.Generator, dtype) -> list[tuple[str, tuple, str]]:
    """(kernel name, numpy arguments, variant) triples; arrays are converted for the GPU call."""

    def randn(*shape):
        return rng.standard_normal(shape).astype(dtype)

    def distinct(*shape):  # no ties, so max pooling picks the same element everywhere
        return (rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0).astype(dtype)

    ref = _numpy_ref()
    x = randn(2, 6, 9, 7)
    w = randn(9, 2, 3, 2)  # G = 3: 6 input and 9 output channels, 2 and 3 per group
    b = randn(9)
    conv = (1, 2, 1, 0, 2, 1, 3)  # SH, SW, PH, PW, DH, DW, G
    gy = randn(*ref["conv2d_forward"](x, w, b, *conv).shape)
    # A ResNet-like layer that reaches the larger tiles: 40 channels, two k chunks.
    xr, wr = randn(3, 40, 8, 8), randn(40, 40, 3, 3)
    resnet = (2, 2, 1, 1, 1, 1, 1)  # stride 2, padding 1
    gyr = randn(3, 40, 4, 4)
    xp = distinct(2, 3, 7, 8)
    # max pooling 2x3, stride 2, padding (0, 1), in ceil mode: the last windows hang over
    pool = (2, 3, 2, 2, 0, 1, 1, 1)  # KH, KW, SH, SW, PH, PW, DH, DW
    OH, OW = out_size(7, 2, 2, 0, 1, True), out_size(8, 3, 2, 1, 1, True)
    dilated = (2, 2, 1, 2, 0, 1, 2, 1)
    dOH, dOW = out_size(7, 2, 1, 0, 2, False), out_size(8, 2, 2, 1, 1, False)
    # average pooling 3x3, stride 2, padding 1, in ceil mode
    aOH, aOW = out_size(7, 3, 2, 1, 1, True), out_size(8, 3, 2, 1, 1, True)
    xbn = (rng.standard_normal((4, 3, 10)) * 2 + 5).astype(dtype)
    gamma, beta = randn(3), randn(3)
    mean, invstd = xbn.mean(axis=(0, 2)), 1 / np.sqrt(xbn.var(axis=(0, 2)) + 1e-5)
    _, idx = ref["maxpool2d_forward"](xp, *pool, OH, OW)
    _, aidx = ref["adaptive_maxpool2d_forward"](xp, 3, 5)
    cases = [
        ("conv2d_forward", (x, w, b, *conv), ""),
        ("conv2d_forward", (x, w, None, *conv), "no bias"),
        ("conv2d_forward", (xr, wr, None, *resnet), "40 channels"),
        ("conv2d_backward_input", (gy, w, 9, 7, *conv), ""),
        ("conv2d_backward_input", (gyr, wr, 8, 8, *resnet), "40 channels"),
        ("conv2d_backward_weight", (gy, x, 3, 2, *conv), ""),
        ("conv2d_backward_weight", (gyr, xr, 3, 3, *resnet), "40 channels"),
        ("maxpool2d_forward", (xp, *pool, OH, OW), "ceil mode"),
        ("maxpool2d_forward", (xp, *dilated, dOH, dOW), "dilation 2"),
        ("maxpool2d_backward", (randn(2, 3, OH, OW), idx, 7, 8, *pool), ""),
        ("avgpool2d_forward", (xp, 3, 3, 2, 2, 1, 1, aOH, aOW, 1), "ceil mode, include pad"),
        ("avgpool2d_forward", (xp, 3, 3, 2, 2, 1, 1, aOH, aOW, 0), "ceil mode, exclude pad"),
        ("avgpool2d_backward", (randn(2, 3, aOH, aOW), 7, 8, 3, 3, 2, 2, 1, 1, 0), ""),
        ("avgpool2d_backward", (randn(2, 3, aOH, aOW), 7, 8, 3, 3, 2, 2, 1, 1, 1), "include pad"),
        ("adaptive_avgpool2d_forward", (xp, 3, 5), ""),
        ("adaptive_avgpool2d_backward", (randn(2, 3, 3, 5), 7, 8), ""),
        ("adaptive_avgpool2d_backward", (randn(2, 3, 9, 11), 7, 8), "more cells than inputs"),
        ("adaptive_maxpool2d_forward", (xp, 3, 5), ""),
        ("adaptive_maxpool2d_backward", (randn(2, 3, 3, 5), aidx, 7, 8), ""),
        ("batchnorm_forward_train", (xbn, gamma, beta, 1e-5), ""),
        ("batchnorm_forward_eval", (xbn, mean, invstd, gamma, beta, 1e-3), ""),
        ("batchnorm_backward", (randn(4, 3, 10), xbn, gamma, mean, invstd), ""),
        ("dropout_mask", ((3, 5, 7), 0.3, 12345), ""),
        ("residual_add_forward", (randn(2, 3, 4), randn(2, 3, 4), 1), "relu"),
        ("residual_add_forward", (randn(2, 3, 4), randn(2, 3, 4), 0), ""),
        ("residual_add_backward", (randn(2, 3, 4), randn(2, 3, 4), 1), "relu"),
        ("batchnorm_update_running", (mean, invstd, mean * 0.5, invstd, 0.1, 1e-5, 40), ""),
        (
            "sgd_update_",
            (randn(3, 4), randn(3, 4), randn(3, 4), 0.1, 0.9, 0.0, 5e-4, True, False, False),
            "nesterov, weight decay",
        ),
        (
            "adam_update_",
            (*(randn(3, 4) for _ in range(3)), np.abs(randn(3, 4)), np.abs(randn(3, 4)))
            + (1e-2, 0.9, 0.999, 1e-8, 5e-4, False, False, 3),
            "amsgrad, weight decay",
        ),
    ]
    # every direct twin runs the cases of its fast kernel
    return cases + [(f"{n}_direct", a, v) for n, a, v in cases if n in HEAVY_KERNELS]


def _numpy_ref() -> dict:
    from minicnn.kernels import numpy_ref

    reference = dict(numpy_ref.KERNELS)
    for name in HEAVY_KERNELS:
        reference[f"{name}_direct"] = reference[name]
    return reference


def _errors(got, want, dtype) -> tuple[bool, float, float]:
    """(passed, max absolute error, max error relative to the reference's largest magnitude)."""
    got = [got] if not isinstance(got, tuple) else list(got)
    want = [want] if not isinstance(want, tuple) else list(want)
    if len(got) != len(want):
        return False, float("inf"), float("inf")
    passed, max_abs, max_rel = True, 0.0, 0.0
    for g, r in zip(got, want):
        g = g.get() if hasattr(g, "get") else np.asarray(g)
        if g.shape != r.shape or g.dtype != r.dtype:
            return False, float("inf"), float("inf")
        if r.size == 0:
            continue
        if not np.issubdtype(r.dtype, np.floating):  # indices and masks must match exactly
            passed &= bool(np.array_equal(g, r))
            max_abs = max(max_abs, float(np.abs(g.astype(np.int64) - r.astype(np.int64)).max()))
            continue
        scale = float(np.abs(r[np.isfinite(r)]).max(initial=0.0)) or 1.0
        finite = np.isfinite(r)
        passed &= bool(np.array_equal(np.isfinite(g), finite))
        err = np.abs(g[finite].astype(np.float64) - r[finite])
        rtol = RTOL[dtype]
        passed &= bool(np.all(err <= rtol * np.abs(r[finite]) + 0.1 * rtol * scale))
        if err.size:
            max_abs = max(max_abs, float(err.max()))
            max_rel = max(max_rel, float(err.max()) / scale)
    return passed, max_abs, max_rel


def _returning_updated(update, slots: tuple[int, ...]):
    """An in-place kernel as one that returns the arguments it updates (at ``slots``)."""

    def run(*args):
        update(*args)
        return tuple(args[i] for i in slots)

    return run


def main() -> int:
    import cupy
    from minicnn.kernels import cuda

    gpu = {**cuda.KERNELS, **cuda.DIRECT}
    reference = _numpy_ref()
    # The optimizer steps work in place: compare the updated parameter and state.
    for table in (gpu, reference):
        table["sgd_update_"] = _returning_updated(table["sgd_update_"], (0, 2))
        table["adam_update_"] = _returning_updated(table["adam_update_"], (0, 2, 3, 4))
    device = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"].decode()
    print(f"minicnn CUDA self-check on {device}, CuPy {cupy.__version__}")
    failures = 0
    seen = set()
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(0)
        for name, args, variant in _cases(rng, dtype):
            seen.add(name)
            label = f"{name} [{np.dtype(dtype).name}{', ' + variant if variant else ''}]"
            gpu_args = tuple(cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
            try:
                start = time.perf_counter()
                got = gpu[name](*gpu_args)
                cupy.cuda.Device().synchronize()
                seconds = time.perf_counter() - start
                want = reference[name](*args)
                passed, max_abs, max_rel = _errors(got, want, dtype)
            except Exception as error:  # report and go on: the point is to see every kernel
                print(f"FAIL  {label}: {type(error).__name__}: {error}")
                failures += 1
                continue
            failures += not passed
            print(
                f"{'PASS' if passed else 'FAIL'}  {label}: max abs err {max_abs:.3e}, "
                f"max rel err {max_rel:.3e} ({seconds * 1e3:.1f} ms incl. first-call compile)"
            )
    missing = set(gpu) - seen
    if missing:
        print(f"FAIL  kernels without a case: {sorted(missing)}")
        failures += 1
    print(f"{'all passed' if failures == 0 else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
