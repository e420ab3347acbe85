"""Every backend exports every kernel of the contract, with the contract's parameter names.

The CUDA launchers import without CuPy, so their signatures are checked on every machine.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest
from minicnn.kernels import (
    DIRECT_NAMES,
    DIRECT_SIGNATURES,
    HEAVY_KERNELS,
    KERNEL_NAMES,
    KERNEL_SIGNATURES,
)

BACKEND_MODULES = ["numpy_ref", "numba_cpu", "cuda"]


def _parameters(fn) -> tuple[str, ...]:
    fn = getattr(fn, "py_func", fn)  # a Numba dispatcher wraps the Python function
    return tuple(inspect.signature(fn).parameters)


@pytest.mark.parametrize("module", BACKEND_MODULES)
def test_backend_exports_every_kernel_with_the_contract_signature(module):
    kernels = importlib.import_module(f"minicnn.kernels.{module}").KERNELS
    assert tuple(kernels) == KERNEL_NAMES or set(kernels) == set(KERNEL_NAMES)
    for name in KERNEL_NAMES:
        assert _parameters(kernels[name]) == KERNEL_SIGNATURES[name], name


@pytest.mark.parametrize("module", BACKEND_MODULES)
def test_backend_exports_every_direct_twin_with_the_contract_signature(module):
    """DIRECT holds a twin of every heavy kernel, with the fast kernel's parameters; each twin
    is called <name>_direct in the table and in its source, so a search finds all three."""
    direct = importlib.import_module(f"minicnn.kernels.{module}").DIRECT
    assert set(direct) == set(DIRECT_NAMES)
    for name in DIRECT_NAMES:
        assert _parameters(direct[name]) == DIRECT_SIGNATURES[name], name
        assert direct[name].__name__ == name


def test_every_heavy_kernel_has_a_twin_with_its_parameters():
    assert set(HEAVY_KERNELS) <= set(KERNEL_NAMES)
    assert DIRECT_NAMES == tuple(f"{name}_direct" for name in HEAVY_KERNELS)
    for name in HEAVY_KERNELS:
        assert DIRECT_SIGNATURES[f"{name}_direct"] == KERNEL_SIGNATURES[name]


@pytest.mark.parametrize("backend_name", ["numpy", "numba"])
def test_backend_kernel_fetches_a_direct_twin_by_its_name(backend_name):
    import minicnn
    from minicnn import backend

    package = {"numpy": "numpy_ref", "numba": "numba_cpu"}[backend_name]
    module = importlib.import_module(f"minicnn.kernels.{package}")
    with minicnn.use_backend(backend_name):
        assert backend.kernel("conv2d_forward") is module.KERNELS["conv2d_forward"]
        for name in DIRECT_NAMES:
            assert backend.kernel(name) is module.DIRECT[name]
    with pytest.raises(KeyError, match="conv2d_sideways_direct"):
        backend.kernel("conv2d_sideways_direct", backend_name)


def test_kernels_never_import_minicnn():
    """Imports go one way: kernels may import each other (minicnn.kernels...), never the rest."""
    import pathlib
    import re

    root = pathlib.Path(importlib.import_module("minicnn.kernels").__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) minicnn(?!\.kernels)", text, re.M), path


def test_batchnorm_update_running_matches_the_formula():
    from minicnn.kernels import numpy_ref

    rng = np.random.default_rng(0)
    rm, rv, mean = rng.standard_normal(5), rng.random(5) + 0.5, rng.standard_normal(5)
    var = rng.random(5) + 0.1
    invstd = 1 / np.sqrt(var + 1e-5)
    new_mean, new_var = numpy_ref.batchnorm_update_running(rm, rv, mean, invstd, 0.1, 1e-5, 8)
    np.testing.assert_allclose(new_mean, 0.9 * rm + 0.1 * mean, rtol=1e-14)
    np.testing.assert_allclose(new_var, 0.9 * rv + 0.1 * var * 8 / 7, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_update_running_numba_matches_reference(dtype):
    from minicnn.kernels import numba_cpu, numpy_ref

    rng = np.random.default_rng(1)
    args = [rng.random(7).astype(dtype) + 0.5 for _ in range(4)]
    ref = numpy_ref.batchnorm_update_running(*args, 0.3, 1e-5, 50)
    out = numba_cpu.batchnorm_update_running(*args, 0.3, 1e-5, 50)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    for a, b in zip(out, ref):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=rtol)


def _gpu_reason() -> str | None:
    import minicnn

    return minicnn.unavailable_reason("cupy")


@pytest.mark.parametrize(
    "module",
    ["numba_cpu", pytest.param("cuda", marks=pytest.mark.gpu)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("momentum", "dampening", "weight_decay", "nesterov", "maximize"),
    [(0.0, 0.0, 0.0, False, False), (0.9, 0.0, 5e-4, True, False), (0.5, 0.3, 0.1, False, True)],
)
def test_sgd_update_matches_reference(
    module, dtype, momentum, dampening, weight_decay, nesterov, maximize
):
    if module == "cuda" and _gpu_reason():
        pytest.skip(f"CUDA kernels need a GPU: {_gpu_reason()}")
    ref = importlib.import_module("minicnn.kernels.numpy_ref").KERNELS["sgd_update_"]
    fast = importlib.import_module(f"minicnn.kernels.{module}").KERNELS["sgd_update_"]
    to_dev, to_host = (lambda a: a), (lambda a: a)
    if module == "cuda":
        import cupy

        to_dev, to_host = cupy.asarray, cupy.asnumpy
    rng = np.random.default_rng(0)
    p = rng.standard_normal((3, 4, 5)).astype(dtype)
    buf = np.zeros_like(p)
    p_fast, buf_fast = to_dev(p.copy()), to_dev(buf.copy())
    for step in range(3):
        g = rng.standard_normal(p.shape).astype(dtype)
        args = (0.1, momentum, dampening, weight_decay, nesterov, maximize, step == 0)
        ref(p, g, buf if momentum else None, *args)
        fast(p_fast, to_dev(g), buf_fast if momentum else None, *args)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(to_host(p_fast), p, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(to_host(buf_fast), buf, rtol=rtol, atol=rtol)
