"""Every backend exports every kernel of the contract, with the contract's parameter names,
and keeps its rules (kernels never import minicnn; an empty batch gives empty results).

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


def test_an_empty_batch_gives_empty_results(fast_backend):
    """N = 0 is the one empty size the contract allows: empty outputs, a zero weight gradient."""
    from minicnn.kernels import numpy_ref as R

    x, w, gy = np.zeros((0, 3, 5, 5)), np.ones((4, 3, 3, 3)), np.zeros((0, 4, 3, 3))
    idx = np.zeros((0, 3, 2, 2), np.int64)
    calls = [
        ("conv2d_forward", (x, w, None, 1, 1, 0, 0, 1, 1, 1)),
        ("conv2d_backward_input", (gy, w, 5, 5, 1, 1, 0, 0, 1, 1, 1)),
        ("conv2d_backward_weight", (gy, x, 3, 3, 1, 1, 0, 0, 1, 1, 1)),
        ("maxpool2d_forward", (x, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2)),
        ("maxpool2d_backward", (gy[:, :3, :2, :2], idx, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1)),
        ("avgpool2d_forward", (x, 2, 2, 2, 2, 0, 0, 2, 2, 1)),
        ("avgpool2d_backward", (gy[:, :3, :2, :2], 5, 5, 2, 2, 2, 2, 0, 0, 1)),
        ("adaptive_avgpool2d_forward", (x, 2, 2)),
        ("adaptive_avgpool2d_backward", (gy[:, :3, :2, :2], 5, 5)),
        ("adaptive_maxpool2d_forward", (x, 2, 2)),
        ("adaptive_maxpool2d_backward", (gy[:, :3, :2, :2], idx, 5, 5)),
        ("batchnorm_forward_eval", (np.zeros((0, 3, 4)), *np.ones((4, 3)), 1e-5)),
        ("residual_add_forward", (np.zeros((0, 3)), np.zeros((0, 3)), 1)),
        ("residual_add_backward", (np.zeros((0, 3)), np.zeros((0, 3)), 1)),
    ]
    for name, args in calls:
        got, want = fast_backend.run(name, *args), R.KERNELS[name](*args)
        for g, r in zip(*((o if isinstance(o, tuple) else (o,)) for o in (got, want)), strict=True):
            fast_backend.assert_equal(g, r, name)
