"""The command line: ``python -m minicnn <command>``.

``info`` lists the backends (and why one cannot run here) and proves conv2d's backward on each
available backend with a finite-difference check in float64.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Sequence

import numpy as np

import minicnn
from minicnn import backend


def _info(args: argparse.Namespace) -> int:
    import minicnn.nn.functional as F

    print(
        f"minicnn {minicnn.__version__}, Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(f"default backend: {minicnn.get_backend()}")
    for name in backend.BACKENDS:
        reason = minicnn.unavailable_reason(name)
        print(f"  {name:6s} {'available' if reason is None else 'unavailable: ' + reason}")
    print("gradcheck of conv2d (stride 2, padding 1, dilation 2, groups 2), float64:")
    for name in minicnn.available_backends():
        with minicnn.use_backend(name):
            minicnn.manual_seed(0)
            x = minicnn.randn(2, 4, 7, 6, dtype="float64", requires_grad=True)
            w = minicnn.randn(6, 2, 3, 2, dtype="float64", requires_grad=True)
            b = minicnn.randn(6, dtype="float64", requires_grad=True)
            t0 = time.perf_counter()
            ok = minicnn.gradcheck(
                lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
                (x, w, b),
            )
            print(f"  {name:6s} {'passed' if ok else 'FAILED'} ({time.perf_counter() - t0:.2f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minicnn", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="backends available here, and a gradient check")
    info.set_defaults(func=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
