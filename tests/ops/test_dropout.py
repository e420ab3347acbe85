"""dropout and dropout2d: gradcheck with a fixed mask, identities, seeded reproducibility, the
statistics of the mask, whole-channel masks, one mask on every backend, argument errors."""

import numpy as np
import pytest
from helpers import check_op
from hypothesis import given, settings
from hypothesis import strategies as st
from minicnn.kernels import numpy_ref as R
from strategies import as_tensor, host, seeds, uniform

import minicnn
import minicnn.nn.functional as F
from minicnn.random import draw_seed

DROPOUTS = {"dropout": F.dropout, "dropout2d": F.dropout2d}


def seeded(op, k, p):
    """``op`` with ``manual_seed(k)`` before each call, so every evaluation (gradcheck calls the
    function many times) draws the same mask."""

    def fn(x):
        minicnn.manual_seed(k)
        return op(x, p)

    return fn


@pytest.mark.parametrize("name", list(DROPOUTS))
@settings(max_examples=20)
@given(
    shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2)),
    p=st.sampled_from([0.2, 0.5, 0.8]),
    k=st.integers(0, 1000),
    seed=seeds(),
)
def test_dropout_gradcheck(backend_name, name, shape, p, k, seed):
    check_op(seeded(DROPOUTS[name], k, p), uniform(seed, shape))


def test_mask_and_scale_follow_the_counter_based_hash(backend_name):
    x = uniform(1, (3, 4, 5, 6))
    minicnn.manual_seed(11)
    seed = draw_seed()  # the one seed a dropout call draws
    mask = R.dropout_mask(x.shape, 0.3, seed)
    minicnn.manual_seed(11)
    y = F.dropout(as_tensor(x), 0.3)
    np.testing.assert_allclose(host(y), x * mask / 0.7, rtol=1e-15)
    minicnn.manual_seed(11)
    y2 = F.dropout2d(as_tensor(x), 0.3)
    mask2 = R.dropout_mask((3, 4, 1, 1), 0.3, seed)
    np.testing.assert_allclose(host(y2), x * mask2 / 0.7, rtol=1e-15)


@pytest.mark.parametrize("name", list(DROPOUTS))
def test_p_zero_and_eval_are_the_identity(backend_name, name):
    op = DROPOUTS[name]
    x = as_tensor(uniform(2, (2, 3, 4, 4)), requires_grad=True)
    assert op(x, 0.0) is x
    assert op(x, 0) is x
    assert op(x, 0.5, training=False) is x
    assert op(x, 0.99, False) is x


@pytest.mark.parametrize("name", list(DROPOUTS))
def test_same_seed_same_mask_other_seed_other_mask(backend_name, name):
    op = DROPOUTS[name]
    x = as_tensor(np.ones((4, 16, 4, 4)))
    masks = {}
    for k in (3, 3, 4):
        minicnn.manual_seed(k)
        masks.setdefault(k, []).append(host(op(x, 0.5)) != 0)
    np.testing.assert_array_equal(masks[3][0], masks[3][1])
    assert (masks[3][0] != masks[4][0]).any()
    # two calls in a row draw two seeds, so two different masks
    minicnn.manual_seed(3)
    first, second = host(op(x, 0.5)) != 0, host(op(x, 0.5)) != 0
    assert (first != second).any()


@pytest.mark.parametrize("name", list(DROPOUTS))
def test_mask_is_identical_on_every_backend(backend_name, name):
    op = DROPOUTS[name]
    x = uniform(5, (4, 8, 5, 5))
    with minicnn.use_backend("numpy"):
        minicnn.manual_seed(123)
        expected = host(op(as_tensor(x), 0.4))
    minicnn.manual_seed(123)
    y = op(as_tensor(x), 0.4)
    assert y.backend == backend_name
    np.testing.assert_array_equal(host(y) != 0, expected != 0)
    np.testing.assert_allclose(host(y), expected, rtol=1e-15)


N_STAT = 200_000


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_fraction_zeroed_and_mean_preserved(backend_name, p):
    x = uniform(6, (N_STAT,), 0.5, 1.5)
    minicnn.manual_seed(7)
    y = host(F.dropout(as_tensor(x), p))
    zeroed = (y == 0).mean()
    assert abs(zeroed - p) < 5 * np.sqrt(p * (1 - p) / N_STAT)
    # y_i - x_i = x_i (m_i / (1 - p) - 1) has mean 0 and variance x_i^2 p / (1 - p)
    se = np.sqrt((x**2).sum() * p / (1 - p)) / N_STAT
    assert abs(y.mean() - x.mean()) < 5 * se
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-12)


def test_dropout2d_zeroes_whole_channels(backend_name):
    p = 0.5
    x = uniform(8, (16, 64, 3, 2), 0.5, 1.5)  # no zeros of its own
    minicnn.manual_seed(9)
    y = host(F.dropout2d(as_tensor(x), p))
    planes = (y != 0).reshape(16, 64, -1)
    dropped, kept = ~planes.any(axis=2), planes.all(axis=2)
    assert (dropped | kept).all()  # each channel entirely kept or entirely zeroed
    channels = 16 * 64
    assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / channels)
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-12)


def test_dropout_keeps_float32(backend_name):
    x = as_tensor(uniform(10, (4, 4)).astype(np.float32), requires_grad=True)
    y = F.dropout(x, 0.5)
    assert y.dtype == np.float32 and y.backend == backend_name
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(host(x.grad), np.where(host(y) != 0, np.float32(2), 0))


@pytest.mark.parametrize("name", list(DROPOUTS))
@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, True])
def test_bad_probability(backend_name, name, p):
    x = as_tensor(np.ones((2, 2, 2, 2)))
    with pytest.raises(
        ValueError, match=rf"{name}: p: expected a probability in \[0, 1\), got {p}"
    ):
        DROPOUTS[name](x, p)


@pytest.mark.parametrize("name", list(DROPOUTS))
def test_input_not_a_tensor_is_a_type_error(name):
    with pytest.raises(TypeError, match=rf"{name}: input must be a Tensor, got ndarray"):
        DROPOUTS[name](np.ones((2, 2, 2, 2)), 0.5)


def test_dropout2d_needs_4d_input(backend_name):
    with pytest.raises(ValueError, match=r"dropout2d: input: expected a 4-D .* got shape \(2, 3\)"):
        F.dropout2d(as_tensor(np.ones((2, 3))), 0.5)
