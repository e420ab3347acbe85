"""Tensor factories: shapes in both spellings, dtypes, backends, requires_grad, arange."""

import numpy as np
import pytest

import minicnn

SIZED = {
    "zeros": (minicnn.zeros, lambda a: np.all(a == 0)),
    "ones": (minicnn.ones, lambda a: np.all(a == 1)),
    "randn": (minicnn.randn, lambda a: np.all(np.isfinite(a))),
    "rand": (minicnn.rand, lambda a: np.all((a >= 0) & (a < 1))),
}


@pytest.mark.parametrize("name", list(SIZED))
def test_sized_factories(backend_name, name):
    factory, check = SIZED[name]
    for t in (factory(2, 3), factory((2, 3)), factory([2, 3])):
        assert t.shape == (2, 3)
        assert t.dtype == np.float32
        assert t.backend == backend_name
        assert not t.requires_grad and t.is_leaf
        assert check(t.numpy())
    assert factory(4).shape == (4,)
    assert factory().shape == ()
    assert factory(0, 3).shape == (0, 3)
    t = factory(2, dtype="float64", requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad


@pytest.mark.parametrize("name", list(SIZED))
def test_factories_on_an_explicit_backend(name):
    factory = SIZED[name][0]
    with minicnn.use_backend("numpy"):
        assert factory(2, backend="numba").backend == "numba"
    with minicnn.use_backend("numba"):
        assert factory(2, backend="numpy").backend == "numpy"


def test_integer_zeros_and_ones(backend_name):
    assert minicnn.zeros(2, dtype="int64").dtype == np.int64
    assert minicnn.ones(2, dtype=minicnn.bool_).tolist() == [True, True]
    with pytest.raises(TypeError, match="requires_grad: only floating-point tensors"):
        minicnn.zeros(2, dtype="int64", requires_grad=True)


def test_random_factories_need_a_float_dtype(backend_name):
    with pytest.raises(TypeError, match="dtype: randn makes floating-point samples; got int64"):
        minicnn.randn(2, dtype="int64")
    with pytest.raises(TypeError, match="dtype: rand makes floating-point samples; got int32"):
        minicnn.rand(2, dtype="int32")


def test_full(backend_name):
    t = minicnn.full((2, 3), 1.5)
    assert t.shape == (2, 3) and t.dtype == np.float32 and t.backend == backend_name
    assert np.all(t.numpy() == 1.5)
    assert minicnn.full(4, -2.0).tolist() == [-2.0] * 4
    assert minicnn.full([1, 2], 7, dtype="int64").tolist() == [[7, 7]]
    assert minicnn.full((2,), 0.5, requires_grad=True).requires_grad


@pytest.mark.parametrize("name", ["zeros_like", "ones_like"])
def test_like_factories_copy_shape_dtype_and_backend(name):
    factory = getattr(minicnn, name)
    fill = 0 if name == "zeros_like" else 1
    for src in (minicnn.randn(2, 3, dtype="float64", backend="numba"), minicnn.tensor([[1, 2]])):
        t = factory(src)
        assert t.shape == src.shape and t.dtype == src.dtype and t.backend == src.backend
        assert np.all(t.numpy() == fill)
        assert not t.requires_grad
    x = minicnn.randn(3)
    assert factory(x, dtype="float64").dtype == np.float64
    assert factory(x, requires_grad=True).requires_grad
    assert factory(x).numpy() is not x.numpy()


def test_arange(backend_name):
    t = minicnn.arange(5)
    assert t.dtype == np.int64 and t.tolist() == [0, 1, 2, 3, 4] and t.backend == backend_name
    assert minicnn.arange(2, 8, 3).tolist() == [2, 5]
    assert minicnn.arange(5, 0, -2).tolist() == [5, 3, 1]
    f = minicnn.arange(0, 1, 0.25)
    assert f.dtype == np.float32 and f.tolist() == [0, 0.25, 0.5, 0.75]
    assert minicnn.arange(3.0).dtype == np.float32
    assert minicnn.arange(3, dtype="float64").dtype == np.float64
    assert minicnn.arange(0).shape == (0,)
    assert minicnn.arange(3, dtype="float64", requires_grad=True).requires_grad
    assert minicnn.arange(3, backend="numba").backend == "numba"
    with pytest.raises(ValueError, match="step: expected a non-zero number, got 0"):
        minicnn.arange(0, 3, 0)


@pytest.mark.parametrize("bad", [(-1, 2), (2.5,), ("2",), (True,)])
def test_sizes_must_be_non_negative_ints(backend_name, bad):
    with pytest.raises(ValueError, match=r"size: expected non-negative ints, got"):
        minicnn.zeros(*bad)
    with pytest.raises(ValueError, match=r"size: expected non-negative ints, got"):
        minicnn.randn(bad)


def test_factories_accept_numpy_ints(backend_name):
    assert minicnn.ones(np.int64(2), np.int32(3)).shape == (2, 3)
