"""How a fast backend's kernels are held to the NumPy oracle: the backends, how arrays travel
to and from them, and the tolerances.

The ``fast_backend`` fixture (``conftest.py``) runs a test once with ``numba`` and once with
``cupy`` (marked ``gpu``, skipped with the reason where CuPy or a GPU is missing). A test draws
host arrays, runs ``numpy_ref`` on them and :meth:`FastBackend.run` the same kernel on copies
moved to the backend, which also checks that the kernel left its inputs untouched; then
:meth:`FastBackend.assert_close` compares. Float32 results must agree to rtol 1e-4 and float64
to 1e-10, plus an absolute slack scaled to the result's largest finite magnitude (sums taken in
another order lose relative accuracy where they cancel): rtol times max(1, that magnitude) on
``numba``, a tenth of rtol times it on ``cupy``. Results keep the input dtype, non-finite
entries must be the same, and integer results (indices, masks) must be equal.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import minicnn

RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}


@dataclass
class FastBackend:
    """A backend's kernel tables and how its arrays go to and from the host."""

    name: str
    kernels: dict[str, Any]
    direct: dict[str, Any]
    to_device: Callable[[np.ndarray], Any]
    to_host: Callable[[Any], np.ndarray]
    atol_factor: float  # absolute slack, in units of rtol times the result's magnitude
    at_least_one: bool  # whether that magnitude counts as at least 1

    def device(self, *args: Any) -> tuple:
        """The arguments with every NumPy array copied to the backend."""
        return tuple(self.to_device(a) if isinstance(a, np.ndarray) else a for a in args)

    def run(self, name: str, *args: Any) -> Any:
        """Kernel ``name`` on ``args`` (host arrays, copied to the backend); checks that the
        kernel left its array arguments unchanged; returns the results on the host."""
        on_device = self.device(*args)
        out = self.kernels[name](*on_device)
        for a, d in zip(args, on_device, strict=True):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(
                    self.to_host(d), a, err_msg=f"{name} modified an input"
                )
        if isinstance(out, tuple):
            return tuple(self.to_host(o) for o in out)
        return self.to_host(out)

    def assert_close(self, got: np.ndarray, want: np.ndarray, dtype: Any, what: str = "") -> None:
        """Same shape and dtype (the input dtype), the same non-finite entries, and finite
        values within the dtype's tolerance, scaled to ``want``'s magnitude."""
        assert got.shape == want.shape, what
        assert got.dtype == want.dtype == np.dtype(dtype), f"{what}: {got.dtype}, {want.dtype}"
        if want.size == 0:
            return
        finite = np.isfinite(want)
        np.testing.assert_array_equal(np.isfinite(got), finite, err_msg=what)
        np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=what)
        magnitude = float(np.abs(want[finite]).max(initial=0.0))
        scale = max(1.0, magnitude) if self.at_least_one else (magnitude or 1.0)
        rtol = RTOL[np.dtype(dtype)]
        np.testing.assert_allclose(
            got[finite], want[finite], rtol=rtol, atol=self.atol_factor * rtol * scale, err_msg=what
        )

    @staticmethod
    def assert_equal(got: np.ndarray, want: np.ndarray, what: str = "") -> None:
        """Exactly ``want``: shape, dtype and every value (NaN where ``want`` has NaN)."""
        assert got.shape == want.shape and got.dtype == want.dtype, what
        np.testing.assert_array_equal(got, want, err_msg=what)


def make(name: str) -> FastBackend:
    """The FastBackend ``name`` ("numba" or "cupy"); skips the test where it cannot run."""
    reason = minicnn.unavailable_reason(name)
    if reason is not None:
        pytest.skip(f"the {name} kernels cannot run here: {reason}")
    if name == "numba":
        module = importlib.import_module("minicnn.kernels.numba_cpu")
        return FastBackend(name, module.KERNELS, module.DIRECT, np.copy, np.asarray, 1.0, True)
    import cupy

    module = importlib.import_module("minicnn.kernels.cuda")
    return FastBackend(name, module.KERNELS, module.DIRECT, cupy.asarray, cupy.asnumpy, 0.1, False)
