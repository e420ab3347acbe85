"""NaN, inf, -inf, empty batches and zero-size dimensions give PyTorch's results, on every
backend: reductions, softmax and log-softmax, cross-entropy and batch norm. (Pooling is in
test_pool.py, the optimizers in tests/optim/test_special_values.py.)

The expected values are PyTorch's, written out from its documented semantics and formulas
(IEEE arithmetic: NaN propagates, inf - inf is NaN): ``torch.sum`` of nothing is 0 and
``torch.mean`` of nothing NaN; ``torch.amax``/``amin`` and ``argmax``/``argmin`` raise when a
reduced dimension is empty and return an empty result when only another one is; ``argmax``
counts NaN as the largest value; ``var`` with no degree of freedom left is NaN; softmax is
``exp(x - max) / sum``; cross-entropy with mean reduction is the weighted sum over the total
target weight, so an empty batch (or every target ignored) gives 0 / 0 = NaN, with a zero
gradient; batch norm of an empty input is an empty output and leaves the running statistics
alone. NumPy warns about the 0 / 0s, which are the point here, so those warnings are silenced.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import as_tensor, host, seeds, uniform, with_specials

import minicnn
import minicnn.nn.functional as F

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

nan, inf = np.nan, np.inf


def t(values, requires_grad: bool = False) -> minicnn.Tensor:
    return as_tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def same(actual, expected) -> None:
    """Equal, NaN where NaN is expected, and of the expected shape."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = host(actual)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


# Reductions.


@pytest.mark.parametrize(
    "fn, values, expected",
    [
        (minicnn.sum, [1.0, nan, 2.0], nan),
        (minicnn.sum, [inf, -inf], nan),
        (minicnn.sum, [inf, 1.0], inf),
        (minicnn.mean, [-inf, 1.0], -inf),
        (minicnn.mean, [inf, -inf], nan),
        (minicnn.max, [1.0, nan, 2.0], nan),
        (minicnn.max, [-inf, -inf], -inf),
        (minicnn.min, [inf, nan], nan),
        (minicnn.min, [inf, 3.0], 3.0),
        (minicnn.var, [1.0, nan], nan),
        (minicnn.var, [1.0, inf], nan),  # inf - mean(inf) = nan
        (minicnn.var, [2.0], nan),  # n - correction = 0
        (minicnn.std, [-inf, 0.0], nan),
    ],
)
def test_reductions_of_special_values(backend_name, fn, values, expected):
    same(fn(t(values)), expected)


def test_var_and_std_with_no_correction_of_one_value_are_zero(backend_name):
    same(minicnn.var(t([5.0]), correction=0), 0.0)
    same(minicnn.std(t([5.0]), correction=0), 0.0)


def test_arg_reductions_count_nan_as_the_extreme(backend_name):
    assert minicnn.argmax(t([1.0, nan, 3.0, nan])).item() == 1  # the first NaN
    assert minicnn.argmin(t([1.0, -inf, nan])).item() == 2
    assert minicnn.argmax(t([-inf, -inf])).item() == 0
    assert minicnn.argmax(t([[1.0, inf], [nan, 0.0]]), dim=1).tolist() == [1, 0]


def test_reductions_of_nothing(backend_name):
    empty = t(np.zeros(0))
    same(minicnn.sum(empty), 0.0)
    same(minicnn.mean(empty), nan)
    same(minicnn.var(empty), nan)
    same(minicnn.std(empty), nan)
    rows = t(np.zeros((3, 0)))  # three rows of nothing
    same(rows.sum(dim=1), [0.0, 0.0, 0.0])
    same(rows.mean(dim=1), [nan, nan, nan])
    same(rows.sum(dim=0), np.zeros(0))
    same(rows.max(dim=0).values, np.zeros(0))  # the reduced dim is not empty: an empty result
    same(rows.amax(dim=0), np.zeros(0))
    assert minicnn.argmax(rows, dim=0).shape == (0,)


@pytest.mark.parametrize("fn", [minicnn.max, minicnn.min, minicnn.argmax, minicnn.argmin])
def test_extremes_over_an_empty_dim_are_errors(backend_name, fn):
    with pytest.raises(ValueError, match=r"dim 1: expected a non-zero size .* \(3, 0\)"):
        fn(t(np.zeros((3, 0))), 1)
    with pytest.raises(ValueError, match=r"expected a non-empty tensor, got shape \(3, 0\)"):
        fn(t(np.zeros((3, 0))))


def test_gradients_of_empty_reductions(backend_name):
    x = t(np.zeros((0, 4)), requires_grad=True)
    (x.sum() + x.mean(dim=0).sum()).backward()
    assert x.grad.shape == (0, 4)


# Softmax and log-softmax.


@pytest.mark.parametrize(
    "values, softmax, log_softmax",
    [
        ([1.0, nan, 2.0], [nan, nan, nan], [nan, nan, nan]),
        ([1.0, -inf], [1.0, 0.0], [0.0, -inf]),  # exp(-inf) = 0 takes no share
        ([-inf, -inf], [nan, nan], [nan, nan]),  # x - max = -inf - -inf
        ([inf, 1.0], [nan, nan], [nan, nan]),  # x - max = inf - inf
    ],
)
def test_softmax_of_special_values(backend_name, values, softmax, log_softmax):
    same(F.softmax(t(values), 0), softmax)
    same(F.log_softmax(t(values), 0), log_softmax)


def test_log_softmax_gradient_ignores_a_minus_inf_logit(backend_name):
    x = t([[0.0, -inf, 0.0]], requires_grad=True)
    F.log_softmax(x, 1)[0, 0].backward()
    same(x.grad, [[0.5, 0.0, -0.5]])  # d/dx of x0 - log(e^x0 + e^x2): e^-inf adds nothing


@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((0, 3), 1), ((2, 0, 3), 0)])
def test_softmax_of_an_empty_tensor_is_empty(backend_name, shape, dim):
    x = t(np.zeros(shape), requires_grad=True)
    for fn in (F.softmax, F.log_softmax):
        y = fn(x, dim)
        assert y.shape == shape
        y.sum().backward()
        assert x.grad.shape == shape


# Cross-entropy.


def test_cross_entropy_with_special_logits(backend_name):
    logits = t([[1.0, nan, 0.0], [2.0, -inf, 0.0], [-inf, 0.0, 0.0], [inf, 0.0, 0.0]])
    target = minicnn.tensor([0, 0, 0, 1])
    losses = host(F.cross_entropy(logits, target, reduction="none"))
    assert np.isnan(losses[0])  # a NaN logit poisons its row
    np.testing.assert_allclose(losses[1], np.log(np.exp(2.0) + 1.0) - 2.0, rtol=1e-14)
    assert losses[2] == inf  # the target's logit is -inf: probability 0
    assert np.isnan(losses[3])  # inf - inf
    assert np.isnan(host(F.cross_entropy(logits, target)))


def test_cross_entropy_gradient_of_a_minus_inf_class_is_zero(backend_name):
    x = t([[2.0, -inf, 0.0]], requires_grad=True)
    F.cross_entropy(x, minicnn.tensor([0])).backward()
    p = np.exp([2.0, 0.0]) / np.exp([2.0, 0.0]).sum()
    np.testing.assert_allclose(host(x.grad), [[p[0] - 1, 0.0, p[1]]], rtol=1e-14)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 3.0]])
def test_cross_entropy_of_an_empty_batch(backend_name, label_smoothing, weight):
    x = t(np.zeros((0, 3)), requires_grad=True)
    target = minicnn.tensor(np.zeros(0, np.int64))
    kw = dict(label_smoothing=label_smoothing, weight=None if weight is None else t(weight))
    same(F.cross_entropy(x, target, **kw), nan)  # 0 / 0, as PyTorch
    same(F.cross_entropy(x, target, reduction="sum", **kw), 0.0)
    same(F.cross_entropy(x, target, reduction="none", **kw), np.zeros(0))
    F.cross_entropy(x, target, reduction="sum", **kw).backward()
    assert x.grad.shape == (0, 3)


def test_cross_entropy_with_every_target_ignored(backend_name):
    x = t(np.ones((2, 3)), requires_grad=True)
    target = minicnn.tensor([-100, -100])
    loss = F.cross_entropy(x, target)
    same(loss, nan)  # no target weight at all: 0 / 0
    loss.backward()
    same(x.grad, np.zeros((2, 3)))  # ignored rows get no gradient, NaN or not
    same(F.cross_entropy(x, target, reduction="sum"), 0.0)
    same(F.nll_loss(F.log_softmax(x, 1), target), nan)


# Batch norm.


def test_batch_norm_training_with_nan_poisons_only_its_channel(backend_name):
    x = np.array([[1.0, 2.0], [nan, 4.0], [3.0, 0.0], [5.0, 1.0]])
    rm, rv = t(np.zeros(2)), t(np.ones(2))
    y = host(F.batch_norm(t(x), rm, rv, training=True))
    assert np.isnan(y[:, 0]).all()
    col = x[:, 1]
    np.testing.assert_allclose(y[:, 1], (col - col.mean()) / np.sqrt(col.var() + 1e-5), rtol=1e-12)
    assert np.isnan(host(rm)[0]) and np.isnan(host(rv)[0])
    assert np.isfinite(host(rm)[1]) and np.isfinite(host(rv)[1])


@pytest.mark.parametrize("special", [inf, -inf])
def test_batch_norm_training_with_an_infinity_gives_nan_for_its_channel(backend_name, special):
    x = np.array([[1.0, 2.0], [special, 4.0], [3.0, 0.0]])
    y = host(F.batch_norm(t(x), None, None, training=True))
    assert np.isnan(y[:, 0]).all() and np.isfinite(y[:, 1]).all()


def test_batch_norm_eval_with_special_values_is_elementwise(backend_name):
    x = np.array([[nan, 1.0], [inf, -inf], [2.0, 3.0]])
    y = host(F.batch_norm(t(x), t([0.0, 1.0]), t([4.0, 1.0])))
    scale = 1 / np.sqrt(np.array([4.0, 1.0]) + 1e-5)
    expected = np.array([[nan, 0.0], [inf, -inf], [2.0 * scale[0], 2.0 * scale[1]]])
    np.testing.assert_allclose(y, expected, rtol=1e-12)  # NaN and the infinities exactly


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4), (0, 3, 2, 2), (5, 3, 0)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_an_empty_input_is_empty(backend_name, shape, training):
    x = t(np.zeros(shape), requires_grad=True)
    w, b = t(np.ones(3), requires_grad=True), t(np.zeros(3), requires_grad=True)
    rm, rv = t(np.full(3, 0.5)), t(np.full(3, 2.0))
    y = F.batch_norm(x, rm, rv, w, b, training=training)
    assert y.shape == shape
    same(rm, np.full(3, 0.5))  # nothing seen: the running statistics stay
    same(rv, np.full(3, 2.0))
    y.sum().backward()
    assert x.grad.shape == shape
    same(w.grad, np.zeros(3))
    same(b.grad, np.zeros(3))


def test_batch_norm_of_zero_channels_is_empty(backend_name):
    y = F.batch_norm(t(np.zeros((4, 0))), None, None, training=True)
    assert y.shape == (4, 0)


# Every backend agrees with NumPy's reading of the same formulas, special values included.


@settings(max_examples=15)
@given(seed=seeds(), data=st.data(), dim=st.integers(0, 1))
def test_softmax_cross_entropy_and_batch_norm_with_drawn_special_values(
    backend_name, seed, data, dim
):
    x = data.draw(with_specials(uniform(seed, (4, 3)), max_count=2))
    with np.errstate(all="ignore"):
        shifted = x - x.max(axis=dim, keepdims=True)
        softmax = np.exp(shifted) / np.exp(shifted).sum(axis=dim, keepdims=True)
        centred = x - x.mean(axis=0)
        bn = centred / np.sqrt((centred**2).mean(axis=0) + 1e-5)
    np.testing.assert_allclose(host(F.softmax(t(x), dim)), softmax, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(host(F.batch_norm(t(x), None, None, training=True)), bn, rtol=1e-10)
    # a row's loss is NaN exactly when the row holds NaN or inf (inf - inf in the softmax)
    losses = host(F.cross_entropy(t(x), minicnn.tensor([0, 1, 2, 0]), reduction="none"))
    poisoned = np.isnan(x).any(axis=1) | np.isposinf(x).any(axis=1)
    np.testing.assert_array_equal(np.isnan(losses), poisoned)
