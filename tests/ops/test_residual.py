"""residual_add: gradcheck with and without the fused ReLU, the forward against x + shortcut,
gradient accumulation when one tensor is both summands, and argument errors."""

import numpy as np
import pytest
from helpers import check_op
from hypothesis import given, settings
from strategies import as_tensor, host, seeds, shapes, uniform

import minicnn
import minicnn.nn.functional as F


def away_from_kink(seed, shape):
    """(x, shortcut) with |x + shortcut| >= 0.1, so the fused ReLU has no kink within eps."""
    rng = np.random.default_rng(seed)
    total = rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    shortcut = rng.uniform(-1.0, 1.0, size=shape)
    return total - shortcut, shortcut


@pytest.mark.parametrize("relu", [False, True])
@settings(max_examples=20)
@given(shape=shapes(min_dims=1, max_dims=4, max_elements=24), seed=seeds())
def test_residual_add_gradcheck(backend_name, relu, shape, seed):
    x, s = away_from_kink(seed, shape)
    check_op(
        lambda x, s: F.residual_add(x, s, relu=relu),
        x,
        s,
        ref=lambda x, s: np.maximum(x + s, 0) if relu else x + s,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_is_the_sum_then_relu(backend_name, dtype):
    x, s = uniform(1, (2, 3, 4, 4)).astype(dtype), uniform(2, (2, 3, 4, 4)).astype(dtype)
    xt, st_ = as_tensor(x), as_tensor(s)
    plain, fused = F.residual_add(xt, st_), F.residual_add(xt, st_, relu=True)
    assert plain.dtype == fused.dtype == dtype and plain.backend == backend_name
    np.testing.assert_array_equal(host(plain), x + s)
    np.testing.assert_array_equal(host(fused), np.maximum(x + s, 0))
    np.testing.assert_array_equal(host(xt), x)  # the inputs are left alone
    np.testing.assert_array_equal(host(st_), s)


@pytest.mark.parametrize("relu", [False, True])
def test_both_inputs_receive_the_gradient(backend_name, relu):
    x, s = away_from_kink(3, (2, 5))
    xt, st_ = as_tensor(x, requires_grad=True), as_tensor(s, requires_grad=True)
    gy = uniform(4, (2, 5))
    F.residual_add(xt, st_, relu=relu).backward(as_tensor(gy))
    expected = gy * (x + s > 0) if relu else gy
    np.testing.assert_array_equal(host(xt.grad), expected)
    np.testing.assert_array_equal(host(st_.grad), expected)


def test_one_tensor_as_both_summands_accumulates(backend_name):
    x = as_tensor(uniform(5, (3, 4)), requires_grad=True)
    F.residual_add(x, x).sum().backward()
    np.testing.assert_array_equal(host(x.grad), 2.0)


def test_shape_mismatch_suggests_a_projection(backend_name, monkeypatch):
    x, s = as_tensor(np.ones((2, 8, 4, 4))), as_tensor(np.ones((2, 4, 8, 8)))
    monkeypatch.setattr(minicnn.backend, "kernel", lambda *a: pytest.fail("kernel looked up"))
    with pytest.raises(
        ValueError,
        match=r"residual_add: shortcut: expected the shape of x \(2, 8, 4, 4\), "
        r"got \(2, 4, 8, 8\).*projection",
    ):
        F.residual_add(x, s)


def test_not_a_tensor_is_a_type_error(backend_name):
    with pytest.raises(TypeError, match=r"residual_add: shortcut must be a Tensor, got ndarray"):
        F.residual_add(as_tensor(np.ones(3)), np.ones(3))


def test_mixed_dtypes_are_a_type_error(backend_name):
    x, s = as_tensor(np.ones(3, np.float32)), as_tensor(np.ones(3))
    with pytest.raises(TypeError, match=r"float32 and float64"):
        F.residual_add(x, s)


def test_mixed_backends_are_a_type_error():
    if minicnn.unavailable_reason("numba") is not None:
        pytest.skip("needs the numba backend")
    x = minicnn.tensor(np.ones(3), backend="numpy")
    s = minicnn.tensor(np.ones(3), backend="numba")
    with pytest.raises(TypeError, match=r"'numba'.*'numpy'"):
        F.residual_add(x, s)
