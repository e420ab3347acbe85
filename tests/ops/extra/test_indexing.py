"""gather / take_along_dim, masked_fill, sort / argsort / topk, unique: values against NumPy,
gradients by gradcheck."""

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import distinct, seeds, shapes, values

import minicnn


@settings(max_examples=examples(15))
@given(shape=shapes(min_dims=1), seed=seeds(), data=st.data())
def test_gather(backend_name, shape, seed, data):
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(0, len(shape) - 1))
    ishape = tuple(data.draw(st.integers(1, s)) if a != dim else data.draw(st.integers(1, 4))
                   for a, s in enumerate(shape))  # fmt: skip
    idx = rng.integers(0, shape[dim], ishape)  # repeats allowed: gradients add up

    def ref(x):
        out = np.empty(ishape)
        for pos in np.ndindex(*ishape):
            src = list(pos)
            src[dim] = idx[pos]
            out[pos] = x[tuple(src)]
        return out

    check_op(lambda t: minicnn.gather(t, dim, minicnn.tensor(idx)), values(seed, shape), ref=ref)


def test_take_along_dim_broadcasts_like_numpy(backend_name):
    x = np.arange(12.0).reshape(3, 4)
    idx = np.array([[0], [3], [1]])
    got = minicnn.take_along_dim(minicnn.tensor(x), minicnn.tensor(idx), 1)
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(x, idx, 1))


@settings(max_examples=examples(15))
@given(shape=shapes(min_dims=1), seed=seeds(), descending=st.booleans())
def test_sort_and_argsort(backend_name, shape, seed, descending):
    x = distinct(seed, shape)
    dim = int(np.random.default_rng(seed).integers(-len(shape), len(shape)))
    order = np.argsort(-x if descending else x, axis=dim)
    out = check_op(
        lambda t: minicnn.sort(t, dim, descending).values,
        x,
        ref=lambda a: np.take_along_axis(a, order, dim),
    )
    values_, indices = minicnn.tensor(x).sort(dim=dim, descending=descending)
    np.testing.assert_array_equal(indices.numpy(), order)
    np.testing.assert_array_equal(values_.numpy(), out.numpy())
    np.testing.assert_array_equal(
        minicnn.argsort(minicnn.tensor(x), dim, descending).numpy(), order
    )


@settings(max_examples=examples(15))
@given(shape=shapes(min_dims=1), seed=seeds(), largest=st.booleans(), data=st.data())
def test_topk(backend_name, shape, seed, largest, data):
    x = distinct(seed, shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, shape[dim]))
    order = np.take(np.argsort(-x if largest else x, axis=dim), range(k), axis=dim)
    check_op(
        lambda t: minicnn.topk(t, k, dim, largest).values,
        x,
        ref=lambda a: np.take_along_axis(a, order, dim),
    )
    np.testing.assert_array_equal(minicnn.tensor(x).topk(k, dim, largest).indices.numpy(), order)


def test_top5_accuracy_idiom(backend_name):
    logits = minicnn.tensor([[0.1, 0.5, 0.2, 0.9], [0.8, 0.1, 0.3, 0.2]])
    _, pred = logits.topk(2, 1, True, True)
    assert pred.tolist() == [[3, 1], [0, 2]]
    correct = pred.t().eq(minicnn.tensor([1, 3]).view(1, -1).expand_as(pred.t()))
    assert correct.shape == (2, 2) and correct[:2].reshape(-1).float().sum().item() == 1.0


def test_masked_fill(backend_name):
    x = np.array([[1.0, -2.0], [3.0, -4.0]])
    mask = minicnn.tensor(x < 0)
    check_op(lambda t: t.masked_fill(mask, 0.5), x, ref=lambda a: np.where(a < 0, 0.5, a))
    filled = minicnn.arange(3).masked_fill(minicnn.tensor([True, False, True]), 2.7)
    assert filled.dtype == np.int64 and filled.tolist() == [2, 1, 2]  # as PyTorch: truncated
    v = minicnn.tensor(5.0, dtype="float64", requires_grad=True)
    minicnn.masked_fill(minicnn.tensor(x), mask, v).sum().backward()
    assert v.grad.item() == 2.0
    with pytest.raises(TypeError, match="masked_fill: mask: expected a bool Tensor, got float32"):
        minicnn.zeros(2).masked_fill(minicnn.ones(2), 1.0)


def test_unique(backend_name):
    x = minicnn.tensor([3, 1, 3, 2])
    assert minicnn.unique(x).tolist() == [1, 2, 3]
    values_, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    assert inverse.tolist() == [2, 0, 2, 1] and counts.tolist() == [1, 1, 2]
    with pytest.raises(NotImplementedError, match="unique: dim is not supported"):
        x.unique(dim=0)


def test_indexing_errors(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(TypeError, match="gather: index: expected an integer Tensor"):
        minicnn.gather(x, 1, minicnn.zeros(2, 1))
    with pytest.raises(ValueError, match="gather: index: size 3 along dim 0 exceeds"):
        minicnn.gather(x, 1, minicnn.zeros(3, 1, dtype="int64"))
    with pytest.raises(ValueError, match=r"topk: k: expected an int in \[0, 3\]"):
        x.topk(4)
