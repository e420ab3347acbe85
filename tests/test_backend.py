"""The backend switch: set_backend, use_backend, get_backend, available_backends,
unavailable_reason, MINICNN_BACKEND, op_backend, xp() and kernel()."""

import os
import subprocess
import sys

import numpy as np
import pytest

import minicnn
from minicnn import backend

VALID = r"expected one of 'numpy', 'numba', 'cupy'"
NO_CUPY = minicnn.unavailable_reason("cupy") is not None


@pytest.fixture
def restore_default():
    """Put the global backend back after a test that calls set_backend."""
    previous = minicnn.get_backend()
    yield
    minicnn.set_backend(previous)


def test_available_backends_here():
    names = minicnn.available_backends()
    assert names[:2] == ["numpy", "numba"]
    assert set(names) <= set(minicnn.BACKENDS)
    assert minicnn.BACKENDS == ("numpy", "numba", "cupy")
    assert minicnn.unavailable_reason("numpy") is None
    assert minicnn.unavailable_reason("numba") is None
    assert ("cupy" in names) == (minicnn.unavailable_reason("cupy") is None)


@pytest.mark.skipif(not NO_CUPY, reason="cupy can run here")
def test_unavailable_reason_for_cupy_says_how_to_get_it():
    reason = minicnn.unavailable_reason("cupy")
    assert isinstance(reason, str)
    assert "minicnn[gpu]" in reason or "cupy-cuda13x" in reason or "CUDA device" in reason


@pytest.mark.skipif(not NO_CUPY, reason="cupy can run here")
def test_set_backend_cupy_without_cupy_raises_with_the_reason(restore_default):
    before = minicnn.get_backend()
    with pytest.raises(RuntimeError, match="backend 'cupy' is not available: ") as info:
        minicnn.set_backend("cupy")
    assert minicnn.unavailable_reason("cupy") in str(info.value)
    assert minicnn.get_backend() == before
    with pytest.raises(RuntimeError, match="backend 'cupy' is not available"):
        with minicnn.use_backend("cupy"):
            pass
    with pytest.raises(RuntimeError, match="backend 'cupy' is not available"):
        minicnn.zeros(2, backend="cupy")


def test_set_and_get_backend(restore_default):
    minicnn.set_backend("numba")
    assert minicnn.get_backend() == "numba"
    assert minicnn.zeros(2).backend == "numba"
    assert minicnn.tensor([1.0]).backend == "numba"
    minicnn.set_backend("numpy")
    assert minicnn.get_backend() == "numpy"
    assert minicnn.ones(2).backend == "numpy"


def test_use_backend_restores_on_exit():
    before = minicnn.get_backend()
    other = "numba" if before == "numpy" else "numpy"
    with minicnn.use_backend(other) as name:
        assert name == other
        assert minicnn.get_backend() == other
        assert minicnn.randn(2).backend == other
        with minicnn.use_backend(before):
            assert minicnn.get_backend() == before
        assert minicnn.get_backend() == other
    assert minicnn.get_backend() == before


def test_use_backend_restores_after_an_exception():
    before = minicnn.get_backend()
    other = "numba" if before == "numpy" else "numpy"
    with pytest.raises(KeyError):
        with minicnn.use_backend(other):
            raise KeyError("inside")
    assert minicnn.get_backend() == before


@pytest.mark.parametrize("bad", ["torch", "NumPy", "", None, 3])
def test_unknown_backend_names_list_the_valid_ones(restore_default, bad):
    with pytest.raises(ValueError, match=rf"name: {VALID}, got {bad!r}"):
        minicnn.set_backend(bad)
    with pytest.raises(ValueError, match=rf"name: {VALID}, got {bad!r}"):
        with minicnn.use_backend(bad):
            pass
    with pytest.raises(ValueError, match=rf"name: {VALID}"):
        minicnn.unavailable_reason(bad)
    if bad:  # an empty name means "the current backend" for factories
        with pytest.raises(ValueError, match=rf"backend: {VALID}, got {bad!r}"):
            minicnn.tensor([1.0], backend=bad)
        with pytest.raises(ValueError, match=rf"backend: {VALID}, got {bad!r}"):
            minicnn.zeros(2, backend=bad)


def test_ops_run_on_the_backend_of_their_inputs():
    x = minicnn.tensor([1.0, -2.0], backend="numba", requires_grad=True)
    with minicnn.use_backend("numpy"):
        y = (x * 2).relu().sum()
        assert y.backend == "numba"
        y.backward()
    assert x.grad.backend == "numba"
    np.testing.assert_array_equal(x.grad.numpy(), [2, 0])


def test_op_backend_is_current_inside_an_op_and_restored_after():
    seen = []

    class Probe(minicnn.Function):
        def forward(self, x):
            seen.append(backend.current())
            return x * 1

        def backward(self, gy):
            seen.append(backend.current())
            return gy

    with minicnn.use_backend("numpy"):
        x = minicnn.tensor([1.0], backend="numba", requires_grad=True)
        Probe.apply(x).sum().backward()
        assert backend.current() == "numpy"
    assert seen == ["numba", "numba"]


def test_xp_and_kernel():
    assert backend.xp("numpy") is np and backend.xp("numba") is np
    from minicnn.kernels import numpy_ref

    assert backend.kernel("conv2d_forward", "numpy") is numpy_ref.KERNELS["conv2d_forward"]
    with minicnn.use_backend("numpy"):
        assert backend.kernel("conv2d_forward") is numpy_ref.KERNELS["conv2d_forward"]
    with pytest.raises(KeyError, match="kernel_name: backend 'numpy' has no kernel 'nope'"):
        backend.kernel("nope", "numpy")


def _run_python(code, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "MINICNN_BACKEND"}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120
    )


def test_minicnn_backend_environment_variable_is_honoured():
    code = "import minicnn; print(minicnn.get_backend(), minicnn.zeros(1).backend)"
    assert _run_python(code, MINICNN_BACKEND="numba").stdout.split() == ["numba", "numba"]
    assert _run_python(code, MINICNN_BACKEND=" NUMBA ").stdout.split() == ["numba", "numba"]
    assert _run_python(code).stdout.split() == ["numpy", "numpy"]


def test_an_invalid_minicnn_backend_gives_a_clear_error():
    result = _run_python("import minicnn", MINICNN_BACKEND="tensorflow")
    assert result.returncode != 0
    assert (
        f"ValueError: MINICNN_BACKEND: {VALID.replace(chr(92), '')}, got 'tensorflow'"
        in result.stderr
    )


def test_a_backend_that_must_compile_says_so_once_when_its_table_loads(monkeypatch, capsys):
    if minicnn.unavailable_reason("numba"):
        pytest.skip(f"backend 'numba' unavailable: {minicnn.unavailable_reason('numba')}")
    from minicnn.kernels import numba_cpu

    monkeypatch.delitem(backend._kernel_tables, "numba", raising=False)
    monkeypatch.setattr(numba_cpu, "compile_notice", lambda: "compiling kernels for numba...")
    first = backend.kernel("conv2d_forward", "numba")
    assert backend.kernel("conv2d_forward", "numba") is first
    assert capsys.readouterr().err == "minicnn: compiling kernels for numba...\n"

    monkeypatch.delitem(backend._kernel_tables, "numba")
    monkeypatch.setattr(numba_cpu, "compile_notice", lambda: None)  # a warm cache
    backend.kernel("conv2d_forward", "numba")
    assert capsys.readouterr().err == ""
