"""matmul: every combination of 1-D, 2-D and batched operands (with broadcast batch axes),
checked by gradcheck and against NumPy, and its shape errors."""

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import broadcast_pairs, seeds, values

import minicnn

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

sizes = st.integers(1, 4)


@settings(max_examples=examples(20))
@given(n=sizes, k=sizes, m=sizes, seed=seeds())
def test_matmul_vectors_and_matrices(backend_name, n, k, m, seed):
    cases = [((k,), (k,)), ((k,), (k, m)), ((n, k), (k,)), ((n, k), (k, m))]
    for sa, sb in cases:
        a, b = values(seed, sa), values(seed + 1, sb)
        check_op(minicnn.matmul, a, b, ref=np.matmul)
        check_op(lambda x, y: x @ y, a, b, ref=np.matmul)


@settings(max_examples=examples(20))
@given(batch=broadcast_pairs(min_dims=1, max_dims=2), n=sizes, k=sizes, m=sizes, seed=seeds())
def test_batched_matmul_broadcasts_batch_axes(backend_name, batch, n, k, m, seed):
    a = values(seed, batch[0] + (n, k))
    b = values(seed + 1, batch[1] + (k, m))
    check_op(minicnn.matmul, a, b, ref=np.matmul)


@settings(max_examples=examples(20))
@given(batch=st.lists(st.integers(1, 3), min_size=1, max_size=2), n=sizes, k=sizes, seed=seeds())
def test_batched_matmul_with_a_vector(backend_name, batch, n, k, seed):
    batch = tuple(batch)
    stack_a = values(seed, batch + (n, k))
    stack_b = values(seed, batch + (k, n))
    v = values(seed + 1, (k,))
    check_op(minicnn.matmul, stack_a, v, ref=np.matmul)  # (..., n, k) @ (k,)
    check_op(minicnn.matmul, v, stack_b, ref=np.matmul)  # (k,) @ (..., k, n)


def test_matmul_gradient_by_hand(backend_name):
    a = minicnn.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)  # (3, 2)
    b = minicnn.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]], requires_grad=True)  # (2, 3)
    (a @ b).sum().backward()
    # d sum(a @ b) / da[i, k] = sum_j b[k, j];  / db[k, j] = sum_i a[i, k]
    np.testing.assert_array_equal(a.grad.numpy(), [[0, 3]] * 3)
    np.testing.assert_array_equal(b.grad.numpy(), [[9, 9, 9], [12, 12, 12]])


def test_matmul_keeps_float32(backend_name):
    a = minicnn.randn(2, 3, requires_grad=True)
    b = minicnn.randn(3, 4, requires_grad=True)
    y = a @ b
    assert y.dtype == np.float32 and y.backend == backend_name
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_matmul_rejects_an_inner_size_mismatch(backend_name):
    with pytest.raises(
        ValueError,
        match=r"matmul: inner sizes differ: input has shape \(2, 3\) \(k=3\) and other has shape \(4, 5\) \(k=4\)",
    ):
        minicnn.zeros(2, 3) @ minicnn.zeros(4, 5)
    with pytest.raises(
        ValueError, match=r"input has shape \(3,\) \(k=3\) and other has shape \(2,\) \(k=2\)"
    ):
        minicnn.matmul(minicnn.zeros(3), minicnn.zeros(2))


def test_matmul_rejects_batch_axes_that_do_not_broadcast(backend_name):
    with pytest.raises(
        ValueError, match=r"matmul \(batch axes\): shapes \(2,\) and \(3,\) do not broadcast"
    ):
        minicnn.zeros(2, 4, 5) @ minicnn.zeros(3, 5, 6)


def test_matmul_rejects_0d_and_non_tensors(backend_name):
    with pytest.raises(
        ValueError, match="matmul: other must have at least 1 dimension, got a 0-d tensor"
    ):
        minicnn.matmul(minicnn.zeros(2), minicnn.tensor(1.0))
    with pytest.raises(TypeError, match="matmul: input must be a Tensor, got list"):
        minicnn.matmul([1.0, 2.0], minicnn.zeros(2))
