"""chunk / split / unbind / flip / unflatten / t / repeat / clone and the *_as spellings:
values against NumPy, gradients by gradcheck."""

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import seeds, shapes, values

import minicnn


@settings(max_examples=examples(15))
@given(shape=shapes(min_dims=1, max_dims=3), seed=seeds(), data=st.data())
def test_repeat(backend_name, shape, seed, data):
    extra = data.draw(st.integers(0, 1))
    reps = tuple(data.draw(st.integers(0, 3)) for _ in range(len(shape) + extra))
    x = values(seed, shape)
    check_op(lambda t: t.repeat(*reps), x, ref=lambda a: np.tile(a, reps))


def test_split_chunk_unbind_match_numpy(backend_name):
    x = np.arange(30.0).reshape(5, 6)
    t = minicnn.tensor(x, dtype="float64", requires_grad=True)
    parts = minicnn.split(t, 2)
    assert [p.shape for p in parts] == [(2, 6), (2, 6), (1, 6)]
    parts = t.split([1, 5], dim=1)
    np.testing.assert_array_equal(parts[1].numpy(), x[:, 1:])
    assert [c.shape[0] for c in t.chunk(3)] == [2, 2, 1]  # ceil(5 / 3) = 2 each
    assert [c.shape[1] for c in minicnn.chunk(t, 4, dim=1)] == [2, 2, 2]  # fewer, as PyTorch
    rows = t.unbind(1)
    assert len(rows) == 6 and rows[2].tolist() == x[:, 2].tolist()
    check_op(lambda a: sum((p * (i + 1)).sum() for i, p in enumerate(a.split(2))), x)
    with pytest.raises(ValueError, match=r"sizes \[1, 2\] add up to 3, but dim 0 has size 5"):
        t.split([1, 2])


def test_flip_t_unflatten_clone(backend_name):
    x = np.arange(6.0).reshape(2, 3)
    check_op(lambda a: a.flip(1), x, ref=lambda a: a[:, ::-1])
    check_op(lambda a: minicnn.flip(a, (0, 1)), x, ref=lambda a: a[::-1, ::-1])
    check_op(lambda a: a.t(), x, ref=lambda a: a.T)
    assert minicnn.tensor([1.0, 2.0]).t().shape == (2,)
    check_op(lambda a: a.unflatten(1, (3, 1)), x, ref=lambda a: a.reshape(2, 3, 1))
    check_op(lambda a: a.clone() * 2, x, ref=lambda a: 2 * a)
    t = minicnn.tensor(x)
    c = t.clone()
    c[0, 0] = 100.0
    assert t[0, 0].item() == 0.0  # a copy
    assert t.contiguous() is t
    assert t.view_as(minicnn.zeros(3, 2)).shape == (3, 2)
    assert minicnn.zeros(1, 3).expand_as(t).shape == (2, 3)
    with pytest.raises(ValueError, match="t: expected a tensor with at most 2 dimensions"):
        minicnn.zeros(2, 2, 2).t()
    with pytest.raises(ValueError, match=r"unflatten: sizes: \(4, -1\) does not multiply to 3"):
        t.unflatten(1, (4, -1))
    with pytest.raises(ValueError, match="repeat: sizes: expected at least 2 values"):
        t.repeat(2)
