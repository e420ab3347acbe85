"""Light kernels against plain array code: does a fused kernel earn its place?

    python -m benchmarks.light_kernels [--backends numpy numba cupy] [--repeats 40]

A light kernel does arithmetic that array code writes in a few lines: the SGD and Adam steps,
the residual join (fused with its ReLU) and its backward, batch norm's evaluation forward and
its running-statistics update. Each case runs both ways on the same inputs: ``kernel`` is
``backend.kernel(name)``, ``array`` is the ``numpy_ref`` function of the same name, which *is*
the array code an op would write (it calls ``np.sqrt``, ``np.maximum`` and operators, which
CuPy arrays take over, one launch each). The two are checked equal first, then timed with the
variants interleaved in every repeat (a burst of load hits both alike), and the minimum over
repeats is reported: on a shared machine the least disturbed run is the one that measures the
code. On ``numpy`` the kernel is the array code, so that column is the host's array-code
baseline. The load average is recorded before and after.

It also counts the launches one ResNet-20 training step (SGD as the recipe, or Adam) and one
evaluation forward would make on CuPy, with the light kernels fused and with them as array
code (``benchmarks/launches.py``).

The rule it decides, stated in ``kernels/__init__.py``: a light kernel stays only where it is
faster than the array code on some backend. Writes ``benchmarks/results/light-kernels-<tag>.json``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.common import machine_info, table, write_json

LIGHT = (
    "sgd_update_",
    "adam_update_",
    "residual_add_forward",
    "residual_add_backward",
    "batchnorm_forward_eval",
    "batchnorm_update_running",
)
RESNET20_ACTIVATIONS = ((128, 16, 32, 32), (128, 32, 16, 16), (128, 64, 8, 8))


def resnet20_parameters() -> list[np.ndarray]:
    """Shapes of ResNet-20's 59 parameters (270k values), as float32 arrays."""
    import minicnn
    from minicnn import models

    with minicnn.use_backend("numpy"):
        return [p.array for p in models.resnet20().parameters()]


def cases(rng: np.random.Generator) -> list[tuple[str, str, Callable[[], list[tuple]]]]:
    """(kernel name, case label, a function returning the argument tuples of one call each)."""

    def f32(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    def sgd_call(shape: tuple[int, ...]) -> tuple:  # momentum 0.9, Nesterov, weight decay
        return (f32(*shape), f32(*shape), f32(*shape), 0.05, 0.9, 0, 5e-4, True, False, False)

    def adam_call(shape: tuple[int, ...]) -> tuple:  # weight decay, step 10
        p, g, m, v = f32(*shape), f32(*shape), f32(*shape), np.abs(f32(*shape))
        return (p, g, m, v, None, 1e-3, 0.9, 0.999, 1e-8, 5e-4, False, False, 10)

    params = [p.shape for p in resnet20_parameters()]
    big = (1 << 20,)
    out: list[tuple[str, str, Callable[[], list[tuple]]]] = [
        ("sgd_update_", "resnet20 parameters (59)", lambda: [sgd_call(s) for s in params]),
        ("sgd_update_", "one parameter of 2^20", lambda: [sgd_call(big)]),
        ("adam_update_", "resnet20 parameters (59)", lambda: [adam_call(s) for s in params]),
        ("adam_update_", "one parameter of 2^20", lambda: [adam_call(big)]),
    ]
    for shape in RESNET20_ACTIVATIONS:
        N, C, H, W = shape
        label = "x".join(map(str, shape))
        out += [
            ("residual_add_forward", label, lambda s=shape: [(f32(*s), f32(*s), 1)]),
            ("residual_add_backward", label, lambda s=shape: [(f32(*s), f32(*s), 1)]),
            (
                "batchnorm_forward_eval",
                label,
                lambda N=N, C=C, L=H * W: [
                    (f32(N, C, L), f32(C), np.abs(f32(C)) + 1, f32(C), f32(C), 1e-5)
                ],
            ),
        ]
    for C, M in ((16, 128 * 1024), (32, 128 * 256), (64, 128 * 64)):
        out.append(
            (
                "batchnorm_update_running",
                f"C={C}",
                lambda C=C, M=M: [
                    (f32(C), np.abs(f32(C)) + 1, f32(C), np.abs(f32(C)) + 1, 0.1, 1e-5, M)
                ],
            )
        )
    return out


def to_backend(calls: list[tuple], name: str) -> list[tuple]:
    if name != "cupy":
        return calls
    import cupy

    return [tuple(cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in c) for c in calls]


def copies(calls: list[tuple]) -> list[tuple]:
    return [
        tuple(a.copy() if hasattr(a, "copy") and not np.isscalar(a) else a for a in c)
        for c in calls
    ]


def results_of(fn: Callable, calls: list[tuple]) -> list[np.ndarray]:
    """What a variant computes: its returned arrays, or (in-place kernels) its arguments."""
    from minicnn import backend

    out = []
    for c in calls:
        r = fn(*c)
        arrays = c if r is None else (r if isinstance(r, tuple) else (r,))
        out += [backend.to_host(a) for a in arrays if backend.is_array(a)]
    return out


def time_variants(
    variants: dict[str, Callable[[], Any]], repeats: int, sync: Callable[[], None]
) -> dict[str, float]:
    """Minimum ms per variant; the variants take turns within every repeat."""
    best = dict.fromkeys(variants, float("inf"))
    for fn in variants.values():  # warm up: JIT compiles, CUDA module loads, caches
        fn()
        sync()
    for _ in range(repeats):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn()
            sync()
            best[name] = min(best[name], (time.perf_counter() - t0) * 1e3)
    return best


def run(backends: list[str], repeats: int) -> list[dict[str, Any]]:
    from minicnn.kernels import numpy_ref

    from minicnn import backend

    rows = []
    for kernel_name, label, make in cases(np.random.default_rng(0)):
        row: dict[str, Any] = {"kernel": kernel_name, "case": label}
        host_calls = make()
        for name in backends:
            kernel = backend.kernel(kernel_name, name)
            array = numpy_ref.KERNELS[kernel_name]
            calls = to_backend(host_calls, name)
            got = results_of(kernel, copies(calls))
            want = results_of(array, copies(calls))
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6, err_msg=kernel_name)
            variants = {
                "kernel": lambda k=kernel, c=calls: [k(*a) for a in c],
                "array": lambda f=array, c=calls: [f(*a) for a in c],
            }
            if name == "numpy":  # the same function twice: time it once
                variants.pop("kernel")
            ms = time_variants(variants, repeats, lambda n=name: backend.synchronize(n))
            row[f"{name}_array_ms"] = ms["array"]
            if "kernel" in ms:
                row[f"{name}_kernel_ms"] = ms["kernel"]
                row[f"{name}_speedup"] = ms["array"] / ms["kernel"]
        rows.append(row)
        print(
            f"  {kernel_name} {label}: "
            + ", ".join(f"{k} {v:.3f}" for k, v in row.items() if k.endswith(("ms", "up"))),
            flush=True,
        )
    return rows


LAUNCH_CONFIGS = {
    # (optimizer, kernels run as array code)
    "sgd step, light kernels fused": ("sgd", ()),
    "sgd step, sgd_update_ as array code": ("sgd", ("sgd_update_",)),
    "sgd step, all light kernels as array code": ("sgd", LIGHT),
    "adam step, light kernels fused": ("adam", ()),
    "adam step, adam_update_ as array code": ("adam", ("adam_update_",)),
    "eval forward, light kernels fused": (None, ()),
    "eval forward, all light kernels as array code": (None, LIGHT),
}


def launch_counts() -> list[dict[str, Any]]:
    from benchmarks.launches import step_launches, summary

    rows = []
    for config, (opt, as_array) in LAUNCH_CONFIGS.items():
        rows.append({"config": config, **summary(step_launches("resnet20", opt, as_array))})
    return rows


def main(argv: list[str] | None = None) -> int:
    import minicnn

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backends", nargs="+", default=None, help="default: every available backend")
    p.add_argument("--repeats", type=int, default=40)
    p.add_argument("--no-launches", action="store_true", help="skip the launch counts")
    p.add_argument("--tag", default=None, help="file-name tag (default: cpu or gpu)")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    backends = args.backends or minicnn.available_backends()
    load_before = os.getloadavg()
    rows = run(backends, args.repeats)
    load_after = os.getloadavg()
    columns = [("kernel", "kernel", ""), ("case", "case", "")]
    for name in backends:
        columns.append((f"{name}_array_ms", f"{name} array", "{:.3f}"))
        if name != "numpy":
            columns += [
                (f"{name}_kernel_ms", f"{name} kernel", "{:.3f}"),
                (f"{name}_speedup", "array/kernel", "{:.2f}"),
            ]
    print(table(rows, columns))
    launches = [] if args.no_launches else launch_counts()
    if launches:
        print()
        print(
            table(
                launches,
                [
                    ("config", "ResNet-20", ""),
                    ("total", "launches", "{}"),
                    ("kernels", "kernels", "{}"),
                    ("array_ops", "array ops", "{}"),
                ],
            )
        )
    result = {
        "machine": machine_info(),
        "numba_threads": _numba_threads(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "repeats": args.repeats,
        "statistic": "minimum ms over repeats, variants interleaved",
        "rows": rows,
        "launches_per_step": launches,
    }
    path = write_json(
        f"light-kernels-{args.tag or ('gpu' if 'cupy' in backends else 'cpu')}", result, args.out
    )
    print(f"wrote {path}")
    return 0


def _numba_threads() -> int | None:
    try:
        import numba

        return numba.get_num_threads()
    except ImportError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
