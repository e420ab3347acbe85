"""linear: gradcheck on (N, in) and (N, T, in) inputs with and without bias, the forward
against x @ w.T + b, and argument errors."""

import numpy as np
import pytest
from helpers import check_op
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import as_tensor, fast_mode, host, seeds, uniform

import minicnn
import minicnn.nn.functional as F


def linear_ref(x, w, b):
    y = x @ w.T
    return y if b is None else y + b


@settings(max_examples=20)
@given(
    lead=st.sampled_from([(1,), (3,), (2, 3), (3, 1)]),  # (N,) or (N, T)
    n_in=st.integers(1, 4),
    n_out=st.integers(1, 4),
    bias=st.booleans(),
    seed=seeds(),
)
def test_linear_gradcheck(backend_name, lead, n_in, n_out, bias, seed):
    x = uniform(seed, lead + (n_in,))
    w = uniform(seed + 1, (n_out, n_in))
    b = uniform(seed + 2, (n_out,)) if bias else None
    inputs = [x.shape, w.shape] + ([(n_out,)] if bias else [])
    y = check_op(F.linear, x, w, b, ref=linear_ref, fast_mode=fast_mode(inputs, lead + (n_out,)))
    assert y.shape == lead + (n_out,)


def test_linear_on_a_single_vector(backend_name):
    check_op(F.linear, uniform(1, (3,)), uniform(2, (2, 3)), uniform(3, (2,)), ref=linear_ref)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_forward_matches_numpy(backend_name, dtype, rtol):
    x, w, b = (
        uniform(s, shape).astype(dtype) for s, shape in [(4, (5, 6, 7)), (5, (3, 7)), (6, (3,))]
    )
    y = F.linear(as_tensor(x), as_tensor(w), as_tensor(b))
    assert y.dtype == dtype and y.backend == backend_name and y.shape == (5, 6, 3)
    np.testing.assert_allclose(host(y), linear_ref(x, w, b), rtol=rtol, atol=rtol)


BAD_ARGUMENTS = {
    "wrong in_features": (
        (2, 4),
        (3, 5),
        None,
        r"linear: input: expected last dimension 5 \(weight.shape\[1\]\), got input of shape \(2, 4\)",
    ),
    "wrong in_features of (N, T, in)": (
        (2, 3, 4),
        (3, 5),
        None,
        r"linear: input: expected last dimension 5 .* \(2, 3, 4\)",
    ),
    "1-D weight": ((2, 4), (4,), None, r"linear: weight: expected a 2-D tensor .* \(4,\)"),
    "bias of the wrong shape": (
        (2, 4),
        (3, 4),
        (4,),
        r"linear: bias: expected shape \(3,\), got \(4,\)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_arguments(backend_name, case):
    x_shape, w_shape, b_shape, match = BAD_ARGUMENTS[case]
    b = None if b_shape is None else as_tensor(np.ones(b_shape))
    with pytest.raises(ValueError, match=match):
        F.linear(as_tensor(np.ones(x_shape)), as_tensor(np.ones(w_shape)), b)


def test_not_a_tensor_is_a_type_error(backend_name):
    with pytest.raises(TypeError, match=r"linear: input and weight must be Tensors"):
        F.linear(np.ones((2, 3)), as_tensor(np.ones((4, 3))))


def test_mixed_dtypes_are_a_type_error(backend_name):
    x, w = as_tensor(np.ones((2, 3), np.float32)), as_tensor(np.ones((4, 3)))
    with pytest.raises(TypeError, match=r"float32 and float64"):
        F.linear(x, w)


def test_mixed_backends_are_a_type_error():
    if minicnn.unavailable_reason("numba") is not None:
        pytest.skip("needs the numba backend")
    x = minicnn.tensor(np.ones((2, 3)), backend="numba")
    w = minicnn.tensor(np.ones((4, 3)), backend="numpy")
    with pytest.raises(TypeError, match=r"'numba'.*'numpy'"):
        F.linear(x, w)
